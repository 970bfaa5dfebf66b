package chat.agentvault.bench;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.hpke.HPKEContextWithEncapsulation;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Bouncy Castle's HPKE (RFC 9180), base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
 * AES-128-GCM: single-shot seal (SetupBaseS, which generates an ephemeral key pair and does one
 * X25519, then one AEAD seal) and open (SetupBaseR: one X25519, then one AEAD open) of 1 KiB, with
 * 16-byte info and 32-byte associated data. The reference for {@code chat.agentvault.crypto.Hpke},
 * whose benchmark is added once it is merged.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BcHpkeBench {
  private static final int SIZE = 1024;

  private HPKE hpke;
  private AsymmetricCipherKeyPair recipient;
  private AsymmetricKeyParameter recipientPublic;
  private byte[] info;
  private byte[] aad;
  private byte[] plaintext;
  private byte[] enc;
  private byte[] ciphertext;

  @Setup
  public void setup() throws Exception {
    hpke = new HPKE(HPKE.mode_base, HPKE.kem_X25519_SHA256, HPKE.kdf_HKDF_SHA256, HPKE.aead_AES_GCM128);
    recipient = hpke.deriveKeyPair(Fixtures.bytes(32, 21));
    recipientPublic = recipient.getPublic();
    info = Fixtures.bytes(16, 22);
    aad = Fixtures.bytes(32, 23);
    plaintext = Fixtures.bytes(SIZE, 24);
    byte[][] sealed = seal();
    ciphertext = sealed[0];
    enc = sealed[1];
    Fixtures.check(Arrays.equals(plaintext, open()), "BC HPKE round trip");
  }

  /** Returns {ciphertext, enc}. */
  @Benchmark
  public byte[][] seal() throws InvalidCipherTextException {
    HPKEContextWithEncapsulation ctx = hpke.setupBaseS(recipientPublic, info);
    return new byte[][] {ctx.seal(aad, plaintext), ctx.getEncapsulation()};
  }

  @Benchmark
  public byte[] open() throws InvalidCipherTextException {
    return hpke.setupBaseR(enc, recipient, info).open(aad, ciphertext);
  }
}
