package chat.agentvault.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import javax.crypto.AEADBadTagException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class XChaCha20Poly1305Test {
  private final XChaCha20Poly1305 aead = newAead();

  private static XChaCha20Poly1305 newAead() {
    try (SecretBytes key = XChaCha20Poly1305.generateKey()) {
      return XChaCha20Poly1305.create(key);
    } catch (java.security.InvalidKeyException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void roundTripsAndCarriesFreshNonce() throws Exception {
    byte[] pt = "hello room".getBytes(StandardCharsets.UTF_8);
    byte[] aad = "header".getBytes(StandardCharsets.UTF_8);
    byte[] c1 = aead.seal(pt, aad);
    byte[] c2 = aead.seal(pt, aad);
    assertThat(c1).hasSize(pt.length + XChaCha20Poly1305.OVERHEAD);
    assertThat(c1).isNotEqualTo(c2); // a fresh random nonce per seal
    assertThat(aead.open(c1, aad)).isEqualTo(pt);
    assertThat(aead.open(c2, aad)).isEqualTo(pt);
  }

  @Property(tries = 200)
  void anyFlippedBitIsRejected(
      @ForAll @Size(max = 64) byte[] pt, @ForAll @Size(max = 16) byte[] aad, @ForAll int position)
      throws Exception {
    byte[] ct = aead.seal(pt, aad);
    int bit = Math.floorMod(position, ct.length * 8);
    ct[bit / 8] ^= (byte) (1 << (bit % 8));
    assertThatThrownBy(() -> aead.open(ct, aad)).isInstanceOf(AEADBadTagException.class);
  }

  @Test
  void wrongAssociatedDataOrShortInputIsRejected() {
    byte[] ct = aead.seal(new byte[] {1, 2, 3}, new byte[] {9});
    assertThatThrownBy(() -> aead.open(ct, new byte[] {8})).isInstanceOf(AEADBadTagException.class);
    assertThatThrownBy(() -> aead.open(new byte[39], null)).isInstanceOf(AEADBadTagException.class);
  }

  @Test
  void wrongKeyLengthIsRefused() {
    assertThatThrownBy(() -> XChaCha20Poly1305.create(SecretBytes.random(16)))
        .isInstanceOf(java.security.InvalidKeyException.class);
  }

  @Test
  void toStringShowsNoKey() {
    assertThat(aead.toString()).doesNotContainPattern("[0-9a-f]{8}");
  }
}
