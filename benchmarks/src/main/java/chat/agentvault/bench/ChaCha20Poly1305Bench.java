package chat.agentvault.bench;

import chat.agentvault.crypto.internal.InsecureNonceAead;
import chat.agentvault.crypto.internal.Sodium;
import com.goterl.lazysodium.SodiumJava;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.modes.ChaCha20Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * ChaCha20-Poly1305 (RFC 8439) seal of 1 KiB with 32-byte associated data: libsodium {@code
 * crypto_aead_chacha20poly1305_ietf_encrypt}, Bouncy Castle {@link ChaCha20Poly1305}, the JDK's
 * {@code Cipher("ChaCha20-Poly1305")} (one instance re-initialised per call, and a fresh instance
 * per call), and our {@link InsecureNonceAead} (MLS suite 0x0003 / HPKE AEAD 0x0003). Counter
 * nonces: BC and the JDK refuse to encrypt twice under the same key and nonce.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ChaCha20Poly1305Bench {
  private static final int SIZE = 1024;

  private SodiumJava sodium;
  private byte[] key;
  private byte[] aad;
  private byte[] plaintext;
  private final byte[] nonce = new byte[12];
  private long counter;
  private KeyParameter bcKey;
  private ChaCha20Poly1305 bc;
  private SecretKeySpec jdkKey;
  private Cipher jdkCipher;
  private InsecureNonceAead sdk;

  @Setup
  public void setup() throws Exception {
    sodium = Sodium.get();
    key = Fixtures.bytes(32, 8);
    aad = Fixtures.bytes(32, 9);
    plaintext = Fixtures.bytes(SIZE, 10);
    bcKey = new KeyParameter(key);
    bc = new ChaCha20Poly1305();
    jdkKey = new SecretKeySpec(key, "ChaCha20");
    jdkCipher = Cipher.getInstance("ChaCha20-Poly1305");
    sdk = InsecureNonceAead.create(InsecureNonceAead.Algorithm.CHACHA20_POLY1305, key);

    counter = 0;
    byte[] expected = sodium();
    counter = 0;
    Fixtures.checkEqual(expected, bouncyCastle(), "ChaCha20-Poly1305 BC");
    counter = 0;
    Fixtures.checkEqual(expected, jdkReusedCipher(), "ChaCha20-Poly1305 JDK");
    counter = 0;
    Fixtures.checkEqual(expected, sdk(), "ChaCha20-Poly1305 SDK");
    counter = 1;
  }

  @Benchmark
  public byte[] sodium() {
    Fixtures.setCounter(nonce, ++counter);
    byte[] out = new byte[plaintext.length + 16];
    long[] outLen = new long[1];
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
        out, outLen, plaintext, plaintext.length, aad, aad.length, null, nonce, key);
    return out;
  }

  @Benchmark
  public byte[] bouncyCastle() throws InvalidCipherTextException {
    Fixtures.setCounter(nonce, ++counter);
    bc.init(true, new ParametersWithIV(bcKey, nonce));
    bc.processAADBytes(aad, 0, aad.length);
    byte[] out = new byte[plaintext.length + 16];
    int n = bc.processBytes(plaintext, 0, plaintext.length, out, 0);
    bc.doFinal(out, n);
    return out;
  }

  @Benchmark
  public byte[] jdkReusedCipher() throws GeneralSecurityException {
    Fixtures.setCounter(nonce, ++counter);
    jdkCipher.init(Cipher.ENCRYPT_MODE, jdkKey, new IvParameterSpec(nonce));
    jdkCipher.updateAAD(aad);
    return jdkCipher.doFinal(plaintext);
  }

  @Benchmark
  public byte[] jdkFreshCipher() throws GeneralSecurityException {
    Fixtures.setCounter(nonce, ++counter);
    Cipher c = Cipher.getInstance("ChaCha20-Poly1305");
    c.init(Cipher.ENCRYPT_MODE, jdkKey, new IvParameterSpec(nonce));
    c.updateAAD(aad);
    return c.doFinal(plaintext);
  }

  @Benchmark
  public byte[] sdk() throws GeneralSecurityException {
    Fixtures.setCounter(nonce, ++counter);
    return sdk.seal(nonce, aad, plaintext);
  }
}
