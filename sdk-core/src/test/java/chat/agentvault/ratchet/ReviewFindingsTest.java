package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.ratchet.RatchetException.Reason;
import chat.agentvault.ratchet.SessionState.Index;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Defects found in the closing review of issue 5; each test failed before its fix. */
class ReviewFindingsTest {

  /**
   * With header encryption a skipped key's index names its chain by the header key, a secret; the
   * record's generated toString printed it in hex.
   */
  @Test
  void aSkippedKeyIndexDoesNotPrintItsHeaderKey() {
    Party alice = Party.create(true);
    Party bob = Party.create(true);
    alice.api.start(bob.address, bob.api.bundle());
    byte[] first = alice.send(bob, "first");
    byte[] second = alice.send(bob, "second");
    assertThat(bob.receive(alice, second)).isEqualTo("second"); // skips the first one's key
    SessionState s = bob.record(alice).current();
    assertThat(s.skipped).hasSize(1);
    Index index = s.skipped.keySet().iterator().next();
    String hex = HexFormat.of().formatHex(index.chain().unsafeArray());
    String text = index + " " + s.skipped.keySet() + " " + s.expired;
    for (int i = 0; i + 8 <= hex.length(); i += 8) {
      assertThat(text.toLowerCase()).doesNotContain(hex.substring(i, i + 8));
    }
    assertThat(bob.receive(alice, first)).isEqualTo("first");
  }

  /**
   * Two initial messages naming the same one-time prekey, accepted at the same time under two
   * addresses of the same identity (device numbers are the application's): the prekey was read by
   * both before either deleted it, so both sessions were made from it (X3DH §3.4: used once).
   */
  @Test
  void aOneTimePreKeyOpensOneSessionEvenUnderConcurrentAccepts() throws Exception {
    Party alice = Party.create();
    BlockingStore store = new BlockingStore();
    Party bob =
        new Party(DeviceIdentity.generate(), RatchetConfig.DEFAULT, store, PreKeyStore.inMemory());
    PreKeyBundle bundle = bob.api.bundle();
    int opk = bundle.oneTimePreKeyId().getAsInt();
    alice.api.start(bob.address, bundle);
    byte[] initial = alice.send(bob, "hello");
    PeerAddress device1 = alice.address;
    PeerAddress device2 = new PeerAddress(alice.identity.fingerprint(), 2);

    store.blockFor = device1;
    CompletableFuture<Decrypted> first =
        CompletableFuture.supplyAsync(() -> bob.api.decrypt(device1, initial));
    assertThat(store.entered.await(10, TimeUnit.SECONDS)).as("first accept is saving").isTrue();
    Throwable second;
    try {
      second = org.assertj.core.api.Assertions.catchThrowable(() -> bob.api.decrypt(device2, initial));
    } finally {
      store.release.countDown();
    }
    assertThat(first.get(10, TimeUnit.SECONDS).newSession()).isTrue();
    assertThat(second).isInstanceOf(RatchetException.class);
    assertThat(((RatchetException) second).reason())
        .isEqualTo(Reason.ONE_TIME_PREKEY_UNKNOWN_OR_USED);
    assertThat(bob.api.hasSession(device2)).isFalse();
    assertThat(bob.api.preKeys().hasOneTime(opk)).isFalse();
  }

  /**
   * A session state whose flags say header encryption but which holds no header keys was decoded
   * without complaint, and the next encrypt failed with a NullPointerException instead of the
   * decoder's MALFORMED.
   */
  @Test
  void aStateWhoseFieldsContradictItsFlagsIsMalformed() {
    Party alice = Party.create(false);
    Party bob = Party.create(false);
    alice.api.start(bob.address, bob.api.bundle());
    bob.receive(alice, alice.send(bob, "x"));
    byte[] stored = alice.stored(bob);
    // record: version (1) || count (4) || length (4) || state: version (1) || flags (1)
    assertThat(stored[10] & 2).as("not header-encrypted").isZero();
    byte[] he = stored.clone();
    he[10] |= 2;
    assertThatThrownBy(() -> SessionRecord.parse(he))
        .isInstanceOf(RatchetException.class)
        .extracting(e -> ((RatchetException) e).reason())
        .isEqualTo(Reason.MALFORMED);
  }

  /** An in-memory store whose save for one address waits until released. */
  static final class BlockingStore implements SessionStore {
    final SessionStore inner = SessionStore.inMemory();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile PeerAddress blockFor;

    @Override
    public void save(PeerAddress peer, byte[] record) {
      if (peer.equals(blockFor)) {
        entered.countDown();
        try {
          release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      inner.save(peer, record);
    }

    @Override
    public Optional<byte[]> load(PeerAddress peer) {
      return inner.load(peer);
    }

    @Override
    public boolean delete(PeerAddress peer) {
      return inner.delete(peer);
    }

    @Override
    public List<PeerAddress> list() {
      return inner.list();
    }
  }
}
