package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sessions on the encrypted file stores, restarts, and crashes around the state write. */
class PersistenceTest {
  @TempDir Path tmp;

  /** A device whose sessions and prekeys live in its encrypted key store. */
  final class Device implements AutoCloseable {
    final Path dir;
    final SecretBytes key = SecretBytes.random(32);
    DeviceKeyStore keys;
    Sessions api;
    PeerAddress address;

    Device(String name) {
      dir = tmp.resolve(name);
      try (KeyProtection p = KeyProtection.key(key)) {
        keys = DeviceKeyStore.create(dir, p);
      }
      open();
    }

    void open() {
      api =
          Sessions.builder(keys.identity())
              .sessionStore(SessionStore.encrypted(keys.fileStore("ratchet-sessions")))
              .preKeyStore(PreKeyStore.encrypted(keys.fileStore("ratchet-prekeys")))
              .build();
      address = new PeerAddress(keys.identity().fingerprint(), 3);
    }

    /** Closes everything and opens the key store again from disk. */
    void restart() {
      api.close();
      keys.close();
      try (KeyProtection p = KeyProtection.key(key)) {
        keys = DeviceKeyStore.open(dir, p);
      }
      open();
    }

    @Override
    public void close() {
      api.close();
      keys.close();
    }
  }

  @Test
  void restartsOnTheEncryptedStoresContinueTheConversation() throws Exception {
    try (Device alice = new Device("alice");
        Device bob = new Device("bob")) {
      PreKeyBundle bundle = bob.api.bundle();
      bob.restart(); // the bundle's prekeys were saved before it was handed out
      alice.api.start(bob.address, bundle);
      alice.restart();
      byte[] initial = alice.api.encrypt(bob.address, "one".getBytes());
      byte[] late = alice.api.encrypt(bob.address, "two".getBytes());
      byte[] three = alice.api.encrypt(bob.address, "three".getBytes());
      assertThat(bob.api.decrypt(alice.address, initial).plaintext()).isEqualTo("one".getBytes());
      assertThat(bob.api.decrypt(alice.address, three).plaintext()).isEqualTo("three".getBytes());
      bob.restart();
      assertThat(bob.api.decrypt(alice.address, late).plaintext()).isEqualTo("two".getBytes());
      assertThatThrownBy(() -> bob.api.decrypt(alice.address, late))
          .isInstanceOf(RatchetException.class)
          .extracting(e -> ((RatchetException) e).reason())
          .isEqualTo(Reason.DUPLICATE);
      for (int i = 0; i < 4; i++) {
        byte[] b = bob.api.encrypt(alice.address, ("b" + i).getBytes());
        alice.restart();
        assertThat(alice.api.decrypt(bob.address, b).plaintext()).isEqualTo(("b" + i).getBytes());
        byte[] a = alice.api.encrypt(bob.address, ("a" + i).getBytes());
        bob.restart();
        assertThat(bob.api.decrypt(alice.address, a).plaintext()).isEqualTo(("a" + i).getBytes());
      }
      assertThat(SessionStore.encrypted(bob.keys.fileStore("ratchet-sessions")).list())
          .containsExactly(alice.address);
      // nothing of the conversation is readable in the files
      try (Stream<Path> files = Files.walk(tmp)) {
        for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
          String content = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
          assertThat(content).doesNotContain("three");
        }
      }
    }
  }

  /** A store that fails on demand: before writing (a full disk) or after (a crash before return). */
  static final class FlakyStore implements SessionStore {
    final SessionStore inner = SessionStore.inMemory();
    boolean failBefore;
    boolean failAfter;

    @Override
    public void save(PeerAddress peer, byte[] record) {
      if (failBefore) {
        throw new IllegalStateException("disk full");
      }
      inner.save(peer, record);
      if (failAfter) {
        throw new IllegalStateException("crashed after the write");
      }
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

  private static int messageNumber(byte[] normal) {
    return ByteBuffer.wrap(normal, 2 + 36, 4).getInt();
  }

  @Test
  void aFailedWriteChangesNothingAndAWrittenStateIsNeverRolledBack() {
    Party alice = Party.create();
    FlakyStore flaky = new FlakyStore();
    Party bob = new Party(chat.agentvault.identity.DeviceIdentity.generate(), RatchetConfig.DEFAULT, flaky, PreKeyStore.inMemory());
    alice.api.start(bob.address, bob.api.bundle());
    bob.receive(alice, alice.send(bob, "hello"));
    alice.receive(bob, bob.send(alice, "hi"));
    byte[] m = alice.send(bob, "m");
    byte[] storedBefore = bob.stored(alice);

    // The write fails: decrypt throws, nothing changed in the store or in memory.
    flaky.failBefore = true;
    assertThatThrownBy(() -> bob.receive(alice, m)).hasMessageContaining("disk full");
    assertThat(bob.stored(alice)).isEqualTo(storedBefore);
    assertThatThrownBy(() -> bob.send(alice, "lost")).hasMessageContaining("disk full");
    flaky.failBefore = false;
    assertThat(bob.receive(alice, m)).as("the same message still decrypts").isEqualTo("m");

    // The write succeeds and the process dies before returning: after a restart the key is gone.
    byte[] m2 = alice.send(bob, "m2");
    flaky.failAfter = true;
    assertThatThrownBy(() -> bob.receive(alice, m2)).hasMessageContaining("crashed");
    flaky.failAfter = false;
    bob.restart();
    bob.assertRefused(alice, m2, Reason.DUPLICATE);

    // Same for encrypt: a ciphertext whose state was written is never produced again.
    byte[] sent = bob.send(alice, "x");
    int n = messageNumber(sent);
    flaky.failAfter = true;
    assertThatThrownBy(() -> bob.send(alice, "never returned")).hasMessageContaining("crashed");
    flaky.failAfter = false;
    bob.restart();
    byte[] next = bob.send(alice, "y");
    assertThat(messageNumber(next)).as("message key n+1 was consumed by the crashed call").isEqualTo(n + 2);
    assertThat(alice.receive(bob, sent)).isEqualTo("x");
    assertThat(alice.receive(bob, next)).isEqualTo("y");
  }

  @Test
  void aFailedWriteWhileAcceptingAnInitialMessageKeepsTheOneTimePreKey() {
    Party alice = Party.create();
    FlakyStore flaky = new FlakyStore();
    Party bob = new Party(chat.agentvault.identity.DeviceIdentity.generate(), RatchetConfig.DEFAULT, flaky, PreKeyStore.inMemory());
    PreKeyBundle bundle = bob.api.bundle();
    alice.api.start(bob.address, bundle);
    byte[] initial = alice.send(bob, "hello");
    flaky.failBefore = true;
    assertThatThrownBy(() -> bob.receive(alice, initial)).hasMessageContaining("disk full");
    assertThat(bob.api.preKeys().hasOneTime(bundle.oneTimePreKeyId().getAsInt())).isTrue();
    assertThat(bob.api.hasSession(alice.address)).isFalse();
    flaky.failBefore = false;
    assertThat(bob.receive(alice, initial)).isEqualTo("hello");
    assertThat(bob.api.preKeys().hasOneTime(bundle.oneTimePreKeyId().getAsInt())).isFalse();
  }
}
