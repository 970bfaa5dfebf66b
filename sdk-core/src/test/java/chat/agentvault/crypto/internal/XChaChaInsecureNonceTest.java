package chat.agentvault.crypto.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.crypto.Csprng;
import java.util.Random;
import javax.crypto.AEADBadTagException;
import org.bouncycastle.crypto.modes.XChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.api.Test;

/**
 * The ratchet's derived-nonce XChaCha20-Poly1305 (libsodium) against Bouncy Castle's independent
 * implementation, for many sizes, refusing a modified ciphertext or associated data.
 */
class XChaChaInsecureNonceTest {
  private static byte[] bc(boolean encrypt, byte[] key, byte[] nonce, byte[] ad, byte[] in) throws Exception {
    XChaCha20Poly1305 c = new XChaCha20Poly1305();
    c.init(encrypt, new AEADParameters(new KeyParameter(key), 128, nonce, ad));
    byte[] out = new byte[c.getOutputSize(in.length)];
    int n = c.processBytes(in, 0, in.length, out, 0);
    c.doFinal(out, n);
    return out;
  }

  @Test
  void agreesWithBouncyCastleAndRefusesModifications() throws Exception {
    Random r = new Random(5);
    for (int size : new int[] {0, 1, 15, 16, 17, 63, 64, 65, 1024, 4099, 70_000}) {
      byte[] key = Csprng.randomBytes(32);
      byte[] nonce = Csprng.randomBytes(24);
      byte[] ad = Csprng.randomBytes(r.nextInt(300));
      byte[] pt = Csprng.randomBytes(size);
      InsecureNonceAead aead = InsecureNonceAead.create(InsecureNonceAead.Algorithm.XCHACHA20_POLY1305, key);
      byte[] sealed = aead.seal(nonce, ad, pt);
      assertThat(sealed).as("size %d", size).isEqualTo(bc(true, key, nonce, ad, pt));
      assertThat(aead.open(nonce, ad, sealed)).isEqualTo(pt);
      byte[] bad = sealed.clone();
      bad[r.nextInt(bad.length)] ^= 1;
      assertThatThrownBy(() -> aead.open(nonce, ad, bad)).isInstanceOf(AEADBadTagException.class);
      byte[] badAd = ad.length == 0 ? new byte[] {0} : ad.clone();
      badAd[0] ^= 1;
      assertThatThrownBy(() -> aead.open(nonce, badAd, sealed)).isInstanceOf(AEADBadTagException.class);
    }
  }
}
