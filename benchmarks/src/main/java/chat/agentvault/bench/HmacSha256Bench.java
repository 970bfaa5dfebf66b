package chat.agentvault.bench;

import chat.agentvault.crypto.HmacSha256;
import chat.agentvault.crypto.internal.Sodium;
import com.goterl.lazysodium.SodiumJava;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * HMAC-SHA256 of 64 bytes under a 32-byte key: the JDK's {@link Mac} (getInstance + init per call,
 * as {@link HmacSha256#compute} does, and one initialised Mac reused), Bouncy Castle {@link HMac}
 * (initialised once), libsodium {@code crypto_auth_hmacsha256}, and our {@link HmacSha256#compute}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HmacSha256Bench {
  private static final int SIZE = 64;

  private SodiumJava sodium;
  private byte[] key;
  private byte[] data;
  private SecretKeySpec jdkKey;
  private Mac jdkReused;
  private HMac bc;

  @Setup
  public void setup() throws Exception {
    sodium = Sodium.get();
    key = Fixtures.bytes(32, 16);
    data = Fixtures.bytes(SIZE, 17);
    jdkKey = new SecretKeySpec(key, "HmacSHA256");
    jdkReused = Mac.getInstance("HmacSHA256");
    jdkReused.init(jdkKey);
    bc = new HMac(new SHA256Digest());
    bc.init(new KeyParameter(key));
    byte[] expected = jdkFresh();
    Fixtures.checkEqual(expected, jdkReused(), "HMAC JDK reused");
    Fixtures.checkEqual(expected, bouncyCastle(), "HMAC BC");
    Fixtures.checkEqual(expected, sodium(), "HMAC libsodium");
    Fixtures.checkEqual(expected, sdk(), "HMAC SDK");
  }

  @Benchmark
  public byte[] jdkFresh() throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(jdkKey);
    return mac.doFinal(data);
  }

  @Benchmark
  public byte[] jdkReused() {
    return jdkReused.doFinal(data);
  }

  @Benchmark
  public byte[] bouncyCastle() {
    bc.update(data, 0, data.length);
    byte[] out = new byte[32];
    bc.doFinal(out, 0); // resets to the keyed state
    return out;
  }

  @Benchmark
  public byte[] sodium() {
    byte[] out = new byte[32];
    sodium.crypto_auth_hmacsha256(out, data, data.length, key);
    return out;
  }

  @Benchmark
  public byte[] sdk() {
    return HmacSha256.compute(key, data);
  }
}
