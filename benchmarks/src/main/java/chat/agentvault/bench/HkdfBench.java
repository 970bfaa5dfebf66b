package chat.agentvault.bench;

import chat.agentvault.crypto.Hkdf;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * HKDF-SHA256 (RFC 5869) extract + one 32-byte expand (32-byte salt and IKM, 16-byte info): our
 * JDK-based {@link Hkdf#derive}, Bouncy Castle {@link HKDFBytesGenerator}, and a hand-written
 * extract/expand over one reused JDK {@link Mac} (reference: what {@link Hkdf} would cost without a
 * {@code Mac.getInstance} per step). libsodium 1.0.18 has no HKDF ({@code crypto_kdf_hkdf_sha256}
 * arrived in 1.0.19).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HkdfBench {
  private byte[] salt;
  private byte[] ikm;
  private byte[] info;
  private HKDFBytesGenerator bc;
  private Mac jdkMac;

  @Setup
  public void setup() throws Exception {
    salt = Fixtures.bytes(32, 18);
    ikm = Fixtures.bytes(32, 19);
    info = Fixtures.bytes(16, 20);
    bc = new HKDFBytesGenerator(new SHA256Digest());
    jdkMac = Mac.getInstance("HmacSHA256");
    byte[] expected = sdk();
    Fixtures.checkEqual(expected, bouncyCastle(), "HKDF BC");
    Fixtures.checkEqual(expected, jdkMacReused(), "HKDF JDK Mac reused");
  }

  @Benchmark
  public byte[] sdk() {
    return Hkdf.derive(salt, ikm, info, 32);
  }

  @Benchmark
  public byte[] bouncyCastle() {
    bc.init(new HKDFParameters(ikm, salt, info));
    byte[] out = new byte[32];
    bc.generateBytes(out, 0, 32);
    return out;
  }

  @Benchmark
  public byte[] jdkMacReused() throws GeneralSecurityException {
    jdkMac.init(new SecretKeySpec(salt, "HmacSHA256"));
    byte[] prk = jdkMac.doFinal(ikm);
    jdkMac.init(new SecretKeySpec(prk, "HmacSHA256"));
    jdkMac.update(info);
    jdkMac.update((byte) 1);
    return jdkMac.doFinal(); // T(1) is exactly 32 bytes
  }
}
