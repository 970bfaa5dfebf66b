package chat.agentvault.mls.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.crypto.UnsupportedCipherSuiteException;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.tree.RatchetTree;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** §10.1 validation of received KeyPackages: what we create passes, each broken rule is refused. */
class KeyPackageValidatorTest {
  private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
  private static final KeyPackageValidator V = KeyPackageValidator.create();

  private final Ed25519PrivateKey key = Ed25519PrivateKey.generate();

  private KeyPackageBundle bundle(int suite) {
    return KeyPackageBundle.builder(suite, Credential.basic(Bytes.of("alice".getBytes(StandardCharsets.UTF_8))), key)
        .clock(Clock.fixed(NOW, ZoneOffset.UTC))
        .build();
  }

  private KeyPackage kp(int suite) {
    return bundle(suite).keyPackage();
  }

  private static void assertRejected(ThrowingCallable call, Reason reason) {
    assertThatThrownBy(call)
        .isInstanceOf(MessageRejectedException.class)
        .extracting(e -> ((MessageRejectedException) e).reason())
        .isEqualTo(reason);
  }

  private static void assertRejected(KeyPackage kp, Reason reason) {
    assertRejected(() -> V.validate(kp, NOW), reason);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void createdKeyPackageValidates(int suite) {
    KeyPackage kp = kp(suite);
    assertThat(kp.cipherSuite()).isEqualTo(suite);
    assertThat(kp.version()).isEqualTo(Codes.MLS10);
    assertThatCode(() -> V.validate(kp, NOW)).doesNotThrowAnyException();
    assertThatCode(() -> V.validateIgnoringLifetime(kp)).doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void x509CredentialValidates(int suite) {
    KeyPackage kp =
        KeyPackageBundle.builder(suite, Credential.x509(List.of(Bytes.of(new byte[] {0x30, 0x00}))), key)
            .clock(Clock.fixed(NOW, ZoneOffset.UTC))
            .build()
            .keyPackage();
    assertThat(kp.leafNode().credential().type()).isEqualTo(Codes.CREDENTIAL_X509);
    assertThatCode(() -> V.validate(kp, NOW)).doesNotThrowAnyException();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void mlsMessageFramedAndBareBothDecode(int suite) {
    KeyPackage kp = kp(suite);
    byte[] framed = new MlsMessage(kp).toByteArray();
    byte[] bare = kp.toByteArray();
    assertThat(Arrays.copyOf(framed, 4)).containsExactly((byte) 0, (byte) 1, (byte) 0, (byte) 5);
    KeyPackage fromFramed = V.decodeAndValidate(framed, NOW);
    KeyPackage fromBare = V.decodeAndValidate(bare, NOW);
    assertThat(fromFramed).isEqualTo(kp);
    assertThat(fromBare).isEqualTo(kp);
    assertThat(fromFramed.toByteArray()).isEqualTo(bare);
    assertThat(KeyPackageRef.compute(fromFramed)).isEqualTo(KeyPackageRef.compute(kp));
  }

  @Test
  void decodeRefusesOtherMessagesGarbageAndTrailingBytes() {
    KeyPackage kp = kp(1);
    byte[] framed = new MlsMessage(kp).toByteArray();
    byte[] trailing = java.util.Arrays.copyOf(framed, framed.length + 1);
    assertRejected(() -> KeyPackageValidator.decode(trailing), Reason.MALFORMED);
    byte[] truncated = java.util.Arrays.copyOf(framed, framed.length - 1);
    assertRejected(() -> KeyPackageValidator.decode(truncated), Reason.MALFORMED);
    assertRejected(() -> KeyPackageValidator.decode(new byte[0]), Reason.MALFORMED);
    assertRejected(() -> KeyPackageValidator.decode(new byte[] {0, 1, 0, 3, 0}), Reason.MALFORMED);
    byte[] otherVersion = framed.clone();
    otherVersion[1] = 2; // MLSMessage version 2: neither framed nor a bare KeyPackage
    assertRejected(() -> KeyPackageValidator.decode(otherVersion), Reason.MALFORMED);
    assertRejected(
        () -> KeyPackageValidator.decode(new byte[KeyPackageValidator.MAX_ENCODED_LENGTH + 1]), Reason.OVERSIZED);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void badSignatureRefused(int suite) {
    KeyPackage kp = kp(suite);
    byte[] sig = kp.signature().toByteArray();
    sig[5] ^= 1;
    assertRejected(
        new KeyPackage(kp.version(), kp.cipherSuite(), kp.initKey(), kp.leafNode(), kp.extensions(), Bytes.wrap(sig)),
        Reason.BAD_SIGNATURE);
    // Signed by another key than leaf_node.signature_key.
    KeyPackage other =
        Resign.keyPackage(
            Ed25519PrivateKey.generate(), kp.version(), suite, kp.initKey(), kp.leafNode(), kp.extensions());
    assertRejected(other, Reason.BAD_SIGNATURE);
  }

  @Test
  void staleLeafSignatureRefusedEvenWithValidKeyPackageSignature() {
    KeyPackage kp = kp(1);
    LeafNode l = kp.leafNode();
    LeafNode changed =
        new LeafNode(
            l.encryptionKey(), l.signatureKey(), Credential.basic(Bytes.of((byte) 'm')), l.capabilities(),
            l.source(), l.lifetime(), null, l.extensions(), l.signature());
    assertRejected(Resign.keyPackage(key, 1, 1, kp.initKey(), changed, kp.extensions()), Reason.BAD_SIGNATURE);
  }

  @Test
  void tamperedFieldsWithoutResigningRefused() {
    KeyPackage kp = kp(3);
    byte[] init = kp.initKey().toByteArray();
    init[0] ^= 0x40;
    assertRejected(
        new KeyPackage(kp.version(), kp.cipherSuite(), Bytes.wrap(init), kp.leafNode(), kp.extensions(), kp.signature()),
        Reason.BAD_SIGNATURE);
    List<Extension> ext = new ArrayList<>(kp.extensions());
    ext.remove(ext.size() - 1);
    assertRejected(
        new KeyPackage(kp.version(), kp.cipherSuite(), kp.initKey(), kp.leafNode(), ext, kp.signature()),
        Reason.BAD_SIGNATURE);
    LeafNode l = kp.leafNode();
    LeafNode longer =
        new LeafNode(
            l.encryptionKey(), l.signatureKey(), l.credential(), l.capabilities(), l.source(),
            new Lifetime(l.lifetime().notBefore(), l.lifetime().notAfter() + 1), null, l.extensions(), l.signature());
    assertRejected(
        new KeyPackage(kp.version(), kp.cipherSuite(), kp.initKey(), longer, kp.extensions(), kp.signature()),
        Reason.BAD_SIGNATURE);
    // Suite 1 <-> 3 swap: both suites use Ed25519, only the signature binds the suite.
    assertRejected(
        new KeyPackage(kp.version(), 1, kp.initKey(), kp.leafNode(), kp.extensions(), kp.signature()),
        Reason.BAD_SIGNATURE);
  }

  /** Flipping any single bit of the encoding never yields an accepted KeyPackage. */
  @Test
  void everyBitFlipOfTheEncodingIsRefused() {
    byte[] enc = new MlsMessage(kp(1)).toByteArray();
    for (int i = 0; i < enc.length; i++) {
      for (int bit : new int[] {0, 7}) {
        byte[] m = enc.clone();
        m[i] ^= (byte) (1 << bit);
        int at = i;
        assertThatThrownBy(() -> V.decodeAndValidate(m, NOW))
            .as("flip of byte %d bit %d", at, bit)
            .isInstanceOf(MessageRejectedException.class);
      }
    }
  }

  @Test
  void unsupportedCipherSuiteRefused() {
    KeyPackage kp = kp(1);
    KeyPackage two = Resign.keyPackage(key, Codes.MLS10, 2, kp.initKey(), kp.leafNode(), kp.extensions());
    assertThatThrownBy(() -> V.validate(two, NOW))
        .isInstanceOf(MessageRejectedException.class)
        .hasCauseInstanceOf(UnsupportedCipherSuiteException.class)
        .extracting(e -> ((MessageRejectedException) e).reason())
        .isEqualTo(Reason.MALFORMED);
    KeyPackage grease = Resign.keyPackage(key, Codes.MLS10, 0x0A0A, kp.initKey(), kp.leafNode(), kp.extensions());
    assertRejected(grease, Reason.MALFORMED);
  }

  @Test
  void wrongVersionRefused() {
    KeyPackage kp = kp(1);
    for (int version : new int[] {0, 2, 0x0A0A}) {
      KeyPackage v = Resign.keyPackage(key, version, 1, kp.initKey(), kp.leafNode(), kp.extensions());
      assertRejected(v, Reason.MALFORMED);
      // Bare encoding decodes (the version is just a field) and is then refused.
      assertRejected(() -> V.decodeAndValidate(v.toByteArray(), NOW), Reason.MALFORMED);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void lifetimeBoundsChecked(int suite) {
    KeyPackage kp = kp(suite);
    Lifetime lt = kp.leafNode().lifetime();
    assertThat(lt.notBefore()).isEqualTo(NOW.getEpochSecond() - 3600);
    assertThat(lt.notAfter()).isEqualTo(NOW.plus(Duration.ofDays(90)).getEpochSecond());
    assertThatCode(() -> V.validate(kp, Instant.ofEpochSecond(lt.notBefore()))).doesNotThrowAnyException();
    assertThatCode(() -> V.validate(kp, Instant.ofEpochSecond(lt.notAfter()))).doesNotThrowAnyException();
    assertRejected(() -> V.validate(kp, Instant.ofEpochSecond(lt.notAfter() + 1)), Reason.EXPIRED);
    assertRejected(() -> V.validate(kp, Instant.ofEpochSecond(lt.notBefore() - 1)), Reason.EXPIRED);
    // Ignoring the lifetime accepts both.
    assertThatCode(() -> V.validateIgnoringLifetime(kp)).doesNotThrowAnyException();
  }

  @Test
  void lifetimeLongerThanTheMaximumOrInvertedRefused() {
    KeyPackage kp = kp(1);
    LeafNode l = kp.leafNode();
    long now = NOW.getEpochSecond();
    KeyPackage tooLong =
        Resign.withLeaf(
            key, kp,
            Resign.leafWith(1, key, l, l.encryptionKey(), l.capabilities(), 1,
                new Lifetime(0, -1L), l.extensions())); // 0 .. 2^64-1, as some test vectors use
    assertRejected(tooLong, Reason.MALFORMED);
    assertThatCode(() -> V.validateIgnoringLifetime(tooLong)).doesNotThrowAnyException();
    KeyPackage twoYears =
        Resign.withLeaf(
            key, kp,
            Resign.leafWith(1, key, l, l.encryptionKey(), l.capabilities(), 1,
                new Lifetime(now - 10, now + Duration.ofDays(730).getSeconds()), l.extensions()));
    assertRejected(twoYears, Reason.MALFORMED);
    assertThatCode(() -> V.withMaxLifetime(Duration.ofDays(731)).validate(twoYears, NOW)).doesNotThrowAnyException();
    KeyPackage inverted =
        Resign.withLeaf(
            key, kp,
            Resign.leafWith(1, key, l, l.encryptionKey(), l.capabilities(), 1, new Lifetime(now + 5, now - 5), l.extensions()));
    assertRejected(inverted, Reason.MALFORMED); // inverted: refused however the range is read
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void initKeyEqualToEncryptionKeyRefused(int suite) {
    KeyPackage kp = kp(suite);
    KeyPackage same =
        Resign.keyPackage(key, Codes.MLS10, suite, kp.leafNode().encryptionKey(), kp.leafNode(), kp.extensions());
    assertRejected(same, Reason.MALFORMED);
  }

  @Test
  void keysOfTheWrongLengthRefused() {
    KeyPackage kp = kp(1);
    KeyPackage shortInit =
        Resign.keyPackage(key, Codes.MLS10, 1, Bytes.of(new byte[31]), kp.leafNode(), kp.extensions());
    assertRejected(shortInit, Reason.MALFORMED);
  }

  @ParameterizedTest
  @ValueSource(ints = {Codes.LEAF_SOURCE_UPDATE, Codes.LEAF_SOURCE_COMMIT})
  void leafSourceOtherThanKeyPackageRefused(int source) {
    KeyPackage kp = kp(1);
    LeafNode l = kp.leafNode();
    LeafNode other = Resign.leafWith(1, key, l, l.encryptionKey(), l.capabilities(), source, null, l.extensions());
    KeyPackage bad = Resign.keyPackage(key, Codes.MLS10, 1, kp.initKey(), other, kp.extensions());
    assertRejected(bad, Reason.MALFORMED);
    assertRejected(() -> V.validateIgnoringLifetime(bad), Reason.MALFORMED);
  }

  @Test
  void createdCapabilitiesCarryGrease() {
    for (int i = 0; i < 20; i++) {
      KeyPackage kp = kp(i % 2 == 0 ? 1 : 3);
      Capabilities c = kp.leafNode().capabilities();
      assertThat(c.versions()).containsExactly(Codes.MLS10); // no GREASE in versions (§13.5)
      assertThat(c.cipherSuites()).startsWith(1, 3).anyMatch(KeyPackages::isGrease);
      assertThat(c.credentials()).startsWith(Codes.CREDENTIAL_BASIC, Codes.CREDENTIAL_X509).anyMatch(KeyPackages::isGrease);
      assertThat(c.proposals()).isNotEmpty().allMatch(KeyPackages::isGrease);
      assertThat(c.extensions()).contains(KeyPackages.EXT_LAST_RESORT).anyMatch(KeyPackages::isGrease);
      assertThat(c.extensions()).doesNotContain(1, 2, 3, 4, 5); // defaults MUST NOT be listed (§7.2)
      assertThat(c.proposals()).doesNotContain(1, 2, 3, 4, 5, 6, 7);
      assertThat(kp.leafNode().extensions()).anyMatch(e -> KeyPackages.isGrease(e.type()));
      assertThat(kp.extensions()).anyMatch(e -> KeyPackages.isGrease(e.type()));
      for (Extension e : kp.leafNode().extensions()) {
        assertThat(c.extensions()).contains(e.type());
      }
      for (Extension e : kp.extensions()) {
        assertThat(c.extensions()).contains(e.type());
      }
    }
  }

  /** A peer listing every GREASE value and unknown code points everywhere is accepted (§13.5). */
  @Test
  void greaseAndUnknownValuesInReceivedKeyPackagesTolerated() {
    KeyPackage kp = kp(1);
    LeafNode l = kp.leafNode();
    List<Integer> grease = KeyPackages.GREASE_VALUES;
    List<Integer> suites = new ArrayList<>(List.of(0x7777, 1));
    suites.addAll(grease);
    List<Integer> exts = new ArrayList<>(List.of(0xF001, 0x0B0B));
    exts.addAll(grease);
    List<Integer> props = new ArrayList<>(List.of(0xF002));
    props.addAll(grease);
    List<Integer> creds = new ArrayList<>(List.of(0xF003, Codes.CREDENTIAL_BASIC));
    creds.addAll(grease);
    List<Integer> versions = new ArrayList<>(List.of(Codes.MLS10, 0x0200));
    versions.addAll(grease);
    Capabilities caps = new Capabilities(versions, suites, exts, props, creds);
    List<Extension> leafExt =
        List.of(new Extension(0xEAEA, Bytes.of((byte) 1, (byte) 2)), new Extension(0xF001, Bytes.EMPTY));
    LeafNode leaf = Resign.leafWith(1, key, l, l.encryptionKey(), caps, 1, l.lifetime(), leafExt);
    List<Extension> kpExt =
        List.of(
            new Extension(0x0A0A, Bytes.wrap(new byte[100])),
            new Extension(0x0B0B, Bytes.of((byte) 9)),
            new Extension(Codes.EXT_APPLICATION_ID, Bytes.of((byte) 'x'))); // a default type needs no listing
    KeyPackage peer = Resign.keyPackage(key, Codes.MLS10, 1, kp.initKey(), leaf, kpExt);
    assertThatCode(() -> V.validate(peer, NOW)).doesNotThrowAnyException();
    assertThatCode(() -> V.decodeAndValidate(new MlsMessage(peer).toByteArray(), NOW)).doesNotThrowAnyException();
  }

  @Test
  void extensionsNotListedInCapabilitiesRefused() {
    KeyPackage kp = kp(1);
    LeafNode l = kp.leafNode();
    List<Extension> kpExt = new ArrayList<>(kp.extensions());
    kpExt.add(new Extension(0xF0F0, Bytes.EMPTY));
    assertRejected(Resign.keyPackage(key, Codes.MLS10, 1, kp.initKey(), l, kpExt), Reason.MALFORMED);
    List<Extension> leafExt = new ArrayList<>(l.extensions());
    leafExt.add(new Extension(0xF0F0, Bytes.EMPTY));
    LeafNode leaf = Resign.leafWith(1, key, l, l.encryptionKey(), l.capabilities(), 1, l.lifetime(), leafExt);
    assertRejected(Resign.keyPackage(key, Codes.MLS10, 1, kp.initKey(), leaf, kp.extensions()), Reason.MALFORMED);
  }

  @Test
  void leafNotListingItsSuiteOrCredentialTypeRefused() {
    KeyPackage kp = kp(3);
    LeafNode l = kp.leafNode();
    Capabilities c = l.capabilities();
    Capabilities noSuite =
        new Capabilities(c.versions(), List.of(1), c.extensions(), c.proposals(), c.credentials());
    Capabilities noCred =
        new Capabilities(c.versions(), c.cipherSuites(), c.extensions(), c.proposals(), List.of(Codes.CREDENTIAL_X509));
    for (Capabilities caps : List.of(noSuite, noCred)) {
      LeafNode leaf = Resign.leafWith(3, key, l, l.encryptionKey(), caps, 1, l.lifetime(), l.extensions());
      assertRejected(Resign.keyPackage(key, Codes.MLS10, 3, kp.initKey(), leaf, kp.extensions()), Reason.MALFORMED);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void keyPackageRefIsStableAndMatchesRefHash(int suite) {
    KeyPackageBundle b = bundle(suite);
    KeyPackage kp = b.keyPackage();
    byte[] expected =
        MlsCrypto.refHash(CipherSuites.forId(suite), "MLS 1.0 KeyPackage Reference", kp.toByteArray());
    KeyPackageRef ref = KeyPackageRef.compute(kp);
    assertThat(ref.value().toByteArray()).isEqualTo(expected).hasSize(32);
    assertThat(KeyPackageRef.compute(kp)).isEqualTo(ref);
    assertThat(b.ref()).isEqualTo(ref);
    KeyPackage decoded = KeyPackageValidator.decode(new MlsMessage(kp).toByteArray());
    assertThat(KeyPackageRef.compute(decoded)).isEqualTo(ref);
    assertThat(KeyPackageRef.compute(kp(suite))).isNotEqualTo(ref);
    // The ref hashes the bare KeyPackage, not the MLSMessage.
    byte[] framedHash =
        MlsCrypto.refHash(CipherSuites.forId(suite), "MLS 1.0 KeyPackage Reference", new MlsMessage(kp).toByteArray());
    assertThat(ref.value().toByteArray()).isNotEqualTo(framedHash);
  }

  @Test
  void keyPackageRefOfUnsupportedSuiteIsATypedError() {
    KeyPackage kp = kp(1);
    KeyPackage two = new KeyPackage(1, 2, kp.initKey(), kp.leafNode(), kp.extensions(), kp.signature());
    assertThatThrownBy(() -> KeyPackageRef.compute(two)).isInstanceOf(UnsupportedCipherSuiteException.class);
  }

  // --- validation against a group ---

  private static GroupContext context(int suite, List<Extension> extensions) {
    return new GroupContext(
        Codes.MLS10, suite, Bytes.of((byte) 7), 0, Bytes.of(new byte[32]), Bytes.EMPTY, extensions);
  }

  @Test
  void validForAGroupOfAnotherMember() {
    KeyPackage member = KeyPackageBundle.builder(1, Credential.basic(Bytes.of((byte) 'b')), Ed25519PrivateKey.generate())
        .clock(Clock.fixed(NOW, ZoneOffset.UTC)).build().keyPackage();
    RatchetTree tree = RatchetTree.create(CipherSuites.forId(1), member.leafNode());
    KeyPackage kp = kp(1);
    assertThatCode(() -> V.validateForGroup(kp, context(1, List.of()), tree, NOW)).doesNotThrowAnyException();
    assertThatCode(() -> V.validateForGroupIgnoringLifetime(kp, context(1, List.of()), tree)).doesNotThrowAnyException();
    // The group's suite differs.
    assertRejected(() -> V.validateForGroup(kp(3), context(1, List.of()), tree, NOW), Reason.MALFORMED);
    assertRejected(
        () -> V.validateForGroup(kp(3), context(3, List.of()), tree, NOW), Reason.MALFORMED); // tree of suite 1
  }

  @Test
  void groupChecksRequiredCapabilitiesAndUniqueKeys() {
    KeyPackage member = kp(1); // same signature key as the candidate below
    RatchetTree tree = RatchetTree.create(CipherSuites.forId(1), member.leafNode());
    assertRejected(() -> V.validateForGroup(kp(1), context(1, List.of()), tree, NOW), Reason.MALFORMED);

    KeyPackage other = KeyPackageBundle.builder(1, Credential.basic(Bytes.of((byte) 'b')), Ed25519PrivateKey.generate())
        .clock(Clock.fixed(NOW, ZoneOffset.UTC)).build().keyPackage();
    RatchetTree tree2 = RatchetTree.create(CipherSuites.forId(1), other.leafNode());
    Extension requiresLastResort = requiredCapabilities(List.of(KeyPackages.EXT_LAST_RESORT));
    assertThatCode(() -> V.validateForGroup(kp(1), context(1, List.of(requiresLastResort)), tree2, NOW))
        .doesNotThrowAnyException();
    Extension requiresUnknown = requiredCapabilities(List.of(0xF00D));
    assertRejected(() -> V.validateForGroup(kp(1), context(1, List.of(requiresUnknown)), tree2, NOW), Reason.MALFORMED);
  }

  private static Extension requiredCapabilities(List<Integer> extensions) {
    TlsWriter w = new TlsWriter();
    TlsWriter.Encoder<Integer> u16 = (ww, v) -> ww.u16(v);
    w.vector(extensions, u16).vector(List.<Integer>of(), u16).vector(List.<Integer>of(), u16);
    return new Extension(Codes.EXT_REQUIRED_CAPABILITIES, w.toBytes());
  }
}
