package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/**
 * {@code LeafNode} (§7.2). {@code lifetime} is present only for source key_package, {@code
 * parentHash} only for source commit; both null otherwise.
 */
public record LeafNode(
    Bytes encryptionKey,
    Bytes signatureKey,
    Credential credential,
    Capabilities capabilities,
    int source,
    Lifetime lifetime,
    Bytes parentHash,
    List<Extension> extensions,
    Bytes signature) {
  public LeafNode {
    Objects.requireNonNull(encryptionKey, "encryptionKey");
    Objects.requireNonNull(signatureKey, "signatureKey");
    Objects.requireNonNull(credential, "credential");
    Objects.requireNonNull(capabilities, "capabilities");
    Objects.requireNonNull(signature, "signature");
    extensions = List.copyOf(extensions);
    switch (source) {
      case Codes.LEAF_SOURCE_KEY_PACKAGE:
        Objects.requireNonNull(lifetime, "lifetime");
        break;
      case Codes.LEAF_SOURCE_COMMIT:
        Objects.requireNonNull(parentHash, "parentHash");
        break;
      case Codes.LEAF_SOURCE_UPDATE:
        break;
      default:
        throw new IllegalArgumentException("invalid leaf node source " + source);
    }
  }

  /** A copy with another signature (or with the parent hash replaced, for commit leaves). */
  public LeafNode withSignature(Bytes newSignature) {
    return new LeafNode(
        encryptionKey, signatureKey, credential, capabilities, source, lifetime, parentHash,
        extensions, newSignature);
  }

  private void encodeBody(TlsWriter w) {
    w.opaque(encryptionKey).opaque(signatureKey);
    credential.encode(w);
    capabilities.encode(w);
    w.u8(source);
    if (source == Codes.LEAF_SOURCE_KEY_PACKAGE) {
      lifetime.encode(w);
    } else if (source == Codes.LEAF_SOURCE_COMMIT) {
      w.opaque(parentHash);
    }
    Extension.encodeList(w, extensions);
  }

  public void encode(TlsWriter w) {
    encodeBody(w);
    w.opaque(signature);
  }

  /**
   * {@code LeafNodeTBS} (§7.2): the body, then group id and leaf index for sources update and
   * commit ({@code groupId} and {@code leafIndex} ignored for key_package).
   */
  public byte[] toBeSigned(Bytes groupId, int leafIndex) {
    TlsWriter w = new TlsWriter(256);
    encodeBody(w);
    if (source != Codes.LEAF_SOURCE_KEY_PACKAGE) {
      w.opaque(groupId).u32(leafIndex & 0xffffffffL);
    }
    return w.toByteArray();
  }

  public static LeafNode decode(TlsReader r) {
    Bytes enc = r.opaque();
    Bytes sig = r.opaque();
    Credential cred = Credential.decode(r);
    Capabilities caps = Capabilities.decode(r);
    int source = r.u8();
    Lifetime lifetime = null;
    Bytes parentHash = null;
    switch (source) {
      case Codes.LEAF_SOURCE_KEY_PACKAGE:
        lifetime = Lifetime.decode(r);
        break;
      case Codes.LEAF_SOURCE_UPDATE:
        break;
      case Codes.LEAF_SOURCE_COMMIT:
        parentHash = r.opaque();
        break;
      default:
        throw new DecodeException("invalid leaf node source " + source);
    }
    List<Extension> ext = Extension.decodeList(r);
    Bytes signature = r.opaque();
    return new LeafNode(enc, sig, cred, caps, source, lifetime, parentHash, ext, signature);
  }
}
