package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.Objects;

/** {@code FramedContentAuthData} (§6.1): {@code confirmationTag} is present for commits only. */
public record FramedContentAuthData(Bytes signature, Bytes confirmationTag) {
  public FramedContentAuthData {
    Objects.requireNonNull(signature, "signature");
  }

  public void encode(TlsWriter w, int contentType) {
    w.opaque(signature);
    if (contentType == Codes.CONTENT_COMMIT) {
      w.opaque(Objects.requireNonNull(confirmationTag, "confirmationTag of a commit"));
    }
  }

  public static FramedContentAuthData decode(TlsReader r, int contentType) {
    Bytes sig = r.opaque();
    return new FramedContentAuthData(sig, contentType == Codes.CONTENT_COMMIT ? r.opaque() : null);
  }
}
