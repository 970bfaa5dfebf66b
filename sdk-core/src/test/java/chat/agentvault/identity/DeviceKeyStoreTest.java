package chat.agentvault.identity;

import static chat.agentvault.identity.TestSupport.FAST;
import static chat.agentvault.identity.TestSupport.passphrase;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import chat.agentvault.crypto.Blake2b;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.KeyStoreException.Reason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceKeyStoreTest {
  @TempDir Path tmp;

  private Path dir() {
    return tmp.resolve("device");
  }

  private Path header() {
    return dir().resolve(RealDeviceKeyStore.HEADER_FILE);
  }

  private Path identityFile() {
    return dir().resolve(RealDeviceKeyStore.IDENTITY_FILE);
  }

  static void assertReason(ThrowingCallable call, Reason reason) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            KeyStoreException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }

  private static void assertSameIdentity(DeviceIdentity a, DeviceIdentity b) {
    assertThat(b.publicIdentity()).isEqualTo(a.publicIdentity());
    assertThat(b.fingerprint()).isEqualTo(a.fingerprint());
    try (SecretBytes sa = a.signingKey().seed();
        SecretBytes sb = b.signingKey().seed();
        SecretBytes xa = a.agreementKey().secret();
        SecretBytes xb = b.agreementKey().secret()) {
      assertThat(sa.equalsConstantTime(sb)).isTrue();
      assertThat(xa.equalsConstantTime(xb)).isTrue();
    }
  }

  private void createWith(String pass) {
    try (KeyProtection p = passphrase(pass)) {
      DeviceKeyStore.create(dir(), p).close();
    }
  }

  private DeviceKeyStore openWith(String pass) {
    try (KeyProtection p = passphrase(pass)) {
      return DeviceKeyStore.open(dir(), p);
    }
  }

  @Test
  void createThenOpenRoundTrip() throws Exception {
    byte[] message = "approve me".getBytes(StandardCharsets.UTF_8);
    try (KeyProtection p = passphrase("correct horse");
        DeviceKeyStore created = DeviceKeyStore.create(dir(), p)) {
      byte[] signature = created.identity().sign(message);
      try (DeviceKeyStore opened = DeviceKeyStore.open(dir(), p)) {
        assertSameIdentity(created.identity(), opened.identity());
        opened.identity().publicIdentity().signingKey().verify(message, signature);
        created
            .identity()
            .publicIdentity()
            .signingKey()
            .verify(message, opened.identity().sign(message));
        opened.identity().publicIdentity().verify();
        assertThat(opened.dataDir()).isEqualTo(dir());
      }
    }
  }

  @Test
  void defaultInteractiveCostsWork() {
    char[] pass = "default costs".toCharArray();
    try (KeyProtection p = KeyProtection.passphrase(pass);
        DeviceKeyStore s = DeviceKeyStore.create(dir(), p);
        DeviceKeyStore o = DeviceKeyStore.open(dir(), p)) {
      assertSameIdentity(s.identity(), o.identity());
    }
    byte[] h = readAll(header());
    ByteBuffer b = ByteBuffer.wrap(h, Framing.PREFIX_LENGTH, KekSpec.LENGTH);
    assertThat(b.get()).isEqualTo((byte) KekSpec.KDF_ARGON2ID);
    assertThat(b.getInt()).isEqualTo(2);
    assertThat(b.getInt()).isEqualTo(64 * 1024);
  }

  @Test
  void callerSuppliedKeyMode() {
    try (SecretBytes key = SecretBytes.random(32);
        KeyProtection p = KeyProtection.key(key);
        DeviceKeyStore s = DeviceKeyStore.create(dir(), p);
        DeviceKeyStore o = DeviceKeyStore.open(dir(), p)) {
      assertSameIdentity(s.identity(), o.identity());
      assertThat(readAll(header())).hasSize(StoreHeader.LENGTH);
    }
    try (SecretBytes other = SecretBytes.random(32);
        KeyProtection wrong = KeyProtection.key(other)) {
      assertReason(() -> DeviceKeyStore.open(dir(), wrong), Reason.WRONG_KEY);
    }
    try (KeyProtection pass = passphrase("a passphrase")) {
      assertReason(() -> DeviceKeyStore.open(dir(), pass), Reason.WRONG_KEY);
    }
    try (SecretBytes shortKey = SecretBytes.random(16)) {
      assertThatThrownBy(() -> KeyProtection.key(shortKey))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void wrongPassphraseIsWrongKey() {
    createWith("right");
    try (KeyProtection wrong = passphrase("wrong")) {
      assertReason(() -> DeviceKeyStore.open(dir(), wrong), Reason.WRONG_KEY);
    }
    try (SecretBytes key = SecretBytes.random(32);
        KeyProtection raw = KeyProtection.key(key)) {
      assertReason(() -> DeviceKeyStore.open(dir(), raw), Reason.WRONG_KEY);
    }
  }

  @Test
  void missingAndExistingStores() throws Exception {
    try (KeyProtection p = passphrase("pw")) {
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.NOT_FOUND);
      DeviceKeyStore.create(dir(), p).close();
      assertReason(() -> DeviceKeyStore.create(dir(), p), Reason.ALREADY_EXISTS);
      Files.delete(identityFile());
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.NOT_FOUND);
    }
  }

  @Test
  void everyFlippedByteOfEachFileIsCorrupted() throws Exception {
    createWith("pw");
    try (KeyProtection p = passphrase("pw")) {
      for (Path file : List.of(header(), identityFile())) {
        byte[] original = readAll(file);
        for (int i = 0; i < original.length; i++) {
          byte[] bad = original.clone();
          bad[i] ^= (byte) (1 << (i % 8));
          Files.write(file, bad);
          int at = i;
          assertThatThrownBy(() -> DeviceKeyStore.open(dir(), p))
              .as("%s byte %d", file.getFileName(), at)
              .isInstanceOfSatisfying(
                  KeyStoreException.class,
                  e -> assertThat(e.reason()).isEqualTo(Reason.CORRUPTED));
        }
        Files.write(file, original);
      }
      DeviceKeyStore.open(dir(), p).close();
    }
  }

  @Test
  void truncatedAndExtendedFilesAreCorrupted() throws Exception {
    createWith("pw");
    try (KeyProtection p = passphrase("pw")) {
      for (Path file : List.of(header(), identityFile())) {
        byte[] original = readAll(file);
        for (int len = 0; len < original.length; len++) {
          Files.write(file, Arrays.copyOf(original, len));
          assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.CORRUPTED);
        }
        Files.write(file, Arrays.copyOf(original, original.length + 1));
        assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.CORRUPTED);
        Files.write(file, original);
      }
    }
  }

  @Test
  void swappedIdentityFileFromAnotherStoreIsCorrupted() throws Exception {
    createWith("pw");
    Path other = tmp.resolve("other");
    try (KeyProtection p = passphrase("pw")) {
      DeviceKeyStore.create(other, p).close();
      Files.copy(
          other.resolve(RealDeviceKeyStore.IDENTITY_FILE),
          identityFile(),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.CORRUPTED);
    }
  }

  /** Rewrites a framed file's version byte or body and recomputes its checksum. */
  static byte[] reframe(byte[] file, int version, byte[] body) {
    byte[] magic = Arrays.copyOf(file, Framing.MAGIC_LENGTH);
    byte[] out = Framing.frame(magic, version, body);
    assertThat(Blake2b.hash(Arrays.copyOf(out, out.length - 32), 32))
        .isEqualTo(Arrays.copyOfRange(out, out.length - 32, out.length));
    return out;
  }

  static byte[] body(byte[] file) {
    return Arrays.copyOfRange(file, Framing.PREFIX_LENGTH, file.length - Framing.CHECKSUM_LENGTH);
  }

  @Test
  void deliberateTamperingWithARecomputedChecksumStillYieldsNoKeys() throws Exception {
    createWith("pw");
    try (KeyProtection p = passphrase("pw")) {
      byte[] id = readAll(identityFile());
      byte[] idBody = body(id);
      idBody[idBody.length - 1] ^= 1; // last tag byte, checksum recomputed: the AEAD refuses
      Files.write(identityFile(), reframe(id, 1, idBody));
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.CORRUPTED);
      Files.write(identityFile(), id);

      byte[] h = readAll(header());
      byte[] hBody = body(h);
      hBody[hBody.length - 1] ^= 1; // wrapped key modified: indistinguishable from a wrong key
      Files.write(header(), reframe(h, 1, hBody));
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.WRONG_KEY);
      hBody = body(h);
      hBody[KekSpec.LENGTH - 1] ^= 1; // salt modified: the KEK changes, unwrap fails
      Files.write(header(), reframe(h, 1, hBody));
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.WRONG_KEY);
      Files.write(header(), h);
      DeviceKeyStore.open(dir(), p).close();
    }
  }

  @Test
  void newerVersionsAreUnsupported() throws Exception {
    createWith("pw");
    try (KeyProtection p = passphrase("pw")) {
      byte[] h = readAll(header());
      Files.write(header(), reframe(h, 2, body(h)));
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.UNSUPPORTED_VERSION);
      Files.write(header(), h);

      byte[] id = readAll(identityFile());
      Files.write(identityFile(), reframe(id, 2, body(id)));
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.UNSUPPORTED_VERSION);
      Files.write(identityFile(), id);
      DeviceKeyStore.open(dir(), p).close();
    }
  }

  @Test
  void absurdArgon2CostsAreRefusedBeforeDerivation() throws Exception {
    createWith("pw");
    byte[] h = readAll(header());
    long[][] cases = {
      {11, 8}, // ops > 10
      {0xffffffffL, 8},
      {0, 8},
      {2, 1024 * 1024 + 1}, // memory > 1 GiB
      {2, 0xffffffffL},
      {2, 7}, // below libsodium's minimum
    };
    try (KeyProtection p = passphrase("pw")) {
      for (long[] c : cases) {
        byte[] body = body(h);
        ByteBuffer.wrap(body).put(0, (byte) 1).putInt(1, (int) c[0]).putInt(5, (int) c[1]);
        Files.write(header(), reframe(h, 1, body));
        long start = System.nanoTime();
        assertThatThrownBy(() -> DeviceKeyStore.open(dir(), p))
            .isInstanceOfSatisfying(
                KeyStoreException.class,
                e -> {
                  assertThat(e.reason()).isEqualTo(Reason.CORRUPTED);
                  assertThat(e.getMessage()).contains("out of bounds");
                });
        assertThat(System.nanoTime() - start).isLessThan(2_000_000_000L);
      }
      // Unknown KDF id, and costs on a raw-key header.
      byte[] body = body(h);
      body[0] = 9;
      Files.write(header(), reframe(h, 1, body));
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.CORRUPTED);
      body[0] = (byte) KekSpec.KDF_RAW_KEY; // keeps the passphrase header's non-zero costs
      Files.write(header(), reframe(h, 1, body));
      assertReason(() -> DeviceKeyStore.open(dir(), p), Reason.CORRUPTED);
    }
  }

  @Test
  void argon2ParamsBounds() {
    assertThat(Argon2Params.INTERACTIVE).isEqualTo(new Argon2Params(2, 64L << 20));
    assertThat(Argon2Params.MODERATE).isEqualTo(new Argon2Params(3, 256L << 20));
    new Argon2Params(10, 1L << 30);
    for (ThrowingCallable bad :
        List.<ThrowingCallable>of(
            () -> new Argon2Params(0, 1 << 20),
            () -> new Argon2Params(11, 1 << 20),
            () -> new Argon2Params(2, (1L << 30) + 1024),
            () -> new Argon2Params(2, 4096),
            () -> new Argon2Params(2, 8193))) {
      assertThatThrownBy(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void changingThePassphraseKeepsTheIdentity() throws Exception {
    createWith("old");
    DeviceIdentity before;
    byte[] identityBytes = readAll(identityFile());
    try (DeviceKeyStore s = openWith("old");
        KeyProtection next = KeyProtection.passphrase("new".toCharArray(), FAST)) {
      s.fileStore("ratchet").put("peer", new byte[] {1, 2, 3});
      s.changeProtection(next);
      try (DeviceKeyStore o = openWith("new")) {
        assertSameIdentity(s.identity(), o.identity());
        assertThat(o.fileStore("ratchet").get("peer")).hasValue(new byte[] {1, 2, 3});
      }
      before = DeviceIdentity.fromSecrets(
          s.identity().signingKey().seed().copyOfSecret(),
          s.identity().agreementKey().secret().copyOfSecret());
    }
    assertThat(readAll(identityFile())).isEqualTo(identityBytes); // only the header was rewritten
    assertReason(() -> openWith("old"), Reason.WRONG_KEY);
    // From passphrase to a caller key.
    try (SecretBytes key = SecretBytes.random(32);
        KeyProtection raw = KeyProtection.key(key)) {
      try (DeviceKeyStore s = openWith("new")) {
        s.changeProtection(raw);
      }
      assertReason(() -> openWith("new"), Reason.WRONG_KEY);
      try (DeviceKeyStore s = DeviceKeyStore.open(dir(), raw)) {
        assertSameIdentity(before, s.identity());
      }
    }
    before.close();
  }

  @Test
  void privateKeysNeverAppearInAnyFile() {
    List<byte[]> secrets;
    try (KeyProtection p = passphrase("scan me");
        DeviceKeyStore s = DeviceKeyStore.create(dir(), p)) {
      secrets = new java.util.ArrayList<>(TestSupport.secretsOf(s));
      secrets.add("scan me".getBytes(StandardCharsets.UTF_8));
      byte[] blob = SecretBytes.random(48).copyOfSecret();
      secrets.add(blob);
      s.fileStore("mls").put("group-1", blob);
      s.fileStore("ratchet").put("session", blob);
      try (KeyProtection next = passphrase("second")) {
        s.changeProtection(next);
      }
    }
    List<Path> files = TestSupport.allFiles(dir());
    assertThat(files).hasSize(4);
    for (Path f : files) {
      TestSupport.assertNoSecretBytes(f.toString(), readAll(f), secrets);
    }
  }

  @Test
  void posixPermissionsAndNoTemporaryFiles() throws Exception {
    assumeThat(AtomicFiles.posix()).as("POSIX file system").isTrue();
    Files.createDirectories(dir(), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwxr-xr-x")));
    try (KeyProtection p = passphrase("pw");
        DeviceKeyStore s = DeviceKeyStore.create(dir(), p)) {
      EncryptedFileStore files = s.fileStore("mls");
      for (int i = 0; i < 5; i++) {
        files.put("g" + (i % 2), new byte[] {(byte) i});
      }
      s.changeProtection(p);
    }
    for (Path entry : TestSupport.allEntries(dir())) {
      String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(entry));
      assertThat(mode).as(entry.toString()).isEqualTo(Files.isDirectory(entry) ? "rwx------" : "rw-------");
      assertThat(entry.getFileName().toString()).doesNotStartWith(AtomicFiles.TEMP_PREFIX);
    }
  }

  @Test
  void closedStoreRefusesUseAndWipesTheIdentity() {
    DeviceKeyStore s;
    try (KeyProtection p = passphrase("pw")) {
      s = DeviceKeyStore.create(dir(), p);
    }
    DeviceIdentity id = s.identity();
    EncryptedFileStore files = s.fileStore("x");
    s.close();
    s.close();
    assertThat(id.isClosed()).isTrue();
    assertThatThrownBy(s::identity).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s.fileStore("x")).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> files.put("a", new byte[1])).isInstanceOf(IllegalStateException.class);
    assertThat(s.toString()).contains("closed");
  }

  static byte[] readAll(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
