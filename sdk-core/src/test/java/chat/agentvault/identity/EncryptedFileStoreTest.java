package chat.agentvault.identity;

import static chat.agentvault.identity.DeviceKeyStoreTest.assertReason;
import static chat.agentvault.identity.DeviceKeyStoreTest.readAll;
import static chat.agentvault.identity.TestSupport.passphrase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.identity.KeyStoreException.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncryptedFileStoreTest {
  @TempDir Path tmp;
  private DeviceKeyStore store;
  private EncryptedFileStore files;

  @BeforeEach
  void setUp() {
    try (KeyProtection p = passphrase("pw")) {
      store = DeviceKeyStore.create(tmp.resolve("d"), p);
    }
    files = store.fileStore("mls");
  }

  @AfterEach
  void tearDown() {
    store.close();
  }

  private Path blob(String purpose, String name) {
    return tmp.resolve("d").resolve("files").resolve(purpose).resolve(name);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void putGetListDeleteAndReopen() {
    assertThat(files.purpose()).isEqualTo("mls");
    assertThat(store.fileStore("mls")).isSameAs(files);
    assertThat(files.get("absent")).isEmpty();
    assertThat(files.list()).isEmpty();
    files.put("group-b", utf8("state b"));
    files.put("group-a", utf8("state a"));
    files.put("group-a", utf8("state a2"));
    files.put("empty", new byte[0]);
    assertThat(files.get("group-a")).hasValue(utf8("state a2"));
    assertThat(files.get("empty")).hasValue(new byte[0]);
    assertThat(files.list()).containsExactly("empty", "group-a", "group-b");
    assertThat(files.delete("group-b")).isTrue();
    assertThat(files.delete("group-b")).isFalse();
    assertThat(files.list()).containsExactly("empty", "group-a");
    store.close();
    try (KeyProtection p = passphrase("pw");
        DeviceKeyStore reopened = DeviceKeyStore.open(tmp.resolve("d"), p)) {
      assertThat(reopened.fileStore("mls").get("group-a")).hasValue(utf8("state a2"));
      assertThat(reopened.fileStore("ratchet").list()).isEmpty();
    }
  }

  @Test
  void tamperingIsCorrupted() throws Exception {
    files.put("g", utf8("group state"));
    Path f = blob("mls", "g");
    byte[] original = readAll(f);
    for (int i = 0; i < original.length; i++) {
      byte[] bad = original.clone();
      bad[i] ^= (byte) (1 << (i % 8));
      Files.write(f, bad);
      assertReason(() -> files.get("g"), Reason.CORRUPTED);
    }
    Files.write(f, Arrays.copyOf(original, original.length - 1));
    assertReason(() -> files.get("g"), Reason.CORRUPTED);
    Files.write(f, original);
    assertThat(files.get("g")).hasValue(utf8("group state"));
  }

  @Test
  void aBlobMovedToAnotherNameOrPurposeIsCorrupted() throws Exception {
    files.put("a", utf8("secret of a"));
    files.put("b", utf8("secret of b"));
    Files.copy(blob("mls", "a"), blob("mls", "b"), StandardCopyOption.REPLACE_EXISTING);
    assertReason(() -> files.get("b"), Reason.CORRUPTED);
    Files.move(blob("mls", "a"), blob("mls", "c"));
    assertReason(() -> files.get("c"), Reason.CORRUPTED);

    files.put("a", utf8("secret of a"));
    EncryptedFileStore ratchet = store.fileStore("ratchet");
    Files.copy(blob("mls", "a"), blob("ratchet", "a"));
    assertReason(() -> ratchet.get("a"), Reason.CORRUPTED);
  }

  @Test
  void namesAndPurposesAreChecked() {
    for (String bad : new String[] {"", ".hidden", "a/b", "..", "a b", "x".repeat(129), "é"}) {
      assertThatThrownBy(() -> files.put(bad, new byte[1]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> files.get(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    for (String bad : new String[] {"", "Upper", "../x", "a/b", ".x", "y".repeat(65)}) {
      assertThatThrownBy(() -> store.fileStore(bad)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void listIgnoresLeftoverTemporaryFiles() throws Exception {
    files.put("a", new byte[] {1});
    Files.write(blob("mls", ".tmp-123.part"), new byte[] {9});
    assertThat(files.list()).containsExactly("a");
  }

  @Test
  void oversizedFilesAreRefusedWithoutReading() throws Exception {
    files.put("big", new byte[] {1});
    try (var ch =
        java.nio.channels.FileChannel.open(
            blob("mls", "big"), java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(0);
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}), RealEncryptedFileStore.MAX_FILE);
    }
    assertReason(() -> files.get("big"), Reason.CORRUPTED);
  }
}
