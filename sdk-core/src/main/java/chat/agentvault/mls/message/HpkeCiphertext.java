package chat.agentvault.mls.message;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import java.util.Objects;

/** {@code HPKECiphertext} (§7.6). */
public record HpkeCiphertext(Bytes kemOutput, Bytes ciphertext) {
  public HpkeCiphertext {
    Objects.requireNonNull(kemOutput, "kemOutput");
    Objects.requireNonNull(ciphertext, "ciphertext");
  }

  public void encode(TlsWriter w) {
    w.opaque(kemOutput).opaque(ciphertext);
  }

  public static HpkeCiphertext decode(TlsReader r) {
    return new HpkeCiphertext(r.opaque(), r.opaque());
  }
}
