package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.crypto.X25519PublicKey;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** X3DH: agreement, refusals, the bundle codec and prekey lifecycle. */
class X3dhTest {
  /** Low-order X25519 points: 0, 1, two of order 8, p - 1 (RFC 7748 §6.1, Wycheproof). */
  static final List<String> SMALL_ORDER =
      List.of(
          "0000000000000000000000000000000000000000000000000000000000000000",
          "0100000000000000000000000000000000000000000000000000000000000000",
          "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
          "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
          "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");

  private static RatchetException.Reason reasonOf(Runnable r) {
    RatchetException e = catchThrowableOfType(r::run, RatchetException.class);
    assertThat(e).as("a RatchetException").isNotNull();
    return e.reason();
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void bothSidesDeriveTheSameSecretWithAndWithoutAOneTimePreKey(boolean withOneTime) throws Exception {
    Party alice = Party.create();
    Party bob = Party.create();
    PreKeyBundle bundle = withOneTime ? bob.api.bundle() : bob.api.bundleWithoutOneTimePreKey();
    assertThat(bundle.oneTimePreKey().isPresent()).isEqualTo(withOneTime);
    alice.api.start(bob.address, bundle);
    SessionState a = alice.record(bob).current();
    byte[] wire = alice.send(bob, "hi");
    // Bob's side of X3DH alone: before his first DH ratchet step his root key is SK
    SessionState b = X3dh.respond(bob.identity, bob.api.preKeys(), WireMessage.parse(wire), 0);
    byte[] sk = b.rk;
    byte[] dh = X25519PrivateKey.of(a.dhsPriv).agree(bundle.signedPreKey()).copyOfSecret();
    byte[] expected = KdfKatTest.hkdf(sk, dh, KdfKatTest.ROOT, 64);
    assertThat(a.rk).isEqualTo(Arrays.copyOf(expected, 32));
    assertThat(a.cks).isEqualTo(Arrays.copyOfRange(expected, 32, 64));
    assertThat(b.ad).isEqualTo(a.ad);
    assertThat(bob.receive(alice, wire)).isEqualTo("hi");
    if (withOneTime) {
      assertThat(bob.api.preKeys().hasOneTime(bundle.oneTimePreKeyId().getAsInt()))
          .as("one-time prekey deleted once used").isFalse();
    }
  }

  @Test
  void aBundleWithABadSignatureIsRefused() {
    Party bob = Party.create();
    byte[] good = bob.api.bundle().toBytes();
    assertThat(PreKeyBundle.parse(good).toBytes()).isEqualTo(good);
    int spkIdAt = 1 + 129;
    for (int at = spkIdAt; at < spkIdAt + 4 + 32 + 64; at++) { // id, key, signature
      byte[] bad = good.clone();
      bad[at] ^= 0x10;
      assertThat(reasonOf(() -> PreKeyBundle.parse(bad))).as("byte %d", at).isEqualTo(Reason.BAD_SIGNATURE);
    }
    for (int at = 1; at < 130; at++) { // the identity: its binding no longer verifies
      byte[] bad = good.clone();
      bad[at] ^= 0x01;
      assertThat(reasonOf(() -> PreKeyBundle.parse(bad))).as("byte %d", at)
          .isIn(Reason.BAD_SIGNATURE, Reason.UNSUPPORTED_VERSION, Reason.MALFORMED);
    }
    // A signature by another identity over the same prekey
    try (DeviceIdentity mallory = DeviceIdentity.generate()) {
      PreKeyBundle real = PreKeyBundle.parse(good);
      byte[] spk = real.signedPreKey().toByteArray();
      byte[] forged =
          new PreKeyBundle(real.identity(), real.signedPreKeyId(), spk,
                  mallory.sign(PreKeyBundle.signedMessage(real.signedPreKeyId(), spk)), -1, null)
              .toBytes();
      assertThat(reasonOf(() -> PreKeyBundle.parse(forged))).isEqualTo(Reason.BAD_SIGNATURE);
    }
  }

  @Test
  void bundleDecodingIsTotal() {
    Party bob = Party.create();
    byte[] good = bob.api.bundle().toBytes();
    assertThat(good).hasSize(267);
    assertThat(bob.api.bundleWithoutOneTimePreKey().toBytes()).hasSize(231);
    for (int len = 0; len < good.length; len++) {
      byte[] cut = Arrays.copyOf(good, len);
      assertThat(reasonOf(() -> PreKeyBundle.parse(cut))).isEqualTo(Reason.MALFORMED);
    }
    assertThat(reasonOf(() -> PreKeyBundle.parse(Arrays.copyOf(good, good.length + 1))))
        .isEqualTo(Reason.MALFORMED);
    byte[] v2 = good.clone();
    v2[0] = 2;
    assertThat(reasonOf(() -> PreKeyBundle.parse(v2))).isEqualTo(Reason.UNSUPPORTED_VERSION);
    byte[] flag = good.clone();
    flag[230] = 2;
    assertThat(reasonOf(() -> PreKeyBundle.parse(flag))).isEqualTo(Reason.MALFORMED);
    byte[] noOpkFlag = good.clone();
    noOpkFlag[230] = 0; // says none, but 36 bytes follow
    assertThat(reasonOf(() -> PreKeyBundle.parse(noOpkFlag))).isEqualTo(Reason.MALFORMED);
    assertThat(PreKeyBundle.parse(good).toString()).doesNotContain(HexFormat.of().formatHex(good, 131, 163));
  }

  @Test
  void aReusedOneTimePreKeyIsRefused() {
    Party alice = Party.create();
    Party bob = Party.create();
    Party carol = Party.create();
    PreKeyBundle bundle = bob.api.bundle();
    alice.api.start(bob.address, bundle);
    bob.receive(alice, alice.send(bob, "first use"));
    carol.api.start(bob.address, bundle); // the relay handed the same bundle out twice
    byte[] fromCarol = carol.send(bob, "second use");
    bob.assertRefused(carol, fromCarol, Reason.ONE_TIME_PREKEY_UNKNOWN_OR_USED);
    assertThat(bob.api.hasSession(carol.address)).isFalse();
    alice.api.deleteSession(bob.address);
    alice.api.start(bob.address, bundle); // and Alice again, on a fresh ephemeral key
    bob.assertRefused(alice, alice.send(bob, "again"), Reason.ONE_TIME_PREKEY_UNKNOWN_OR_USED);
    // an unknown one-time prekey id
    PreKeyBundle other = bob.api.bundle();
    byte[] b = other.toBytes();
    b[231] ^= 0x40; // its id
    // ids are not signed; the key is unknown to Bob under that id
    PreKeyBundle wrongId = PreKeyBundle.parse(b);
    carol.api.start(bob.address, wrongId);
    bob.assertRefused(carol, carol.send(bob, "x"), Reason.ONE_TIME_PREKEY_UNKNOWN_OR_USED);
  }

  @Test
  void smallOrderKeysAreRefused() throws Exception {
    Party alice = Party.create();
    Party bob = Party.create();
    PreKeyBundle real = bob.api.bundle();
    for (String hex : SMALL_ORDER) {
      byte[] p = HexFormat.of().parseHex(hex);
      // as signed prekey, correctly signed by Bob
      PreKeyBundle spk =
          PreKeyBundle.parse(
              new PreKeyBundle(bob.identity.publicIdentity(), 99, p,
                      bob.identity.sign(PreKeyBundle.signedMessage(99, p)), -1, null)
                  .toBytes());
      assertThat(reasonOf(() -> alice.api.start(bob.address, spk))).as(hex).isEqualTo(Reason.SMALL_ORDER_KEY);
      // as one-time prekey
      PreKeyBundle opk =
          new PreKeyBundle(bob.identity.publicIdentity(), real.signedPreKeyId(),
              real.signedPreKey().toByteArray(),
              bob.identity.sign(PreKeyBundle.signedMessage(real.signedPreKeyId(), real.signedPreKey().toByteArray())),
              5, p);
      assertThat(reasonOf(() -> alice.api.start(bob.address, opk))).as(hex).isEqualTo(Reason.SMALL_ORDER_KEY);
    }
    assertThat(alice.api.hasSession(bob.address)).isFalse();
    // as Alice's ephemeral key in an initial message, and as a ratchet key in a header
    alice.api.start(bob.address, real);
    byte[] initial = alice.send(bob, "x");
    int baseKeyAt = 3 + 129;
    for (String hex : SMALL_ORDER) {
      byte[] bad = initial.clone();
      System.arraycopy(HexFormat.of().parseHex(hex), 0, bad, baseKeyAt, 32);
      bob.assertRefused(alice, bad, Reason.SMALL_ORDER_KEY);
    }
    bob.receive(alice, initial);
    alice.receive(bob, bob.send(alice, "reply"));
    byte[] normal = alice.send(bob, "y");
    for (String hex : SMALL_ORDER) {
      byte[] bad = normal.clone();
      System.arraycopy(HexFormat.of().parseHex(hex), 0, bad, 2, 32);
      bob.assertRefused(alice, bad, Reason.SMALL_ORDER_KEY);
    }
    assertThat(bob.receive(alice, normal)).isEqualTo("y");
  }

  @Test
  void signedPreKeysRotateAndThePreviousOneIsKeptForTheGracePeriod() {
    Party.MutableClock clock = new Party.MutableClock();
    RatchetConfig config =
        RatchetConfig.builder()
            .clock(clock)
            .signedPreKeyRotation(Duration.ofDays(7))
            .signedPreKeyGrace(Duration.ofDays(2))
            .build();
    Party bob = new Party(config);
    PreKeyBundle old = bob.api.bundle();
    clock.advance(Duration.ofDays(7));
    PreKeyBundle fresh = bob.api.bundle();
    assertThat(fresh.signedPreKeyId()).isNotEqualTo(old.signedPreKeyId());
    assertThat(bob.api.preKeys().signedIds()).containsExactly(old.signedPreKeyId(), fresh.signedPreKeyId());
    Party alice = new Party(config);
    alice.api.start(bob.address, old);
    assertThat(bob.receive(alice, alice.send(bob, "in transit"))).isEqualTo("in transit");
    clock.advance(Duration.ofDays(2));
    bob.restart(); // prekeys come back from their store, and maintenance runs
    assertThat(bob.api.preKeys().signedIds()).containsExactly(fresh.signedPreKeyId());
    Party carol = new Party(config);
    carol.api.start(bob.address, bob.api.bundleWithoutOneTimePreKey());
    assertThat(bob.receive(carol, carol.send(bob, "current"))).isEqualTo("current");
    Party dave = new Party(config);
    dave.api.start(bob.address, PreKeyBundle.parse(withoutOneTime(old)));
    bob.assertRefused(dave, dave.send(bob, "too late"), Reason.SIGNED_PREKEY_UNKNOWN);
  }

  private static byte[] withoutOneTime(PreKeyBundle b) {
    byte[] full = b.toBytes();
    byte[] out = Arrays.copyOf(full, 231);
    out[230] = 0;
    return out;
  }

  @Test
  void oneTimePreKeysAreIssuedOnceAndReplenished() {
    RatchetConfig config = RatchetConfig.builder().oneTimePreKeyBatch(5).oneTimePreKeyMinimum(2).build();
    Party bob = new Party(config);
    assertThat(bob.api.preKeys().unissuedOneTimePreKeys()).isEqualTo(5);
    java.util.Set<Integer> ids = new java.util.HashSet<>();
    for (int i = 0; i < 12; i++) {
      assertThat(ids.add(bob.api.bundle().oneTimePreKeyId().getAsInt())).as("never handed out twice").isTrue();
      assertThat(bob.api.preKeys().unissuedOneTimePreKeys()).isGreaterThanOrEqualTo(2);
    }
    bob.restart();
    for (int i = 0; i < 5; i++) {
      assertThat(ids.add(bob.api.bundle().oneTimePreKeyId().getAsInt())).as("also after a restart").isTrue();
    }
  }

  @Test
  void misuseIsAnIllegalArgument() {
    Party alice = Party.create();
    Party bob = Party.create();
    Party carol = Party.create();
    assertThatThrownBy(() -> alice.api.start(carol.address, bob.api.bundle()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> alice.api.start(alice.address, alice.api.bundle()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PeerAddress(alice.identity.fingerprint(), -1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RatchetConfig.builder().maxSkip(10).maxSkippedKeys(5).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RatchetConfig.builder().maxSkip(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RatchetConfig.builder().skippedKeyLifetime(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    alice.api.close();
    assertThatThrownBy(() -> alice.api.bundle()).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> alice.send(bob, "x")).isInstanceOf(IllegalStateException.class);
  }
}
