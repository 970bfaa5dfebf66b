package chat.agentvault.bench;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.XChaCha20Poly1305;
import chat.agentvault.crypto.internal.Sodium;
import com.goterl.lazysodium.SodiumJava;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * XChaCha20-Poly1305 seal (24-byte nonce, 32-byte associated data) of 1 KiB and 64 KiB: libsodium
 * {@code crypto_aead_xchacha20poly1305_ietf_encrypt}, Bouncy Castle's {@link
 * org.bouncycastle.crypto.modes.XChaCha20Poly1305} (1.87 has it: HChaCha20 subkey then
 * ChaCha20-Poly1305), and our {@link XChaCha20Poly1305#seal}, which also draws a 24-byte nonce from
 * {@code SecureRandom} and prepends it. The JDK has no XChaCha20.
 *
 * <p>The raw backends take a counter nonce (Bouncy Castle refuses to re-initialise for encryption
 * with the nonce it last used); both produce identical output for the same nonce.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class XChaCha20Poly1305Bench {
  @Param({"1024", "65536"})
  public int size;

  private SodiumJava sodium;
  private byte[] key;
  private byte[] aad;
  private byte[] plaintext;
  private final byte[] nonce = new byte[24];
  private long counter;
  private KeyParameter bcKey;
  private org.bouncycastle.crypto.modes.XChaCha20Poly1305 bc;
  private XChaCha20Poly1305 sdk;

  @Setup
  public void setup() throws Exception {
    sodium = Sodium.get();
    key = Fixtures.bytes(32, 5);
    aad = Fixtures.bytes(32, 6);
    plaintext = Fixtures.bytes(size, 7);
    bcKey = new KeyParameter(key);
    bc = new org.bouncycastle.crypto.modes.XChaCha20Poly1305();
    sdk = XChaCha20Poly1305.create(SecretBytes.copyOf(key));

    counter = 0;
    byte[] s = sodium();
    counter = 0;
    byte[] b = bouncyCastle();
    Fixtures.checkEqual(s, b, "XChaCha20-Poly1305 libsodium vs BC");
    byte[] sealed = sdk();
    Fixtures.check(Arrays.equals(plaintext, sdk.open(sealed, aad)), "XChaCha20-Poly1305 SDK round trip");
  }

  @Benchmark
  public byte[] sodium() {
    Fixtures.setCounter(nonce, ++counter);
    byte[] out = new byte[plaintext.length + 16];
    long[] outLen = new long[1];
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
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
  public byte[] sdk() {
    return sdk.seal(plaintext, aad);
  }
}
