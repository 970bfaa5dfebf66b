package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/**
 * {@code Proposal} (§12.1). A proposal of an unknown type cannot be decoded (the struct carries no
 * length to skip it), so it is malformed.
 */
public sealed interface Proposal
    permits Proposal.Add,
        Proposal.Update,
        Proposal.Remove,
        Proposal.PreSharedKey,
        Proposal.ReInit,
        Proposal.ExternalInit,
        Proposal.GroupContextExtensions {

  int type();

  void encodeBody(TlsWriter w);

  default void encode(TlsWriter w) {
    w.u16(type());
    encodeBody(w);
  }

  default byte[] toByteArray() {
    return TlsWriter.encode(this, (w, p) -> p.encode(w));
  }

  static Proposal decode(TlsReader r) {
    int type = r.u16();
    switch (type) {
      case Codes.PROPOSAL_ADD:
        return new Add(KeyPackage.decode(r));
      case Codes.PROPOSAL_UPDATE:
        return new Update(LeafNode.decode(r));
      case Codes.PROPOSAL_REMOVE:
        return new Remove(r.u32Bits());
      case Codes.PROPOSAL_PSK:
        return new PreSharedKey(PreSharedKeyId.decode(r));
      case Codes.PROPOSAL_REINIT:
        return new ReInit(r.opaque(), r.u16(), r.u16(), Extension.decodeList(r));
      case Codes.PROPOSAL_EXTERNAL_INIT:
        return new ExternalInit(r.opaque());
      case Codes.PROPOSAL_GROUP_CONTEXT_EXTENSIONS:
        return new GroupContextExtensions(Extension.decodeList(r));
      default:
        throw new DecodeException("unsupported proposal type " + type);
    }
  }

  /** Decodes the body of a proposal whose type was read elsewhere (as in the vectors). */
  static Proposal decodeBody(int type, TlsReader r) {
    TlsWriter w = new TlsWriter(r.remaining() + 2);
    w.u16(type).raw(r.rest());
    return TlsReader.decodeAll(w.toByteArray(), Proposal::decode);
  }

  record Add(KeyPackage keyPackage) implements Proposal {
    public Add {
      Objects.requireNonNull(keyPackage, "keyPackage");
    }

    @Override
    public int type() {
      return Codes.PROPOSAL_ADD;
    }

    @Override
    public void encodeBody(TlsWriter w) {
      keyPackage.encode(w);
    }
  }

  record Update(LeafNode leafNode) implements Proposal {
    public Update {
      Objects.requireNonNull(leafNode, "leafNode");
    }

    @Override
    public int type() {
      return Codes.PROPOSAL_UPDATE;
    }

    @Override
    public void encodeBody(TlsWriter w) {
      leafNode.encode(w);
    }
  }

  record Remove(int removed) implements Proposal {
    @Override
    public int type() {
      return Codes.PROPOSAL_REMOVE;
    }

    @Override
    public void encodeBody(TlsWriter w) {
      w.u32(removed & 0xffffffffL);
    }
  }

  record PreSharedKey(PreSharedKeyId psk) implements Proposal {
    public PreSharedKey {
      Objects.requireNonNull(psk, "psk");
    }

    @Override
    public int type() {
      return Codes.PROPOSAL_PSK;
    }

    @Override
    public void encodeBody(TlsWriter w) {
      psk.encode(w);
    }
  }

  record ReInit(Bytes groupId, int version, int cipherSuite, List<Extension> extensions)
      implements Proposal {
    public ReInit {
      Objects.requireNonNull(groupId, "groupId");
      extensions = List.copyOf(extensions);
    }

    @Override
    public int type() {
      return Codes.PROPOSAL_REINIT;
    }

    @Override
    public void encodeBody(TlsWriter w) {
      w.opaque(groupId).u16(version).u16(cipherSuite);
      Extension.encodeList(w, extensions);
    }
  }

  record ExternalInit(Bytes kemOutput) implements Proposal {
    public ExternalInit {
      Objects.requireNonNull(kemOutput, "kemOutput");
    }

    @Override
    public int type() {
      return Codes.PROPOSAL_EXTERNAL_INIT;
    }

    @Override
    public void encodeBody(TlsWriter w) {
      w.opaque(kemOutput);
    }
  }

  record GroupContextExtensions(List<Extension> extensions) implements Proposal {
    public GroupContextExtensions {
      extensions = List.copyOf(extensions);
    }

    @Override
    public int type() {
      return Codes.PROPOSAL_GROUP_CONTEXT_EXTENSIONS;
    }

    @Override
    public void encodeBody(TlsWriter w) {
      Extension.encodeList(w, extensions);
    }
  }
}
