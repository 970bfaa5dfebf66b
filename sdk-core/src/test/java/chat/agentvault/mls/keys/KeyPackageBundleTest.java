package chat.agentvault.mls.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.Sha256;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.crypto.UnsupportedCipherSuiteException;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.KeyPackage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Creation of KeyPackages with their private keys, and the storage record. */
class KeyPackageBundleTest {
  private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
  private final Ed25519PrivateKey key = Ed25519PrivateKey.generate();

  private KeyPackageBundle.Builder builder(int suite) {
    return KeyPackageBundle.builder(suite, Credential.basic(Bytes.of((byte) 'a')), key)
        .clock(Clock.fixed(NOW, ZoneOffset.UTC));
  }

  private static byte[] publicOf(SecretBytes priv) {
    byte[] raw = priv.copyOfSecret();
    try (X25519PrivateKey sk = X25519PrivateKey.of(raw)) {
      return sk.publicKey().toByteArray();
    } finally {
      SecretBytes.wipe(raw);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void privateKeysMatchTheKeyPackageAndOpenHpke(int suite) throws Exception {
    try (KeyPackageBundle b = builder(suite).build();
        SecretBytes init = b.initPrivateKey();
        SecretBytes enc = b.encryptionPrivateKey()) {
      KeyPackage kp = b.keyPackage();
      assertThat(publicOf(init)).isEqualTo(kp.initKey().toByteArray());
      assertThat(publicOf(enc)).isEqualTo(kp.leafNode().encryptionKey().toByteArray());
      assertThat(kp.initKey()).isNotEqualTo(kp.leafNode().encryptionKey());
      assertThat(kp.leafNode().signatureKey().toByteArray()).isEqualTo(key.publicKey().toByteArray());
      CipherSuite cs = CipherSuites.forId(suite);
      byte[] pt = "group secrets".getBytes();
      CipherSuite.HpkeSealed sealed = MlsCrypto.encryptWithLabel(cs, kp.initKey().toByteArray(), "Welcome", new byte[] {1}, pt);
      byte[] raw = init.copyOfSecret();
      assertThat(MlsCrypto.decryptWithLabel(cs, raw, "Welcome", new byte[] {1}, sealed.kemOutput(), sealed.ciphertext()))
          .isEqualTo(pt);
      SecretBytes.wipe(raw);
    }
  }

  @Test
  void everyBuildDrawsFreshKeys() {
    KeyPackageBundle.Builder b = builder(1);
    KeyPackage a = b.build().keyPackage();
    KeyPackage c = b.build().keyPackage();
    assertThat(a.initKey()).isNotEqualTo(c.initKey());
    assertThat(a.leafNode().encryptionKey()).isNotEqualTo(c.leafNode().encryptionKey());
    assertThat(KeyPackageRef.compute(a)).isNotEqualTo(KeyPackageRef.compute(c));
  }

  @Test
  void lifetimeFollowsValidityAndSkew() {
    KeyPackage kp = builder(1).validity(Duration.ofDays(7)).notBeforeSkew(Duration.ofMinutes(5)).build().keyPackage();
    assertThat(kp.leafNode().lifetime().notBefore()).isEqualTo(NOW.getEpochSecond() - 300);
    assertThat(kp.leafNode().lifetime().notAfter()).isEqualTo(NOW.getEpochSecond() + 7 * 86400);
    KeyPackage dflt = builder(1).build().keyPackage();
    assertThat(dflt.leafNode().lifetime().notAfter() - dflt.leafNode().lifetime().notBefore())
        .isEqualTo(KeyPackageBundle.DEFAULT_VALIDITY.plus(KeyPackageBundle.DEFAULT_NOT_BEFORE_SKEW).getSeconds());
  }

  @Test
  void builderRefusesMisuse() {
    assertThatThrownBy(() -> KeyPackageBundle.builder(2, Credential.basic(Bytes.of((byte) 1)), key))
        .isInstanceOf(UnsupportedCipherSuiteException.class);
    assertThatThrownBy(() -> KeyPackageBundle.builder(1, new Credential(7, null, List.of()), key))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KeyPackageBundle.builder(1, null, key)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> builder(1).validity(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder(1).validity(Duration.ofDays(-1))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder(1).validity(Duration.ofDays(365))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder(1).notBeforeSkew(Duration.ofDays(2))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> builder(1).clock(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void lastResortFlagAddsTheExtension() {
    KeyPackageBundle lr = builder(3).lastResort(true).build();
    KeyPackage kp = lr.keyPackage();
    assertThat(lr.isLastResort()).isTrue();
    assertThat(KeyPackages.isLastResort(kp)).isTrue();
    assertThat(kp.extensions())
        .filteredOn(e -> e.type() == KeyPackages.EXT_LAST_RESORT)
        .singleElement()
        .satisfies(e -> assertThat(e.data().isEmpty()).isTrue());
    assertThat(kp.leafNode().capabilities().extensions()).contains(0x000A);
    KeyPackageValidator.create().validate(kp, NOW);
    KeyPackage ordinary = builder(3).build().keyPackage();
    assertThat(KeyPackages.isLastResort(ordinary)).isFalse();
    assertThat(ordinary.leafNode().capabilities().extensions()).contains(0x000A); // supported either way
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void recordRoundTrip(boolean lastResort) {
    try (KeyPackageBundle b = builder(1).lastResort(lastResort).build()) {
      byte[] record = b.serialize();
      assertThat(record[0]).isEqualTo((byte) 1);
      try (KeyPackageBundle p = KeyPackageBundle.parse(record);
          SecretBytes i1 = b.initPrivateKey();
          SecretBytes i2 = p.initPrivateKey();
          SecretBytes e1 = b.encryptionPrivateKey();
          SecretBytes e2 = p.encryptionPrivateKey()) {
        assertThat(p.keyPackage()).isEqualTo(b.keyPackage());
        assertThat(p.ref()).isEqualTo(b.ref());
        assertThat(p.isLastResort()).isEqualTo(lastResort);
        assertThat(i1.equalsConstantTime(i2)).isTrue();
        assertThat(e1.equalsConstantTime(e2)).isTrue();
        assertThat(p.serialize()).isEqualTo(record);
      }
    }
  }

  private static void assertRecordRejected(byte[] record, KeyPackageRecordException.Reason... allowed) {
    assertThatThrownBy(() -> KeyPackageBundle.parse(record))
        .isInstanceOf(KeyPackageRecordException.class)
        .extracting(e -> ((KeyPackageRecordException) e).reason())
        .isIn((Object[]) allowed);
  }

  @Test
  void truncatedOrExtendedRecordsRefused() {
    byte[] record = builder(3).build().serialize();
    for (int len = 0; len < record.length; len++) {
      assertRecordRejected(Arrays.copyOf(record, len), KeyPackageRecordException.Reason.CORRUPTED);
    }
    assertRecordRejected(Arrays.copyOf(record, record.length + 1), KeyPackageRecordException.Reason.CORRUPTED);
  }

  @Test
  void everyCorruptedByteRefused() {
    byte[] record = builder(1).lastResort(true).build().serialize();
    for (int i = 0; i < record.length; i++) {
      byte[] m = record.clone();
      m[i] ^= 0x01;
      if (i == 0) {
        assertRecordRejected(m, KeyPackageRecordException.Reason.UNSUPPORTED_VERSION);
      } else {
        assertRecordRejected(m, KeyPackageRecordException.Reason.CORRUPTED);
      }
    }
  }

  @Test
  void swappedPrivateKeysRefused() {
    try (KeyPackageBundle b = builder(1).build();
        SecretBytes init = b.initPrivateKey();
        SecretBytes enc = b.encryptionPrivateKey()) {
      byte[] record = b.serialize();
      byte[] i = init.copyOfSecret();
      byte[] e = enc.copyOfSecret();
      int at = indexOf(record, i);
      int et = indexOf(record, e);
      System.arraycopy(e, 0, record, at, 32);
      System.arraycopy(i, 0, record, et, 32);
      assertRecordRejected(record, KeyPackageRecordException.Reason.CORRUPTED); // checksum
      // With a matching checksum, the key-pair check refuses it.
      assertRecordRejected(withChecksum(record), KeyPackageRecordException.Reason.CORRUPTED);
      assertThatThrownBy(() -> KeyPackageBundle.parse(withChecksum(record)))
          .hasMessageContaining("does not match its public key");
    }
  }

  /** The record with its SHA-256 trailer recomputed over the (modified) body. */
  private static byte[] withChecksum(byte[] record) {
    byte[] out = record.clone();
    byte[] body = Arrays.copyOf(record, record.length - 32);
    System.arraycopy(Sha256.hash(body), 0, out, body.length, 32);
    return out;
  }

  @Test
  void badKeyPackageSignatureWithValidChecksumRefused() {
    byte[] record = builder(3).build().serialize();
    // The last byte of the body is in the encryption private key; the KeyPackage signature ends
    // before the two private keys (2 x (1 + 32) bytes).
    int sigLast = record.length - 32 - 2 * 33 - 1;
    record[sigLast] ^= 0x01;
    assertThatThrownBy(() -> KeyPackageBundle.parse(withChecksum(record)))
        .isInstanceOf(KeyPackageRecordException.class)
        .hasMessageContaining("signature");
  }

  @Test
  void futureRecordVersionIsUnsupportedNotCorrupted() {
    byte[] record = builder(1).build().serialize();
    record[0] = 2;
    assertRecordRejected(record, KeyPackageRecordException.Reason.UNSUPPORTED_VERSION);
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }

  @Test
  void toStringShowsNoSecret() {
    try (KeyPackageBundle b = builder(1).build();
        SecretBytes init = b.initPrivateKey();
        SecretBytes enc = b.encryptionPrivateKey();
        SecretBytes seed = key.seed()) {
      HexFormat hex = HexFormat.of();
      String s = b.toString() + builder(1) + KeyPackageValidator.create();
      for (SecretBytes secret : List.of(init, enc, seed)) {
        String h = hex.formatHex(secret.copyOfSecret());
        assertThat(s).doesNotContain(h).doesNotContain(h.substring(0, 16)).doesNotContainIgnoringCase(h.substring(0, 16));
      }
      assertThat(b.toString()).contains("ref=" + b.ref().value().hex()).contains("suite=0x0001");
    }
  }

  @Test
  void closeWipesThePrivateKeys() {
    KeyPackageBundle b = builder(1).build();
    b.close();
    assertThatThrownBy(b::initPrivateKey).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(b::serialize).isInstanceOf(IllegalStateException.class);
    assertThat(b.keyPackage()).isNotNull(); // the public part stays usable
  }
}
