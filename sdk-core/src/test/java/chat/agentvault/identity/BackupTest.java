package chat.agentvault.identity;

import static chat.agentvault.identity.DeviceKeyStoreTest.assertReason;
import static chat.agentvault.identity.TestSupport.FAST;
import static chat.agentvault.identity.TestSupport.passphrase;
import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.KeyStoreException.Reason;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupTest {
  @TempDir Path tmp;

  private byte[] backupOf(Path dir, char[] backupPass) {
    try (KeyProtection p = passphrase("store");
        DeviceKeyStore s = DeviceKeyStore.create(dir, p)) {
      return s.exportBackup(backupPass, FAST);
    }
  }

  @Test
  void exportThenImportIntoANewDirectory() {
    char[] backupPass = "owner keeps this".toCharArray();
    byte[] backup;
    PublicIdentity original;
    try (KeyProtection p = passphrase("store");
        DeviceKeyStore s = DeviceKeyStore.create(tmp.resolve("a"), p)) {
      backup = s.exportBackup(backupPass, FAST);
      original = s.identity().publicIdentity();
      TestSupport.assertNoSecretBytes("backup", backup, TestSupport.secretsOf(s));
      try (KeyProtection newP = passphrase("new device");
          DeviceKeyStore restored =
              DeviceKeyStore.importBackup(tmp.resolve("b"), backup, backupPass, newP)) {
        assertThat(restored.identity().publicIdentity()).isEqualTo(original);
        try (SecretBytes a = s.identity().signingKey().seed();
            SecretBytes b = restored.identity().signingKey().seed()) {
          assertThat(a.equalsConstantTime(b)).isTrue();
        }
      }
      // The restored store opens with its own protection.
      try (KeyProtection newP = passphrase("new device");
          DeviceKeyStore reopened = DeviceKeyStore.open(tmp.resolve("b"), newP)) {
        assertThat(reopened.identity().publicIdentity()).isEqualTo(original);
      }
      try (KeyProtection newP = passphrase("x")) {
        assertReason(
            () -> DeviceKeyStore.importBackup(tmp.resolve("b"), backup, backupPass, newP),
            Reason.ALREADY_EXISTS);
      }
    }
  }

  @Test
  void wrongBackupPassphraseIsWrongKey() {
    byte[] backup = backupOf(tmp.resolve("a"), "right".toCharArray());
    try (KeyProtection p = passphrase("store")) {
      assertReason(
          () -> DeviceKeyStore.importBackup(tmp.resolve("b"), backup, "wrong".toCharArray(), p),
          Reason.WRONG_KEY);
    }
    assertThat(tmp.resolve("b").resolve(RealDeviceKeyStore.HEADER_FILE)).doesNotExist();
  }

  @Test
  void modifiedTruncatedAndNewerBackupsAreRefused() {
    char[] pass = "right".toCharArray();
    byte[] backup = backupOf(tmp.resolve("a"), pass);
    Path target = tmp.resolve("b");
    try (KeyProtection p = passphrase("store")) {
      for (int i = 0; i < backup.length; i++) {
        byte[] bad = backup.clone();
        bad[i] ^= (byte) (1 << (i % 8));
        assertReason(() -> DeviceKeyStore.importBackup(target, bad, pass, p), Reason.CORRUPTED);
      }
      for (int len = 0; len < backup.length; len += 7) {
        byte[] bad = Arrays.copyOf(backup, len);
        assertReason(() -> DeviceKeyStore.importBackup(target, bad, pass, p), Reason.CORRUPTED);
      }
      byte[] newer = DeviceKeyStoreTest.reframe(backup, 2, DeviceKeyStoreTest.body(backup));
      assertReason(
          () -> DeviceKeyStore.importBackup(target, newer, pass, p), Reason.UNSUPPORTED_VERSION);
      byte[] body = DeviceKeyStoreTest.body(backup);
      ByteBuffer.wrap(body).putInt(5, 2 * 1024 * 1024); // 2 GiB
      byte[] greedy = DeviceKeyStoreTest.reframe(backup, 1, body);
      assertReason(() -> DeviceKeyStore.importBackup(target, greedy, pass, p), Reason.CORRUPTED);
    }
    assertThat(target).doesNotExist();
  }

  @Test
  void defaultBackupCostsAreModerate() {
    try (KeyProtection p = passphrase("store");
        DeviceKeyStore s = DeviceKeyStore.create(tmp.resolve("a"), p)) {
      byte[] backup = s.exportBackup("slow".toCharArray());
      ByteBuffer b = ByteBuffer.wrap(backup, Framing.PREFIX_LENGTH, KekSpec.LENGTH);
      assertThat(b.get()).isEqualTo((byte) KekSpec.KDF_ARGON2ID);
      assertThat(b.getInt()).isEqualTo(3);
      assertThat(b.getInt()).isEqualTo(256 * 1024);
    }
  }
}
