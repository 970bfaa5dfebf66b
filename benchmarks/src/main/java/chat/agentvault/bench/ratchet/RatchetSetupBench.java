package chat.agentvault.bench.ratchet;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.ratchet.Decrypted;
import chat.agentvault.ratchet.PeerAddress;
import chat.agentvault.ratchet.PreKeyBundle;
import chat.agentvault.ratchet.Sessions;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Session setup from a bundle: Alice parses Bob's published bundle (identity binding and
 * signed-prekey signature verified), runs X3DH and the first ratchet step, encrypts a 1 KiB
 * initial message; Bob parses it, runs X3DH, his first DH ratchet step, decrypts and stores the
 * new session. Without a one-time prekey, as the Signal benchmarks beside it (so Bob need not
 * mint one per operation).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class RatchetSetupBench {
  DeviceIdentity aliceId;
  DeviceIdentity bobId;
  Sessions alice;
  Sessions bob;
  PeerAddress aliceAddress;
  PeerAddress bobAddress;
  byte[] plaintext;
  byte[] bundle;

  @Setup(Level.Trial)
  public void setup() {
    aliceId = DeviceIdentity.generate();
    bobId = DeviceIdentity.generate();
    alice = Sessions.builder(aliceId).build();
    bob = Sessions.builder(bobId).build();
    aliceAddress = new PeerAddress(aliceId.fingerprint(), 1);
    bobAddress = new PeerAddress(bobId.fingerprint(), 1);
    plaintext = Csprng.randomBytes(1024);
    bundle = bob.bundleWithoutOneTimePreKey().toBytes();
    if (!Arrays.equals(setupFromBundle().plaintext(), plaintext)
        || !setupFromBundle().newSession()) {
      throw new IllegalStateException("setup failed");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    alice.close();
    bob.close();
    aliceId.close();
    bobId.close();
  }

  @Benchmark
  public Decrypted setupFromBundle() {
    alice.start(bobAddress, PreKeyBundle.parse(bundle));
    byte[] initial = alice.encrypt(bobAddress, plaintext);
    return bob.decrypt(aliceAddress, initial);
  }
}
