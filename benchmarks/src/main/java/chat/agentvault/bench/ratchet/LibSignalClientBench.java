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
import org.signal.libsignal.protocol.IdentityKeyPair;
import org.signal.libsignal.protocol.SessionBuilder;
import org.signal.libsignal.protocol.SessionCipher;
import org.signal.libsignal.protocol.SignalProtocolAddress;
import org.signal.libsignal.protocol.ecc.ECKeyPair;
import org.signal.libsignal.protocol.kem.KEMKeyPair;
import org.signal.libsignal.protocol.kem.KEMKeyType;
import org.signal.libsignal.protocol.message.PreKeySignalMessage;
import org.signal.libsignal.protocol.message.SignalMessage;
import org.signal.libsignal.protocol.state.KyberPreKeyRecord;
import org.signal.libsignal.protocol.state.PreKeyBundle;
import org.signal.libsignal.protocol.state.SignedPreKeyRecord;
import org.signal.libsignal.protocol.state.impl.InMemorySignalProtocolStore;

/**
 * Reference: {@code org.signal:libsignal-client:0.86.5} (AGPLv3; Rust over JNI; {@code provided}
 * scope in this module only, not in the shaded jar: put it on the class path to run, see
 * docs/benchmarks.md). Same work as {@link RatchetBench}. Its X3DH is PQXDH: bundles must carry a
 * Kyber-1024 prekey, so its setup also encapsulates to that key.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class LibSignalClientBench {
  InMemorySignalProtocolStore aliceStore;
  InMemorySignalProtocolStore bobStore;
  SignalProtocolAddress aliceAddress = new SignalProtocolAddress("alice", 1);
  SignalProtocolAddress bobAddress = new SignalProtocolAddress("bob", 1);
  SessionCipher aliceCipher;
  SessionCipher bobCipher;
  IdentityKeyPair bobIk;
  ECKeyPair spk;
  byte[] spkSig;
  int nextKyberId = 100;
  byte[] plaintext;
  boolean aliceTurn;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    IdentityKeyPair aliceIk = IdentityKeyPair.generate();
    bobIk = IdentityKeyPair.generate();
    aliceStore = new InMemorySignalProtocolStore(aliceIk, 1);
    bobStore = new InMemorySignalProtocolStore(bobIk, 2);
    spk = ECKeyPair.generate();
    spkSig = bobIk.getPrivateKey().calculateSignature(spk.getPublicKey().serialize());
    bobStore.storeSignedPreKey(1, new SignedPreKeyRecord(1, System.currentTimeMillis(), spk, spkSig));
    new SessionBuilder(aliceStore, bobAddress).process(bundle());
    aliceCipher = new SessionCipher(aliceStore, bobAddress);
    bobCipher = new SessionCipher(bobStore, aliceAddress);
    plaintext = Csprng.randomBytes(1024);
    check(bobCipher.decrypt(new PreKeySignalMessage(aliceCipher.encrypt(plaintext).serialize())));
    check(aliceCipher.decrypt(new SignalMessage(bobCipher.encrypt(plaintext).serialize())));
    check(oneWay());
    check(alternating());
    check(alternating());
  }

  /** A bundle without a one-time EC prekey, with a fresh Kyber prekey stored at Bob. */
  private PreKeyBundle bundle() throws Exception {
    int id = nextKyberId++;
    KEMKeyPair kem = KEMKeyPair.generate(KEMKeyType.KYBER_1024);
    byte[] kemSig = bobIk.getPrivateKey().calculateSignature(kem.getPublicKey().serialize());
    bobStore.storeKyberPreKey(id, new KyberPreKeyRecord(id, System.currentTimeMillis(), kem, kemSig));
    return new PreKeyBundle(2, 1, PreKeyBundle.NULL_PRE_KEY_ID, null, 1, spk.getPublicKey(), spkSig,
        bobIk.getPublicKey(), id, kem.getPublicKey(), kemSig);
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
}
