package chat.agentvault.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.crypto.Hpke.AeadId;
import chat.agentvault.crypto.Hpke.Mode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import javax.crypto.AEADBadTagException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class HpkeTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final byte[] INFO = utf8("agentvault hpke test");
  private static final byte[] PSK_ID = utf8("psk-1");

  /**
   * X25519 public keys whose DH output is all zeros for every scalar (RFC 7748 §6.1 and the
   * well-known small-order list): 0, 1, the two points of order 8, p - 1, p, p + 1, and 0 and 1
   * with the ignored top bit set.
   */
  private static final String[] LOW_ORDER = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000080",
  };

  private static Hpke suite(AeadId aead) {
    return Hpke.of(Hpke.Kem.DHKEM_X25519_HKDF_SHA256, Hpke.Kdf.HKDF_SHA256, aead);
  }

  /** A sender and the matching recipient set up through the public API. */
  private static final class Pair implements AutoCloseable {
    final Hpke.Sender sender;
    final Hpke.Recipient recipient;

    Pair(Hpke.Sender sender, Hpke.Recipient recipient) {
      this.sender = sender;
      this.recipient = recipient;
    }

    @Override
    public void close() {
      sender.close();
      recipient.close();
    }
  }

  private static Pair pair(
      Hpke hpke, Mode mode, X25519PrivateKey skR, X25519PrivateKey skS, SecretBytes psk)
      throws InvalidKeyException {
    X25519PublicKey pkR = skR.publicKey();
    Hpke.Sender s;
    switch (mode) {
      case BASE:
        s = hpke.setupBaseSender(pkR, INFO);
        return new Pair(s, hpke.setupBaseRecipient(s.enc(), skR, INFO));
      case PSK:
        s = hpke.setupPskSender(pkR, INFO, psk, PSK_ID);
        return new Pair(s, hpke.setupPskRecipient(s.enc(), skR, INFO, psk, PSK_ID));
      case AUTH:
        s = hpke.setupAuthSender(pkR, INFO, skS);
        return new Pair(s, hpke.setupAuthRecipient(s.enc(), skR, INFO, skS.publicKey()));
      case AUTH_PSK:
        s = hpke.setupAuthPskSender(pkR, INFO, psk, PSK_ID, skS);
        return new Pair(
            s, hpke.setupAuthPskRecipient(s.enc(), skR, INFO, psk, PSK_ID, skS.publicKey()));
      default:
        throw new AssertionError(mode);
    }
  }

  static Stream<Arguments> everyModeAndAead() {
    List<Arguments> out = new ArrayList<>();
    for (AeadId aead : AeadId.values()) {
      for (Mode mode : Mode.values()) {
        out.add(Arguments.of(aead, mode));
      }
    }
    return out.stream();
  }

  static Stream<Arguments> everyModeAndSealingAead() {
    return everyModeAndAead().filter(a -> a.get()[0] != AeadId.EXPORT_ONLY);
  }

  // --- round trips ------------------------------------------------------------------------------

  @ParameterizedTest
  @MethodSource("everyModeAndAead")
  void roundTripsInEveryModeAndAead(AeadId aead, Mode mode) throws Exception {
    Hpke hpke = suite(aead);
    try (X25519PrivateKey skR = X25519PrivateKey.generate();
        X25519PrivateKey skS = X25519PrivateKey.generate();
        SecretBytes psk = SecretBytes.random(32);
        Pair p = pair(hpke, mode, skR, skS, psk)) {
      assertThat(p.sender.enc()).hasSize(32);
      if (aead == AeadId.EXPORT_ONLY) {
        assertThatThrownBy(() -> p.sender.seal(new byte[0], new byte[0]))
            .isInstanceOf(IllegalStateException.class);
      } else {
        for (int i = 0; i < 5; i++) {
          byte[] pt = utf8("message " + i);
          byte[] aad = utf8("aad " + i);
          byte[] ct = p.sender.seal(aad, pt);
          assertThat(ct).hasSize(pt.length + aead.tagLength());
          assertThat(p.recipient.open(aad, ct)).isEqualTo(pt);
        }
        // Empty plaintext and empty aad are valid.
        assertThat(p.recipient.open(new byte[0], p.sender.seal(new byte[0], new byte[0])))
            .isEmpty();
      }
      try (SecretBytes a = p.sender.export(utf8("ctx"), 64);
          SecretBytes b = p.recipient.export(utf8("ctx"), 64);
          SecretBytes c = p.recipient.export(utf8("other"), 64)) {
        assertThat(a.equalsConstantTime(b)).isTrue();
        assertThat(a.equalsConstantTime(c)).isFalse();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = AeadId.class,
      names = {"AES_128_GCM", "CHACHA20_POLY1305"})
  void singleShotSealAndOpen(AeadId aead) throws Exception {
    Hpke hpke = suite(aead);
    try (X25519PrivateKey skR = hpke.generateKeyPair()) {
      byte[] pt = utf8("single shot");
      byte[] aad = utf8("header");
      Hpke.Sealed sealed = hpke.seal(skR.publicKey(), INFO, aad, pt);
      assertThat(hpke.open(sealed.enc(), skR, INFO, aad, sealed.ciphertext())).isEqualTo(pt);
      Hpke.Sealed again = hpke.seal(skR.publicKey(), INFO, aad, pt);
      assertThat(again.enc()).isNotEqualTo(sealed.enc()); // fresh ephemeral key each time
      assertThatThrownBy(
              () -> hpke.open(sealed.enc(), skR, utf8("other info"), aad, sealed.ciphertext()))
          .isInstanceOf(AEADBadTagException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = AeadId.class,
      names = {"AES_128_GCM", "CHACHA20_POLY1305"})
  void sealerIsSealBaseWithItsInfo(AeadId aead) throws Exception {
    Hpke hpke = suite(aead);
    byte[] longInfo = new byte[300_000];
    new java.util.Random(7).nextBytes(longInfo);
    Hpke.Sealer sealer = hpke.sealer(longInfo.clone());
    byte[] aad = utf8("aad");
    Set<String> encs = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      try (X25519PrivateKey skR = hpke.generateKeyPair()) {
        byte[] pt = utf8("to recipient " + i);
        Hpke.Sealed sealed = sealer.seal(skR.publicKey(), aad, pt);
        assertThat(hpke.open(sealed.enc(), skR, longInfo, aad, sealed.ciphertext())).isEqualTo(pt);
        assertThat(encs.add(HEX.formatHex(sealed.enc()))).as("fresh ephemeral key").isTrue();
        byte[] otherInfo = longInfo.clone();
        otherInfo[longInfo.length - 1] ^= 1;
        assertThatThrownBy(() -> hpke.open(sealed.enc(), skR, otherInfo, aad, sealed.ciphertext()))
            .isInstanceOf(AEADBadTagException.class);
      }
    }
    // The info is hashed when the sealer is made: changing the caller's array later changes nothing.
    byte[] info = utf8("info");
    Hpke.Sealer early = hpke.sealer(info);
    info[0] ^= 1;
    try (X25519PrivateKey skR = hpke.generateKeyPair()) {
      Hpke.Sealed sealed = early.seal(skR.publicKey(), aad, utf8("x"));
      assertThat(hpke.open(sealed.enc(), skR, utf8("info"), aad, sealed.ciphertext())).isEqualTo(utf8("x"));
    }
    assertThatThrownBy(() -> suite(AeadId.EXPORT_ONLY).sealer(INFO)).isInstanceOf(IllegalStateException.class);
  }

  @ParameterizedTest
  @EnumSource(AeadId.class)
  void singleShotExport(AeadId aead) throws Exception {
    Hpke hpke = suite(aead);
    try (X25519PrivateKey skR = hpke.generateKeyPair();
        Hpke.Exported exported = hpke.sendExport(skR.publicKey(), INFO, utf8("ctx"), 32);
        SecretBytes received = hpke.receiveExport(exported.enc(), skR, INFO, utf8("ctx"), 32)) {
      assertThat(exported.secret().length()).isEqualTo(32);
      assertThat(exported.secret().equalsConstantTime(received)).isTrue();
    }
  }

  @Test
  void deriveKeyPairIsDeterministic() {
    Hpke hpke = suite(AeadId.AES_128_GCM);
    byte[] ikm = new byte[32];
    X25519PublicKey a = hpke.deriveKeyPair(ikm).publicKey();
    X25519PublicKey b = suite(AeadId.CHACHA20_POLY1305).deriveKeyPair(ikm).publicKey();
    assertThat(a).isEqualTo(b); // DeriveKeyPair depends on the KEM only (§7.1.3)
    ikm[0] = 1;
    assertThat(hpke.deriveKeyPair(ikm).publicKey()).isNotEqualTo(a);
  }

  // --- tampering -------------------------------------------------------------------------------

  @ParameterizedTest
  @MethodSource("everyModeAndSealingAead")
  void tamperedCiphertextOrAadIsRejectedAndContextStaysInStep(AeadId aead, Mode mode)
      throws Exception {
    Hpke hpke = suite(aead);
    try (X25519PrivateKey skR = X25519PrivateKey.generate();
        X25519PrivateKey skS = X25519PrivateKey.generate();
        SecretBytes psk = SecretBytes.random(32);
        Pair p = pair(hpke, mode, skR, skS, psk)) {
      byte[] aad = utf8("aad");
      byte[] pt = utf8("first");
      byte[] ct = p.sender.seal(aad, pt);
      for (int bit = 0; bit < ct.length * 8; bit++) {
        byte[] bad = ct.clone();
        bad[bit / 8] ^= (byte) (1 << (bit % 8));
        assertThatThrownBy(() -> p.recipient.open(aad, bad))
            .isInstanceOf(AEADBadTagException.class);
      }
      assertThatThrownBy(() -> p.recipient.open(utf8("aaD"), ct))
          .isInstanceOf(AEADBadTagException.class);
      assertThatThrownBy(() -> p.recipient.open(new byte[0], ct))
          .isInstanceOf(AEADBadTagException.class);
      assertThatThrownBy(() -> p.recipient.open(aad, new byte[15]))
          .isInstanceOf(AEADBadTagException.class);
      assertThatThrownBy(() -> p.recipient.open(aad, java.util.Arrays.copyOf(ct, ct.length - 1)))
          .isInstanceOf(AEADBadTagException.class);
      assertThat(p.recipient.sequenceNumber()).isZero(); // failures did not advance it

      assertThat(p.recipient.open(aad, ct)).isEqualTo(pt);
      byte[] ct2 = p.sender.seal(aad, utf8("second"));
      assertThat(p.recipient.open(aad, ct2)).isEqualTo(utf8("second"));
      // A replay of the first message is out of step and fails.
      assertThatThrownBy(() -> p.recipient.open(aad, ct)).isInstanceOf(AEADBadTagException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = AeadId.class,
      names = {"AES_128_GCM", "CHACHA20_POLY1305"})
  void everyBitOfEncMatters(AeadId aead) throws Exception {
    Hpke hpke = suite(aead);
    try (X25519PrivateKey skR = X25519PrivateKey.generate()) {
      byte[] aad = utf8("aad");
      Hpke.Sealed sealed = hpke.seal(skR.publicKey(), INFO, aad, utf8("pt"));
      byte[] enc = sealed.enc();
      // Includes bit 255, which X25519 ignores: enc is bound through kem_context (§4.1).
      for (int bit = 0; bit < 256; bit++) {
        byte[] bad = enc.clone();
        bad[bit / 8] ^= (byte) (1 << (bit % 8));
        assertThatThrownBy(() -> hpke.open(bad, skR, INFO, aad, sealed.ciphertext()))
            .isInstanceOf(AEADBadTagException.class);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Mode.class,
      names = {"PSK", "AUTH_PSK"})
  void wrongPskOrPskIdIsRejected(Mode mode) throws Exception {
    Hpke hpke = suite(AeadId.CHACHA20_POLY1305);
    try (X25519PrivateKey skR = X25519PrivateKey.generate();
        X25519PrivateKey skS = X25519PrivateKey.generate();
        SecretBytes psk = SecretBytes.random(32);
        SecretBytes otherPsk = SecretBytes.random(32)) {
      Hpke.Sender s =
          mode == Mode.PSK
              ? hpke.setupPskSender(skR.publicKey(), INFO, psk, PSK_ID)
              : hpke.setupAuthPskSender(skR.publicKey(), INFO, psk, PSK_ID, skS);
      byte[] ct = s.seal(new byte[0], utf8("pt"));
      for (Object[] variant :
          new Object[][] {{otherPsk, PSK_ID}, {psk, utf8("psk-2")}, {otherPsk, utf8("psk-2")}}) {
        SecretBytes k = (SecretBytes) variant[0];
        byte[] id = (byte[]) variant[1];
        Hpke.Recipient r =
            mode == Mode.PSK
                ? hpke.setupPskRecipient(s.enc(), skR, INFO, k, id)
                : hpke.setupAuthPskRecipient(s.enc(), skR, INFO, k, id, skS.publicKey());
        assertThatThrownBy(() -> r.open(new byte[0], ct)).isInstanceOf(AEADBadTagException.class);
      }
      Hpke.Recipient good =
          mode == Mode.PSK
              ? hpke.setupPskRecipient(s.enc(), skR, INFO, psk, PSK_ID)
              : hpke.setupAuthPskRecipient(s.enc(), skR, INFO, psk, PSK_ID, skS.publicKey());
      assertThat(good.open(new byte[0], ct)).isEqualTo(utf8("pt"));
    }
  }

  @Test
  void wrongSenderKeyOrModeIsRejected() throws Exception {
    Hpke hpke = suite(AeadId.AES_128_GCM);
    try (X25519PrivateKey skR = X25519PrivateKey.generate();
        X25519PrivateKey skS = X25519PrivateKey.generate();
        X25519PrivateKey mallory = X25519PrivateKey.generate()) {
      Hpke.Sender s = hpke.setupAuthSender(skR.publicKey(), INFO, skS);
      byte[] ct = s.seal(new byte[0], utf8("pt"));
      Hpke.Recipient wrongSender = hpke.setupAuthRecipient(s.enc(), skR, INFO, mallory.publicKey());
      assertThatThrownBy(() -> wrongSender.open(new byte[0], ct))
          .isInstanceOf(AEADBadTagException.class);
      Hpke.Recipient baseMode = hpke.setupBaseRecipient(s.enc(), skR, INFO);
      assertThatThrownBy(() -> baseMode.open(new byte[0], ct))
          .isInstanceOf(AEADBadTagException.class);
      Hpke.Recipient wrongRecipient =
          hpke.setupAuthRecipient(s.enc(), mallory, INFO, skS.publicKey());
      assertThatThrownBy(() -> wrongRecipient.open(new byte[0], ct))
          .isInstanceOf(AEADBadTagException.class);
    }
  }

  @Test
  void suitesAreDomainSeparated() throws Exception {
    // Same keys, same ephemeral key: a different aead_id in suite_id gives different exports.
    byte[] ikm = new byte[32];
    Hpke gcm = suite(AeadId.AES_128_GCM);
    Hpke exportOnly = suite(AeadId.EXPORT_ONLY);
    X25519PrivateKey skR = gcm.deriveKeyPair(utf8("recipient"));
    X25519PrivateKey skE = gcm.deriveKeyPair(ikm);
    try (Hpke.Sender a =
            gcm.setupSender(Mode.BASE, skR.publicKey(), INFO, new byte[0], new byte[0], null, skE);
        Hpke.Sender b =
            exportOnly.setupSender(
                Mode.BASE, skR.publicKey(), INFO, new byte[0], new byte[0], null, skE)) {
      assertThat(a.enc()).isEqualTo(b.enc());
      assertThat(a.exporterSecret()).isNotEqualTo(b.exporterSecret());
    }
  }

  // --- input validation ------------------------------------------------------------------------

  @Test
  void pskInputsAreValidated() throws Exception {
    Hpke hpke = suite(AeadId.AES_128_GCM);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    X25519PrivateKey skS = X25519PrivateKey.generate();
    X25519PublicKey pkR = skR.publicKey();
    byte[] enc = X25519PrivateKey.generate().publicKey().toByteArray();
    SecretBytes psk = SecretBytes.random(32);
    SecretBytes empty = SecretBytes.copyOf(new byte[0]);
    SecretBytes shortPsk = SecretBytes.random(31);

    // Missing psk, missing psk_id (inconsistent), too short (§5.1.2), in every PSK-taking setup.
    assertThatThrownBy(() -> hpke.setupPskSender(pkR, INFO, empty, PSK_ID))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("inconsistent");
    assertThatThrownBy(() -> hpke.setupPskSender(pkR, INFO, psk, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("inconsistent");
    assertThatThrownBy(() -> hpke.setupPskSender(pkR, INFO, empty, new byte[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing required PSK");
    assertThatThrownBy(() -> hpke.setupPskSender(pkR, INFO, shortPsk, PSK_ID))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 32");
    assertThatThrownBy(() -> hpke.setupAuthPskSender(pkR, INFO, empty, new byte[0], skS))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hpke.setupPskRecipient(enc, skR, INFO, empty, PSK_ID))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> hpke.setupAuthPskRecipient(enc, skR, INFO, psk, new byte[0], skS.publicKey()))
        .isInstanceOf(IllegalArgumentException.class);

    // VerifyPSKInputs itself, for the modes the public API cannot express.
    byte[] p = psk.copyOfSecret();
    assertThatThrownBy(() -> Hpke.verifyPskInputs(Mode.BASE, p, PSK_ID))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not needed");
    assertThatThrownBy(() -> Hpke.verifyPskInputs(Mode.AUTH, p, PSK_ID))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not needed");
    assertThatThrownBy(() -> Hpke.verifyPskInputs(Mode.AUTH_PSK, new byte[0], new byte[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing required PSK");
    Hpke.verifyPskInputs(Mode.BASE, new byte[0], new byte[0]);
    Hpke.verifyPskInputs(Mode.PSK, p, PSK_ID);
    // Auth modes need the sender key and others refuse it (internal path).
    assertThatThrownBy(
            () -> hpke.setupSender(Mode.AUTH, pkR, INFO, new byte[0], new byte[0], null, skS))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                hpke.setupRecipient(
                    Mode.BASE, enc, skR, INFO, new byte[0], new byte[0], skS.publicKey()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void lowOrderPublicKeysAreRejected() throws Exception {
    Hpke hpke = suite(AeadId.AES_128_GCM);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    X25519PrivateKey skS = X25519PrivateKey.generate();
    Hpke.Sender genuine = hpke.setupAuthSender(skR.publicKey(), INFO, skS);
    for (String h : LOW_ORDER) {
      byte[] point = HEX.parseHex(h);
      X25519PublicKey bad = X25519PublicKey.of(point);
      // As pkR (Encap, AuthEncap, single-shot).
      assertThatThrownBy(() -> hpke.setupBaseSender(bad, INFO))
          .isInstanceOf(InvalidKeyException.class)
          .satisfies(
              e -> assertThat(e.getMessage()).doesNotContainIgnoringCase(h.substring(0, 16)));
      assertThatThrownBy(() -> hpke.setupAuthSender(bad, INFO, skS))
          .isInstanceOf(InvalidKeyException.class);
      assertThatThrownBy(() -> hpke.seal(bad, INFO, new byte[0], new byte[0]))
          .isInstanceOf(InvalidKeyException.class);
      assertThatThrownBy(() -> hpke.sendExport(bad, INFO, new byte[0], 32))
          .isInstanceOf(InvalidKeyException.class);
      // As enc (Decap, AuthDecap).
      assertThatThrownBy(() -> hpke.setupBaseRecipient(point, skR, INFO))
          .isInstanceOf(InvalidKeyException.class);
      assertThatThrownBy(() -> hpke.setupAuthRecipient(point, skR, INFO, skS.publicKey()))
          .isInstanceOf(InvalidKeyException.class);
      // As pkS (AuthDecap), with a genuine enc.
      assertThatThrownBy(() -> hpke.setupAuthRecipient(genuine.enc(), skR, INFO, bad))
          .isInstanceOf(InvalidKeyException.class);
    }
  }

  @Test
  void encOfWrongLengthIsRejected() {
    Hpke hpke = suite(AeadId.CHACHA20_POLY1305);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    for (int n : new int[] {0, 31, 33, 65}) {
      assertThatThrownBy(() -> hpke.setupBaseRecipient(new byte[n], skR, INFO))
          .isInstanceOf(InvalidKeyException.class)
          .hasMessageContaining("32 bytes");
      assertThatThrownBy(() -> hpke.open(new byte[n], skR, INFO, new byte[0], new byte[16]))
          .isInstanceOf(InvalidKeyException.class);
    }
  }

  @Test
  void nullArgumentsAreRejected() throws Exception {
    Hpke hpke = suite(AeadId.AES_128_GCM);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    X25519PublicKey pkR = skR.publicKey();
    assertThatThrownBy(() -> Hpke.of(null, Hpke.Kdf.HKDF_SHA256, AeadId.AES_128_GCM))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hpke.setupBaseSender(null, INFO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hpke.setupBaseSender(pkR, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hpke.setupBaseRecipient(null, skR, INFO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hpke.setupPskSender(pkR, INFO, null, PSK_ID))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hpke.setupAuthSender(pkR, INFO, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hpke.deriveKeyPair(null)).isInstanceOf(IllegalArgumentException.class);
    try (Pair p = pair(hpke, Mode.BASE, skR, null, null)) {
      assertThatThrownBy(() -> p.sender.seal(null, new byte[0]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> p.sender.seal(new byte[0], null))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> p.recipient.open(new byte[0], null))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> p.recipient.export(null, 32))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(p.sender.sequenceNumber()).isZero();
    }
  }

  // --- export-only, export limits, sequence numbers, lifecycle ---------------------------------

  @Test
  void exportOnlyRefusesSealAndOpen() throws Exception {
    Hpke hpke = suite(AeadId.EXPORT_ONLY);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    assertThatThrownBy(() -> hpke.seal(skR.publicKey(), INFO, new byte[0], new byte[0]))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("export-only");
    assertThatThrownBy(() -> hpke.open(new byte[32], skR, INFO, new byte[0], new byte[16]))
        .isInstanceOf(IllegalStateException.class);
    try (Pair p = pair(hpke, Mode.BASE, skR, null, null)) {
      assertThatThrownBy(() -> p.sender.seal(new byte[0], new byte[0]))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("export-only");
      assertThatThrownBy(() -> p.recipient.open(new byte[0], new byte[16]))
          .isInstanceOf(IllegalStateException.class);
      assertThat(p.sender.key()).isEmpty();
      assertThat(p.sender.baseNonce()).isEmpty();
      assertThat(p.sender.exporterSecret()).hasSize(32);
    }
  }

  @Test
  void exportLengthIsBoundedBy255TimesNh() throws Exception {
    Hpke hpke = suite(AeadId.CHACHA20_POLY1305);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    try (Pair p = pair(hpke, Mode.BASE, skR, null, null)) {
      assertThat(Hpke.MAX_EXPORT_LENGTH).isEqualTo(8160);
      try (SecretBytes max = p.sender.export(new byte[0], 8160);
          SecretBytes max2 = p.recipient.export(new byte[0], 8160)) {
        assertThat(max.length()).isEqualTo(8160);
        assertThat(max.equalsConstantTime(max2)).isTrue();
      }
      assertThat(p.sender.export(new byte[0], 0).length()).isZero();
      assertThatThrownBy(() -> p.sender.export(new byte[0], 8161))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> p.recipient.export(new byte[0], -1))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> hpke.sendExport(skR.publicKey(), INFO, new byte[0], 8161))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void nonceIsBaseNonceXorSequenceNumber() throws Exception {
    Hpke hpke = suite(AeadId.AES_128_GCM);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    try (Pair p = pair(hpke, Mode.BASE, skR, null, null)) {
      BigInteger base = new BigInteger(1, p.sender.baseNonce());
      for (long seq :
          new long[] {
            0, 1, 255, 256, 0xFFFF_FFFFL, 0x1_0000_0000L, Long.MAX_VALUE, Long.MIN_VALUE, -2L
          }) {
        p.sender.forceSequenceNumber(seq);
        BigInteger expected = base.xor(new BigInteger(Long.toUnsignedString(seq)));
        assertThat(new BigInteger(1, p.sender.nextNonce())).isEqualTo(expected);
        assertThat(p.sender.nextNonce()).hasSize(12);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = AeadId.class,
      names = {"AES_128_GCM", "CHACHA20_POLY1305"})
  void sequenceNumberOverflowIsAnError(AeadId aead) throws Exception {
    Hpke hpke = suite(aead);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    try (Pair p = pair(hpke, Mode.BASE, skR, null, null)) {
      p.sender.forceSequenceNumber(-2L); // 2^64 - 2: the last usable value
      p.recipient.forceSequenceNumber(-2L);
      byte[] ct = p.sender.seal(new byte[0], utf8("last"));
      assertThat(p.recipient.open(new byte[0], ct)).isEqualTo(utf8("last"));
      assertThatThrownBy(() -> p.sender.seal(new byte[0], utf8("one too many")))
          .isInstanceOf(Hpke.MessageLimitReachedException.class);
      assertThatThrownBy(() -> p.recipient.open(new byte[0], ct))
          .isInstanceOf(Hpke.MessageLimitReachedException.class);
      assertThat(p.sender.sequenceNumber()).isEqualTo(-1L); // no wrap-around to 0
      assertThat(p.recipient.sequenceNumber()).isEqualTo(-1L);
    }
  }

  @Test
  void closeWipesAndRefusesFurtherUse() throws Exception {
    Hpke hpke = suite(AeadId.CHACHA20_POLY1305);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    Pair p = pair(hpke, Mode.BASE, skR, null, null);
    byte[] ct = p.sender.seal(new byte[0], utf8("x"));
    p.close();
    assertThat(p.sender.key()).containsOnly(0);
    assertThat(p.sender.exporterSecret()).containsOnly(0);
    assertThat(p.recipient.key()).containsOnly(0);
    assertThat(p.recipient.exporterSecret()).containsOnly(0);
    assertThatThrownBy(() -> p.sender.seal(new byte[0], utf8("x")))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> p.recipient.open(new byte[0], ct))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> p.sender.export(new byte[0], 32))
        .isInstanceOf(IllegalStateException.class);
    p.close(); // idempotent
  }

  @Test
  void toStringShowsNoSecrets() throws Exception {
    Hpke hpke = suite(AeadId.AES_128_GCM);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    try (Pair p = pair(hpke, Mode.BASE, skR, null, null);
        Hpke.Exported exported = hpke.sendExport(skR.publicKey(), INFO, new byte[0], 32)) {
      Hpke.Sealed sealed = hpke.seal(skR.publicKey(), INFO, new byte[0], utf8("pt"));
      List<String> strings =
          List.of(
              hpke.toString(),
              p.sender.toString(),
              p.recipient.toString(),
              sealed.toString(),
              exported.toString());
      for (String s : strings) {
        assertThat(s).doesNotContainPattern("[0-9a-fA-F]{8}");
        for (byte[] secret :
            new byte[][] {p.sender.key(), p.sender.exporterSecret(), p.sender.baseNonce()}) {
          assertThat(s).doesNotContainIgnoringCase(HEX.formatHex(secret, 0, 4));
        }
      }
      assertThat(p.sender.toString()).contains("Sender", "AES_128_GCM", "seq=0");
    }
  }

  @Test
  void concurrentSealsNeverReuseANonce() throws Exception {
    Hpke hpke = suite(AeadId.AES_128_GCM);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    try (Pair p = pair(hpke, Mode.BASE, skR, null, null)) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<List<String>>> futures = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          futures.add(
              pool.submit(
                  () -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < 250; i++) {
                      out.add(HEX.formatHex(p.sender.seal(new byte[0], new byte[16])));
                    }
                    return out;
                  }));
        }
        Set<String> all = new HashSet<>();
        for (Future<List<String>> f : futures) {
          all.addAll(f.get());
        }
        // Same plaintext, same key: equal ciphertexts would mean a repeated nonce.
        assertThat(all).hasSize(1000);
        assertThat(p.sender.sequenceNumber()).isEqualTo(1000);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Property(tries = 100)
  void anyFlippedBitIsRejectedAndTheGenuineMessageStillOpens(
      @ForAll @Size(max = 64) byte[] pt, @ForAll @Size(max = 16) byte[] aad, @ForAll int position)
      throws Exception {
    Hpke hpke = suite(position % 2 == 0 ? AeadId.AES_128_GCM : AeadId.CHACHA20_POLY1305);
    X25519PrivateKey skR = X25519PrivateKey.generate();
    try (Pair p = pair(hpke, Mode.BASE, skR, null, null)) {
      byte[] ct = p.sender.seal(aad, pt);
      byte[] bad = ct.clone();
      int bit = Math.floorMod(position, ct.length * 8);
      bad[bit / 8] ^= (byte) (1 << (bit % 8));
      assertThatThrownBy(() -> p.recipient.open(aad, bad)).isInstanceOf(AEADBadTagException.class);
      assertThat(p.recipient.open(aad, ct)).isEqualTo(pt);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
