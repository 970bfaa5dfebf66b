package chat.agentvault.mls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.identity.KeyProtection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link GroupStore} implementations and {@link MlsGroup} persisting through them across "restarts". */
class GroupStoreTest {
  @TempDir Path tmp;

  private static Bytes b(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  private DeviceKeyStore deviceStore() {
    try (chat.agentvault.crypto.SecretBytes key = chat.agentvault.crypto.SecretBytes.random(32);
        KeyProtection p = KeyProtection.key(key)) {
      return DeviceKeyStore.create(tmp.resolve("device"), p);
    }
  }

  private static void storeContract(GroupStore s) {
    Bytes id1 = b("room-1");
    Bytes id2 = Bytes.wrap(new byte[200]); // too long for a plain file name
    assertThat(s.load(id1)).isEmpty();
    byte[] r = {1, 2, 3};
    s.save(id1, r);
    r[0] = 9; // the store kept its own copy
    assertThat(s.load(id1)).hasValueSatisfying(v -> assertThat(v).containsExactly(1, 2, 3));
    s.load(id1).get()[0] = 9; // and hands out copies
    assertThat(s.load(id1)).hasValueSatisfying(v -> assertThat(v).containsExactly(1, 2, 3));
    s.save(id1, new byte[] {4});
    assertThat(s.load(id1)).hasValueSatisfying(v -> assertThat(v).containsExactly(4));
    s.save(id2, new byte[] {5});
    assertThat(s.list()).containsExactlyInAnyOrder(id1, id2);
    assertThat(s.load(id2)).hasValueSatisfying(v -> assertThat(v).containsExactly(5));
    assertThat(s.delete(id1)).isTrue();
    assertThat(s.delete(id1)).isFalse();
    assertThat(s.load(id1)).isEmpty();
    assertThat(s.list()).containsExactly(id2);
  }

  @Test
  void inMemoryStore() {
    storeContract(GroupStore.inMemory());
  }

  @Test
  void encryptedStore() {
    try (DeviceKeyStore d = deviceStore()) {
      storeContract(GroupStore.encrypted(d.fileStore("mls-groups")));
    }
  }

  @Test
  void encryptedStoreRefusesABlobOfAnotherGroup() {
    try (DeviceKeyStore d = deviceStore()) {
      EncryptedFileStore files = d.fileStore("mls-groups");
      GroupStore s = GroupStore.encrypted(files);
      s.save(b("a"), new byte[] {1});
      // A blob written under a's name holding b's id (the file store binds names, so only a writer could do this).
      byte[] blobOfB = new chat.agentvault.mls.codec.TlsWriter().opaque(b("b")).raw(new byte[] {1}).toByteArray();
      files.put(EncryptedGroupStore.nameOf(b("a")), blobOfB);
      assertThatThrownBy(() -> s.load(b("a"))).isInstanceOf(GroupRecordException.class);
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void mlsGroupSurvivesRestarts(int suite) {
    try (DeviceKeyStore d = deviceStore()) {
      GroupStore store = GroupStore.encrypted(d.fileStore("mls-groups"));
      MlsKeyPackage alice = MlsKeyPackage.generate(suite, b("alice"));
      MlsKeyPackage bob = MlsKeyPackage.generate(suite, b("bob"));
      MlsGroup a = MlsGroup.create(alice, b("room"), false);
      MlsGroup.PendingCommit add = a.addMembers(List.of(bob.toBytes()));
      a.mergePendingCommit();
      MlsGroup bg = MlsGroup.join(bob, add.welcome().orElseThrow(), false).persistTo(store);

      Bytes m1 = a.encrypt(b("one"));
      Bytes m2 = a.encrypt(b("two"));
      assertThat(((Inbound.Application) bg.process(m2)).data()).isEqualTo(b("two"));
      Bytes fromBob = bg.encrypt(b("from bob"));
      assertThat(((Inbound.Application) a.process(fromBob)).data()).isEqualTo(b("from bob"));

      // Restart: only the store remains.
      bg = MlsGroup.load(store, b("room")).orElseThrow();
      assertThat(((Inbound.Application) bg.process(m1)).data()).isEqualTo(b("one"));
      MlsGroup again = MlsGroup.load(store, b("room")).orElseThrow();
      // m1's key was consumed and saved before the plaintext was returned.
      assertThatThrownBy(() -> again.process(m1)).isInstanceOf(MessageRejectedException.class);
      // Bob's sending generation was saved too: his next message is new to Alice.
      Bytes fromBob2 = again.encrypt(b("after restart"));
      assertThat(((Inbound.Application) a.process(fromBob2)).data()).isEqualTo(b("after restart"));

      // A commit from Alice, merged, then another restart; then Bob commits.
      MlsGroup.PendingCommit upd = a.update();
      a.mergePendingCommit();
      again.merge((Inbound.StagedCommit) again.process(upd.message()));
      MlsGroup b3 = MlsGroup.load(store, b("room")).orElseThrow();
      assertThat(b3.epoch()).isEqualTo(a.epoch());
      assertThat(b3.epochAuthenticator()).isEqualTo(a.epochAuthenticator());
      MlsGroup.PendingCommit bu = b3.update();
      b3.mergePendingCommit();
      a.merge((Inbound.StagedCommit) a.process(bu.message()));
      MlsGroup b4 = MlsGroup.load(store, b("room")).orElseThrow();
      assertThat(b4.epochAuthenticator()).isEqualTo(a.epochAuthenticator());
      assertThat(b4.exportSecret("x", new byte[0], 32)).isEqualTo(a.exportSecret("x", new byte[0], 32));
      assertThat(((Inbound.Application) b4.process(a.encrypt(b("end")))).data()).isEqualTo(b("end"));
      assertThat(MlsGroup.load(store, b("other"))).isEmpty();
    }
  }
}
