package chat.agentvault.identity;

import static chat.agentvault.identity.TestSupport.FAST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import chat.agentvault.crypto.SecretBytes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** toString and exception text of every public type never show secret bytes. */
class SecretsHygieneTest {
  private static final String PASS = "hunter2-passphrase";
  private static final String BACKUP_PASS = "backup-passphrase";
  @TempDir Path tmp;

  @Test
  void toStringAndExceptionTextShowNoSecrets() throws Exception {
    List<String> texts = new ArrayList<>();
    List<byte[]> secrets = new ArrayList<>();
    Path dir = tmp.resolve("d");
    byte[] blobSecret = SecretBytes.random(32).copyOfSecret();
    secrets.add(blobSecret);
    secrets.add(PASS.getBytes(StandardCharsets.UTF_8));
    secrets.add(BACKUP_PASS.getBytes(StandardCharsets.UTF_8));

    try (SecretBytes rawKey = SecretBytes.random(32);
        KeyProtection pass = KeyProtection.passphrase(PASS.toCharArray(), FAST);
        KeyProtection raw = KeyProtection.key(rawKey);
        DeviceKeyStore store = DeviceKeyStore.create(dir, pass)) {
      secrets.add(rawKey.copyOfSecret());
      secrets.addAll(TestSupport.secretsOf(store));
      DeviceIdentity id = store.identity();
      EncryptedFileStore files = store.fileStore("mls");
      files.put("g", blobSecret);
      byte[] backup = store.exportBackup(BACKUP_PASS.toCharArray(), FAST);

      texts.add(store.toString());
      texts.add(files.toString());
      texts.add(id.toString());
      texts.add(id.publicIdentity().toString());
      texts.add(id.fingerprint().toString());
      texts.add(pass.toString());
      texts.add(raw.toString());
      texts.add(FAST.toString());

      // Every failure path.
      try (KeyProtection wrong = KeyProtection.passphrase("wrong".toCharArray(), FAST)) {
        texts.add(TestSupport.describe(catchThrowable(() -> DeviceKeyStore.open(dir, wrong))));
      }
      texts.add(TestSupport.describe(catchThrowable(() -> DeviceKeyStore.open(dir, raw))));
      texts.add(TestSupport.describe(catchThrowable(() -> DeviceKeyStore.create(dir, pass))));
      texts.add(
          TestSupport.describe(catchThrowable(() -> DeviceKeyStore.open(tmp.resolve("x"), pass))));
      texts.add(
          TestSupport.describe(
              catchThrowable(
                  () ->
                      DeviceKeyStore.importBackup(
                          tmp.resolve("y"), backup, "nope".toCharArray(), pass))));
      byte[] badBackup = backup.clone();
      badBackup[40] ^= 1;
      texts.add(
          TestSupport.describe(
              catchThrowable(
                  () ->
                      DeviceKeyStore.importBackup(
                          tmp.resolve("y"), badBackup, BACKUP_PASS.toCharArray(), pass))));
      for (Path f : TestSupport.allFiles(dir)) {
        byte[] original = Files.readAllBytes(f);
        byte[] bad = original.clone();
        bad[bad.length / 2] ^= 1;
        Files.write(f, bad);
        texts.add(TestSupport.describe(catchThrowable(() -> DeviceKeyStore.open(dir, pass))));
        texts.add(TestSupport.describe(catchThrowable(() -> files.get("g"))));
        Files.write(f, original);
      }
      byte[] enc = id.publicIdentity().encode();
      enc[100] ^= 1;
      texts.add(TestSupport.describe(catchThrowable(() -> PublicIdentity.parse(enc))));
      texts.add(TestSupport.describe(catchThrowable(() -> Fingerprint.parse(PASS))));
      texts.add(
          TestSupport.describe(
              catchThrowable(() -> KeyProtection.passphrase(new char[] {'\ud800'}, FAST))));
    }
    assertThat(texts).hasSizeGreaterThan(20);
    for (String text : texts) {
      assertThat(text).doesNotContain(PASS).doesNotContain(BACKUP_PASS);
      TestSupport.assertNoSecretText(text, secrets);
    }
  }
}
