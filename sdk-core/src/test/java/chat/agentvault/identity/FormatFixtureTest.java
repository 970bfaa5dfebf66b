package chat.agentvault.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written by format version 1, committed under {@code src/test/resources}, must keep
 * loading. Regenerate only for a new format version, never to make this test pass:
 * {@code mvn test -pl sdk-core -Dtest=FormatFixtureTest -Dagentvault.fixtures.write=true}.
 */
class FormatFixtureTest {
  static final Path V1 = Paths.get("src/test/resources/chat/agentvault/identity/v1");
  static final String STORE_PASS = "fixture store passphrase";
  static final String BACKUP_PASS = "fixture backup passphrase";
  static final byte[] BLOB = "fixture blob".getBytes(StandardCharsets.UTF_8);
  // Fingerprint of the fixture identity, checked with Python hashlib.blake2b(digest_size=32).
  static final String FINGERPRINT =
      "044c:e65e:ef90:0413:ca25:6b72:ff41:2611:2a90:f809:870b:ac7c:5eb0:2257:e7aa:4c4f";

  @TempDir Path tmp;

  @Test
  void version1StoreOpens() throws IOException {
    Path dir = tmp.resolve("store");
    copyTree(V1.resolve("store"), dir);
    try (KeyProtection p = KeyProtection.passphrase(STORE_PASS.toCharArray());
        DeviceKeyStore s = DeviceKeyStore.open(dir, p)) {
      assertThat(s.identity().fingerprint().full()).isEqualTo(FINGERPRINT);
      s.identity().publicIdentity().verify();
      assertThat(s.fileStore("mls").get("group")).hasValue(BLOB);
      assertThat(s.identity().publicIdentity().encode())
          .isEqualTo(Files.readAllBytes(V1.resolve("public-identity.bin")));
    }
  }

  @Test
  void version1BackupImports() throws IOException {
    byte[] backup = Files.readAllBytes(V1.resolve("identity.backup"));
    try (KeyProtection p = TestSupport.passphrase("new");
        DeviceKeyStore s =
            DeviceKeyStore.importBackup(tmp.resolve("r"), backup, BACKUP_PASS.toCharArray(), p)) {
      assertThat(s.identity().fingerprint().full()).isEqualTo(FINGERPRINT);
    }
    PublicIdentity parsed =
        PublicIdentity.parse(Files.readAllBytes(V1.resolve("public-identity.bin")));
    assertThat(parsed.fingerprint().full()).isEqualTo(FINGERPRINT);
  }

  @Test
  @EnabledIfSystemProperty(named = "agentvault.fixtures.write", matches = "true")
  void writeFixtures() throws IOException {
    Path store = V1.resolve("store");
    assertThat(store).doesNotExist();
    try (KeyProtection p =
            KeyProtection.passphrase(STORE_PASS.toCharArray(), Argon2Params.insecureForTesting());
        DeviceKeyStore s = DeviceKeyStore.create(store, p)) {
      s.fileStore("mls").put("group", BLOB);
      Files.write(
          V1.resolve("identity.backup"),
          s.exportBackup(BACKUP_PASS.toCharArray(), Argon2Params.insecureForTesting()));
      Files.write(V1.resolve("public-identity.bin"), s.identity().publicIdentity().encode());
      System.out.println("fixture fingerprint: " + s.identity().fingerprint().full());
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
