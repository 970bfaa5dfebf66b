package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.Objects;

/**
 * {@code FramedContent} (§6): exactly one of {@code applicationData}, {@code proposal}, {@code
 * commit} is set, matching {@code contentType}.
 */
public record FramedContent(
    Bytes groupId,
    long epoch,
    Sender sender,
    Bytes authenticatedData,
    int contentType,
    Bytes applicationData,
    Proposal proposal,
    Commit commit) {
  public FramedContent {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(sender, "sender");
    Objects.requireNonNull(authenticatedData, "authenticatedData");
    boolean ok =
        switch (contentType) {
          case Codes.CONTENT_APPLICATION -> applicationData != null && proposal == null && commit == null;
          case Codes.CONTENT_PROPOSAL -> applicationData == null && proposal != null && commit == null;
          case Codes.CONTENT_COMMIT -> applicationData == null && proposal == null && commit != null;
          default -> false;
        };
    if (!ok) {
      throw new IllegalArgumentException("content does not match content type " + contentType);
    }
  }

  public void encode(TlsWriter w) {
    w.opaque(groupId).u64(epoch);
    sender.encode(w);
    w.opaque(authenticatedData).u8(contentType);
    encodeContent(w, contentType, applicationData, proposal, commit);
  }

  static void encodeContent(TlsWriter w, int type, Bytes app, Proposal proposal, Commit commit) {
    switch (type) {
      case Codes.CONTENT_APPLICATION -> w.opaque(app);
      case Codes.CONTENT_PROPOSAL -> proposal.encode(w);
      case Codes.CONTENT_COMMIT -> commit.encode(w);
      default -> throw new IllegalStateException("content type " + type);
    }
  }

  public static FramedContent decode(TlsReader r) {
    Bytes groupId = r.opaque();
    long epoch = r.u64();
    Sender sender = Sender.decode(r);
    Bytes aad = r.opaque();
    int type = r.u8();
    switch (type) {
      case Codes.CONTENT_APPLICATION:
        return new FramedContent(groupId, epoch, sender, aad, type, r.opaque(), null, null);
      case Codes.CONTENT_PROPOSAL:
        return new FramedContent(groupId, epoch, sender, aad, type, null, Proposal.decode(r), null);
      case Codes.CONTENT_COMMIT:
        return new FramedContent(groupId, epoch, sender, aad, type, null, null, Commit.decode(r));
      default:
        throw new DecodeException("invalid content type " + type);
    }
  }
}
