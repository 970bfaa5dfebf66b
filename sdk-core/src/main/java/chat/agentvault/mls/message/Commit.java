package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.List;
import java.util.Objects;

/** {@code Commit} (§12.4): proposals by value or by reference, and an optional UpdatePath. */
public record Commit(List<ProposalOrRef> proposals, UpdatePath path) {
  public Commit {
    proposals = List.copyOf(proposals);
  }

  /** {@code ProposalOrRef}: exactly one of {@code proposal} and {@code reference}. */
  public record ProposalOrRef(Proposal proposal, Bytes reference) {
    public ProposalOrRef {
      if ((proposal == null) == (reference == null)) {
        throw new IllegalArgumentException("either a proposal or a reference");
      }
    }

    public static ProposalOrRef of(Proposal p) {
      return new ProposalOrRef(Objects.requireNonNull(p, "proposal"), null);
    }

    public static ProposalOrRef ref(Bytes ref) {
      return new ProposalOrRef(null, Objects.requireNonNull(ref, "reference"));
    }

    public void encode(TlsWriter w) {
      if (proposal != null) {
        w.u8(Codes.PROPOSAL_OR_REF_PROPOSAL);
        proposal.encode(w);
      } else {
        w.u8(Codes.PROPOSAL_OR_REF_REFERENCE).opaque(reference);
      }
    }

    public static ProposalOrRef decode(TlsReader r) {
      int type = r.u8();
      if (type == Codes.PROPOSAL_OR_REF_PROPOSAL) {
        return of(Proposal.decode(r));
      }
      if (type == Codes.PROPOSAL_OR_REF_REFERENCE) {
        return ref(r.opaque());
      }
      throw new DecodeException("invalid ProposalOrRef type " + type);
    }
  }

  public void encode(TlsWriter w) {
    w.vector(proposals, (ww, p) -> p.encode(ww));
    w.optional(path, (ww, p) -> p.encode(ww));
  }

  public byte[] toByteArray() {
    return TlsWriter.encode(this, (w, c) -> c.encode(w));
  }

  public static Commit decode(TlsReader r) {
    return new Commit(r.vector(ProposalOrRef::decode), r.optional(UpdatePath::decode));
  }
}
