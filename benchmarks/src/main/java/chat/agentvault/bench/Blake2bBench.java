package chat.agentvault.bench;

import chat.agentvault.crypto.Blake2b;
import chat.agentvault.crypto.internal.Sodium;
import com.goterl.lazysodium.SodiumJava;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.digests.Blake2bDigest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Unkeyed BLAKE2b-256 over inputs of 16 B to 1 KiB, to find where libsodium's {@code
 * crypto_generichash} (one JNA call) overtakes Bouncy Castle's pure-Java {@link Blake2bDigest}; the
 * crossover decides {@code Blake2b.SMALL_INPUT}. Bouncy Castle is measured as {@link Blake2b} uses
 * it (a new digest per call) and with one digest reused (reference). {@code sdk} is {@link
 * Blake2b#hash}, which routes inputs up to {@code SMALL_INPUT} bytes to Bouncy Castle.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Blake2bBench {
  @Param({"16", "32", "64", "128", "192", "256", "512", "1024"})
  public int size;

  private SodiumJava sodium;
  private byte[] input;
  private Blake2bDigest reused;

  @Setup
  public void setup() {
    sodium = Sodium.get();
    input = Fixtures.bytes(size, 14);
    reused = new Blake2bDigest(256);
    byte[] expected = sodium();
    Fixtures.checkEqual(expected, bouncyCastleFresh(), "BLAKE2b BC");
    Fixtures.checkEqual(expected, bouncyCastleReused(), "BLAKE2b BC reused");
    Fixtures.checkEqual(expected, sdk(), "BLAKE2b SDK");
  }

  @Benchmark
  public byte[] sodium() {
    byte[] out = new byte[32];
    sodium.crypto_generichash(out, 32, input, input.length, null, 0);
    return out;
  }

  @Benchmark
  public byte[] bouncyCastleFresh() {
    Blake2bDigest d = new Blake2bDigest(null, 32, null, null);
    d.update(input, 0, input.length);
    byte[] out = new byte[32];
    d.doFinal(out, 0);
    return out;
  }

  @Benchmark
  public byte[] bouncyCastleReused() {
    reused.update(input, 0, input.length);
    byte[] out = new byte[32];
    reused.doFinal(out, 0); // resets the digest
    return out;
  }

  @Benchmark
  public byte[] sdk() {
    return Blake2b.hash(input, 32);
  }
}
