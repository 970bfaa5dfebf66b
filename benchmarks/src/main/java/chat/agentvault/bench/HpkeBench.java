package chat.agentvault.bench;

import chat.agentvault.crypto.Hpke;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.crypto.X25519PublicKey;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Our {@link Hpke} with exactly the inputs of {@link BcHpkeBench}: base mode, DHKEM(X25519,
 * HKDF-SHA256), HKDF-SHA256, single-shot seal and open of 1 KiB with 16-byte info and 32-byte
 * associated data; AES-128-GCM (as BC) and ChaCha20-Poly1305 (MLS suite 0x0003).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HpkeBench {
  private static final int SIZE = 1024;

  @Param({"AES_128_GCM", "CHACHA20_POLY1305"})
  public String aead;

  private Hpke hpke;
  private X25519PrivateKey recipient;
  private X25519PublicKey recipientPublic;
  private byte[] info;
  private byte[] aad;
  private byte[] plaintext;
  private Hpke.Sealed sealed;

  @Setup
  public void setup() throws Exception {
    hpke = Hpke.of(Hpke.Kem.DHKEM_X25519_HKDF_SHA256, Hpke.Kdf.HKDF_SHA256, Hpke.AeadId.valueOf(aead));
    recipient = hpke.deriveKeyPair(Fixtures.bytes(32, 21));
    recipientPublic = recipient.publicKey();
    info = Fixtures.bytes(16, 22);
    aad = Fixtures.bytes(32, 23);
    plaintext = Fixtures.bytes(SIZE, 24);
    sealed = seal();
    Fixtures.check(Arrays.equals(plaintext, open()), "HPKE round trip");
  }

  @Benchmark
  public Hpke.Sealed seal() throws GeneralSecurityException {
    return hpke.seal(recipientPublic, info, aad, plaintext);
  }

  @Benchmark
  public byte[] open() throws GeneralSecurityException {
    return hpke.open(sealed.enc(), recipient, info, aad, sealed.ciphertext());
  }
}
