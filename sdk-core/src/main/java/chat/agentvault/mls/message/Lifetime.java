package chat.agentvault.mls.message;

import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;

/** {@code Lifetime} (§7.2): seconds since the Unix epoch, uint64 (compare as unsigned). */
public record Lifetime(long notBefore, long notAfter) {
  public void encode(TlsWriter w) {
    w.u64(notBefore).u64(notAfter);
  }

  public static Lifetime decode(TlsReader r) {
    return new Lifetime(r.u64(), r.u64());
  }
}
