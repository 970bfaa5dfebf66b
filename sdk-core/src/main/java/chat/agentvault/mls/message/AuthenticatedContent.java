package chat.agentvault.mls.message;

import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.Objects;

/** {@code AuthenticatedContent} (§6.1): wire format, content and its auth data. */
public record AuthenticatedContent(int wireFormat, FramedContent content, FramedContentAuthData auth) {
  public AuthenticatedContent {
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(auth, "auth");
  }

  public void encode(TlsWriter w) {
    w.u16(wireFormat);
    content.encode(w);
    auth.encode(w, content.contentType());
  }

  public byte[] toByteArray() {
    return TlsWriter.encode(this, (w, a) -> a.encode(w));
  }

  public static AuthenticatedContent decode(TlsReader r) {
    int wf = r.u16();
    FramedContent c = FramedContent.decode(r);
    return new AuthenticatedContent(wf, c, FramedContentAuthData.decode(r, c.contentType()));
  }
}
