package chat.agentvault.bench;

import chat.agentvault.crypto.Sha256;
import chat.agentvault.crypto.internal.Sodium;
import com.goterl.lazysodium.SodiumJava;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * SHA-256 of 1 KiB: the JDK's {@link MessageDigest} (fresh per call, as {@link Sha256} does, and
 * reused), Bouncy Castle {@link SHA256Digest}, libsodium {@code crypto_hash_sha256}, and our {@link
 * Sha256#hash}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Sha256Bench {
  private static final int SIZE = 1024;

  private SodiumJava sodium;
  private byte[] input;
  private MessageDigest jdkReused;
  private SHA256Digest bc;

  @Setup
  public void setup() throws Exception {
    sodium = Sodium.get();
    input = Fixtures.bytes(SIZE, 15);
    jdkReused = MessageDigest.getInstance("SHA-256");
    bc = new SHA256Digest();
    byte[] expected = jdkFresh();
    Fixtures.checkEqual(expected, jdkReused(), "SHA-256 JDK reused");
    Fixtures.checkEqual(expected, bouncyCastle(), "SHA-256 BC");
    Fixtures.checkEqual(expected, sodium(), "SHA-256 libsodium");
    Fixtures.checkEqual(expected, sdk(), "SHA-256 SDK");
  }

  @Benchmark
  public byte[] jdkFresh() throws NoSuchAlgorithmException {
    return MessageDigest.getInstance("SHA-256").digest(input);
  }

  @Benchmark
  public byte[] jdkReused() {
    return jdkReused.digest(input);
  }

  @Benchmark
  public byte[] bouncyCastle() {
    bc.update(input, 0, input.length);
    byte[] out = new byte[32];
    bc.doFinal(out, 0);
    return out;
  }

  @Benchmark
  public byte[] sodium() {
    byte[] out = new byte[32];
    sodium.crypto_hash_sha256(out, input, input.length);
    return out;
  }

  @Benchmark
  public byte[] sdk() {
    return Sha256.hash(input);
  }
}
