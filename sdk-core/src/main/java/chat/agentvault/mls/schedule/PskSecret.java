package chat.agentvault.mls.schedule;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.PreSharedKeyId;
import java.util.List;

/** psk_secret from a list of PSKs and their ids (RFC 9420 §8.4). */
public final class PskSecret {
  private PskSecret() {}

  /** A PSK id with its secret value. */
  public record Psk(PreSharedKeyId id, byte[] secret) {}

  /**
   * psk_extracted[i] = Extract(0, psk[i]); psk_input[i] = ExpandWithLabel(psk_extracted[i],
   * "derived psk", PSKLabel{id, index, count}, Nh); psk_secret[i+1] = Extract(psk_input[i],
   * psk_secret[i]) with psk_secret[0] = 0. With no PSKs the result is the zero vector.
   */
  public static byte[] compute(CipherSuite cs, List<Psk> psks) {
    int nh = cs.hashLength();
    byte[] secret = new byte[nh];
    int count = psks.size();
    if (count > 0xffff) {
      throw new IllegalArgumentException("too many PSKs: " + count);
    }
    for (int i = 0; i < count; i++) {
      Psk psk = psks.get(i);
      byte[] extracted = cs.extract(new byte[nh], psk.secret());
      TlsWriter label = new TlsWriter(64);
      psk.id().encode(label);
      label.u16(i).u16(count);
      byte[] input = MlsCrypto.expandWithLabel(cs, extracted, "derived psk", label.toByteArray(), nh);
      byte[] next = cs.extract(input, secret);
      SecretBytes.wipe(extracted);
      SecretBytes.wipe(input);
      SecretBytes.wipe(secret);
      secret = next;
    }
    return secret;
  }
}
