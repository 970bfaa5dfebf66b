package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.Objects;

/** {@code PublicMessage} (§6.2): {@code membershipTag} is present iff the sender is a member. */
public record PublicMessage(FramedContent content, FramedContentAuthData auth, Bytes membershipTag) {
  public PublicMessage {
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(auth, "auth");
    if (content.sender().isMember() != (membershipTag != null)) {
      throw new IllegalArgumentException("membership tag present iff the sender is a member");
    }
  }

  public void encode(TlsWriter w) {
    content.encode(w);
    auth.encode(w, content.contentType());
    if (membershipTag != null) {
      w.opaque(membershipTag);
    }
  }

  public static PublicMessage decode(TlsReader r) {
    FramedContent content = FramedContent.decode(r);
    FramedContentAuthData auth = FramedContentAuthData.decode(r, content.contentType());
    Bytes tag = content.sender().isMember() ? r.opaque() : null;
    return new PublicMessage(content, auth, tag);
  }
}
