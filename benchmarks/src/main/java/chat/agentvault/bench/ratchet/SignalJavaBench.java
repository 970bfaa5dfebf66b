package chat.agentvault.bench.ratchet;

import chat.agentvault.crypto.Csprng;
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
import org.openjdk.jmh.annotations.Warmup;
import org.whispersystems.libsignal.IdentityKeyPair;
import org.whispersystems.libsignal.SessionBuilder;
import org.whispersystems.libsignal.SessionCipher;
import org.whispersystems.libsignal.SignalProtocolAddress;
import org.whispersystems.libsignal.protocol.CiphertextMessage;
import org.whispersystems.libsignal.protocol.PreKeySignalMessage;
import org.whispersystems.libsignal.protocol.SignalMessage;
import org.whispersystems.libsignal.state.PreKeyBundle;
import org.whispersystems.libsignal.state.PreKeyRecord;
import org.whispersystems.libsignal.state.SignedPreKeyRecord;
import org.whispersystems.libsignal.state.impl.InMemorySignalProtocolStore;
import org.whispersystems.libsignal.util.KeyHelper;

/**
 * Reference: the pure-Java {@code org.whispersystems:signal-protocol-java:2.8.1} (GPLv3, only in
 * this benchmarks module) with its in-memory stores, doing the same work as {@link RatchetBench}
 * and {@link RatchetSetupBench}: 1 KiB messages encrypted, serialized, parsed and decrypted.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class SignalJavaBench {
  InMemorySignalProtocolStore aliceStore;
  InMemorySignalProtocolStore bobStore;
  InMemorySignalProtocolStore carolStore;
  SignalProtocolAddress aliceAddress = new SignalProtocolAddress("alice", 1);
  SignalProtocolAddress bobAddress = new SignalProtocolAddress("bob", 1);
  SignalProtocolAddress carolAddress = new SignalProtocolAddress("carol", 1);
  SessionCipher aliceCipher;
  SessionCipher bobCipher;
  SessionCipher bobFromCarol;
  PreKeyBundle bundleWithoutPreKey;
  byte[] plaintext;
  boolean aliceTurn;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    IdentityKeyPair aliceIk = KeyHelper.generateIdentityKeyPair();
    IdentityKeyPair bobIk = KeyHelper.generateIdentityKeyPair();
    aliceStore = new InMemorySignalProtocolStore(aliceIk, 1);
    bobStore = new InMemorySignalProtocolStore(bobIk, 2);
    carolStore = new InMemorySignalProtocolStore(KeyHelper.generateIdentityKeyPair(), 3);
    SignedPreKeyRecord spk = KeyHelper.generateSignedPreKey(bobIk, 1);
    bobStore.storeSignedPreKey(1, spk);
    PreKeyRecord pk = KeyHelper.generatePreKeys(1, 1).get(0);
    bobStore.storePreKey(pk.getId(), pk);
    PreKeyBundle bundle =
        new PreKeyBundle(2, 1, pk.getId(), pk.getKeyPair().getPublicKey(), 1,
            spk.getKeyPair().getPublicKey(), spk.getSignature(), bobIk.getPublicKey());
    bundleWithoutPreKey =
        new PreKeyBundle(2, 1, -1, null, 1, spk.getKeyPair().getPublicKey(), spk.getSignature(),
            bobIk.getPublicKey());
    new SessionBuilder(aliceStore, bobAddress).process(bundle);
    aliceCipher = new SessionCipher(aliceStore, bobAddress);
    bobCipher = new SessionCipher(bobStore, aliceAddress);
    bobFromCarol = new SessionCipher(bobStore, carolAddress);
    plaintext = Csprng.randomBytes(1024);
    check(bobCipher.decrypt(new PreKeySignalMessage(aliceCipher.encrypt(plaintext).serialize())));
    check(aliceCipher.decrypt(new SignalMessage(bobCipher.encrypt(plaintext).serialize())));
    check(oneWay());
    check(alternating());
    check(alternating());
    check(setupFromBundle());
  }

  private void check(byte[] got) {
    if (!Arrays.equals(got, plaintext)) {
      throw new IllegalStateException("round trip failed");
    }
  }

  @Benchmark
  public byte[] oneWay() throws Exception {
    byte[] wire = aliceCipher.encrypt(plaintext).serialize();
    return bobCipher.decrypt(new SignalMessage(wire));
  }

  @Benchmark
  public byte[] alternating() throws Exception {
    aliceTurn = !aliceTurn;
    if (aliceTurn) {
      return bobCipher.decrypt(new SignalMessage(aliceCipher.encrypt(plaintext).serialize()));
    }
    return aliceCipher.decrypt(new SignalMessage(bobCipher.encrypt(plaintext).serialize()));
  }

  @Benchmark
  public byte[] setupFromBundle() throws Exception {
    new SessionBuilder(carolStore, bobAddress).process(bundleWithoutPreKey);
    CiphertextMessage initial = new SessionCipher(carolStore, bobAddress).encrypt(plaintext);
    return bobFromCarol.decrypt(new PreKeySignalMessage(initial.serialize()));
  }
}
