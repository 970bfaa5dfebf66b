package chat.agentvault.bench;

import chat.agentvault.crypto.internal.InsecureNonceAead;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.GCMBlockCipher;
import org.bouncycastle.crypto.modes.GCMModeCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * AES-128-GCM seal of 1 KiB with 32-byte associated data: the JDK's {@code AES/GCM/NoPadding} with
 * a fresh {@link Cipher} per call (what {@link InsecureNonceAead} does) and with one re-initialised
 * instance (reference), Bouncy Castle's {@link GCMBlockCipher#newInstance} over {@link
 * AESEngine#newInstance} (pure Java in bcprov), and our {@link InsecureNonceAead} (MLS suite 0x0001
 * / HPKE AEAD 0x0001). libsodium 1.0.18 has AES-256-GCM only. Counter nonces: the JDK and BC refuse
 * to encrypt twice under the same key and nonce.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class AesGcmBench {
  private static final int SIZE = 1024;

  private byte[] aad;
  private byte[] plaintext;
  private final byte[] nonce = new byte[12];
  private long counter;
  private SecretKeySpec jdkKey;
  private Cipher jdkCipher;
  private KeyParameter bcKey;
  private GCMModeCipher bc;
  private InsecureNonceAead sdk;

  @Setup
  public void setup() throws Exception {
    byte[] key = Fixtures.bytes(16, 11);
    aad = Fixtures.bytes(32, 12);
    plaintext = Fixtures.bytes(SIZE, 13);
    jdkKey = new SecretKeySpec(key, "AES");
    jdkCipher = Cipher.getInstance("AES/GCM/NoPadding");
    bcKey = new KeyParameter(key);
    bc = GCMBlockCipher.newInstance(AESEngine.newInstance());
    sdk = InsecureNonceAead.create(InsecureNonceAead.Algorithm.AES_GCM, key);

    counter = 0;
    byte[] expected = jdkFreshCipher();
    counter = 0;
    Fixtures.checkEqual(expected, jdkReusedCipher(), "AES-GCM JDK reused");
    counter = 0;
    Fixtures.checkEqual(expected, bouncyCastle(), "AES-GCM BC");
    counter = 0;
    Fixtures.checkEqual(expected, sdk(), "AES-GCM SDK");
    counter = 1;
  }

  @Benchmark
  public byte[] jdkFreshCipher() throws GeneralSecurityException {
    Fixtures.setCounter(nonce, ++counter);
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.ENCRYPT_MODE, jdkKey, new GCMParameterSpec(128, nonce));
    c.updateAAD(aad);
    return c.doFinal(plaintext);
  }

  @Benchmark
  public byte[] jdkReusedCipher() throws GeneralSecurityException {
    Fixtures.setCounter(nonce, ++counter);
    jdkCipher.init(Cipher.ENCRYPT_MODE, jdkKey, new GCMParameterSpec(128, nonce));
    jdkCipher.updateAAD(aad);
    return jdkCipher.doFinal(plaintext);
  }

  @Benchmark
  public byte[] bouncyCastle() throws InvalidCipherTextException {
    Fixtures.setCounter(nonce, ++counter);
    bc.init(true, new AEADParameters(bcKey, 128, nonce));
    bc.processAADBytes(aad, 0, aad.length);
    byte[] out = new byte[plaintext.length + 16];
    int n = bc.processBytes(plaintext, 0, plaintext.length, out, 0);
    bc.doFinal(out, n);
    return out;
  }

  @Benchmark
  public byte[] sdk() throws GeneralSecurityException {
    Fixtures.setCounter(nonce, ++counter);
    return sdk.seal(nonce, aad, plaintext);
  }
}
