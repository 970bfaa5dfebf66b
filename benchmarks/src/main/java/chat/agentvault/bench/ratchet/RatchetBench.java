package chat.agentvault.bench.ratchet;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.ratchet.Decrypted;
import chat.agentvault.ratchet.PeerAddress;
import chat.agentvault.ratchet.RatchetConfig;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Our 1:1 sessions through the public API ({@link Sessions}, in-memory stores that keep serialized
 * bytes, so every message also serializes and saves the session record): a 1 KiB message encrypted
 * by one side, its wire bytes parsed and decrypted by the other. One operation is one message.
 *
 * <ul>
 *   <li>{@code oneWay}: always Alice to Bob (a symmetric-key step on each side per message).
 *   <li>{@code alternating}: the direction flips every message, so every message starts a new
 *       chain: a DH ratchet step on the receiver (three X25519 operations: one DH, one key
 *       generation, one DH).
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class RatchetBench {
  @Param({"false", "true"})
  public boolean headerEncryption;

  DeviceIdentity aliceId;
  DeviceIdentity bobId;
  Sessions alice;
  Sessions bob;
  PeerAddress aliceAddress;
  PeerAddress bobAddress;
  byte[] plaintext;
  boolean aliceTurn;

  @Setup(Level.Trial)
  public void setup() {
    aliceId = DeviceIdentity.generate();
    bobId = DeviceIdentity.generate();
    RatchetConfig config = RatchetConfig.builder().headerEncryption(headerEncryption).build();
    alice = Sessions.builder(aliceId).config(config).build();
    bob = Sessions.builder(bobId).config(config).build();
    aliceAddress = new PeerAddress(aliceId.fingerprint(), 1);
    bobAddress = new PeerAddress(bobId.fingerprint(), 1);
    plaintext = Csprng.randomBytes(1024);
    alice.start(bobAddress, bob.bundle());
    check(bob.decrypt(aliceAddress, alice.encrypt(bobAddress, plaintext)));
    check(alice.decrypt(bobAddress, bob.encrypt(aliceAddress, plaintext)));
    check(oneWay());
    check(alternating());
    check(alternating());
  }

  private void check(Decrypted d) {
    if (!Arrays.equals(d.plaintext(), plaintext)) {
      throw new IllegalStateException("round trip failed");
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
  public Decrypted oneWay() {
    byte[] wire = alice.encrypt(bobAddress, plaintext);
    return bob.decrypt(aliceAddress, wire);
  }

  @Benchmark
  public Decrypted alternating() {
    aliceTurn = !aliceTurn;
    if (aliceTurn) {
      return bob.decrypt(aliceAddress, alice.encrypt(bobAddress, plaintext));
    }
    return alice.decrypt(bobAddress, bob.encrypt(aliceAddress, plaintext));
  }
}
