package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.crypto.X25519PublicKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.modes.XChaCha20Poly1305;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.api.Test;

/**
 * Known answers for the KDF chains: every expected value is computed here from javax.crypto's
 * HMAC-SHA256 (and Bouncy Castle's XChaCha20-Poly1305) following the documented construction,
 * never by calling the code under test; then compared with what the code under test produced.
 */
class KdfKatTest {
  static final byte[] X3DH_INFO = "AgentVault X3DH v1".getBytes(StandardCharsets.US_ASCII);
  static final byte[] ROOT = "AgentVault ratchet root v1".getBytes(StandardCharsets.US_ASCII);
  static final byte[] ROOT_HE =
      "AgentVault ratchet root with header keys v1".getBytes(StandardCharsets.US_ASCII);
  static final byte[] MESSAGE = "AgentVault ratchet message key v1".getBytes(StandardCharsets.US_ASCII);

  static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** RFC 5869 §2.3, written out. */
  static byte[] expand(byte[] prk, byte[] info, int length) {
    byte[] out = new byte[length];
    byte[] t = new byte[0];
    for (int i = 1, pos = 0; pos < length; i++) {
      byte[] in = new byte[t.length + info.length + 1];
      System.arraycopy(t, 0, in, 0, t.length);
      System.arraycopy(info, 0, in, t.length, info.length);
      in[in.length - 1] = (byte) i;
      t = hmac(prk, in);
      int n = Math.min(32, length - pos);
      System.arraycopy(t, 0, out, pos, n);
      pos += n;
    }
    return out;
  }

  static byte[] hkdf(byte[] salt, byte[] ikm, byte[] info, int length) {
    return expand(hmac(salt, ikm), info, length);
  }

  static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /**
   * RFC 5869 Appendix A test cases 1 and 2 (short salt and a partial last block; 80-byte salt, a
   * key longer than the SHA-256 block), plus salts of 1 to 130 bytes against javax.crypto's HMAC.
   * (Case 3's empty salt is refused by SecretKeySpec; the ratchet's salts are always 32 bytes.)
   */
  @Test
  void hkdfMatchesRfc5869AndJavaxCryptoForEveryKeyLength() {
    java.util.HexFormat hex = java.util.HexFormat.of();
    byte[] ikm1 = hex.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
    assertThat(
            hex.formatHex(
                Kdf.hkdf(
                    hex.parseHex("000102030405060708090a0b0c"),
                    ikm1,
                    hex.parseHex("f0f1f2f3f4f5f6f7f8f9"),
                    42)))
        .isEqualTo(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    byte[] ikm2 = new byte[80];
    byte[] salt2 = new byte[80];
    byte[] info2 = new byte[80];
    for (int i = 0; i < 80; i++) {
      ikm2[i] = (byte) i;
      salt2[i] = (byte) (0x60 + i);
      info2[i] = (byte) (0xb0 + i);
    }
    assertThat(hex.formatHex(Kdf.hkdf(salt2, ikm2, info2, 82)))
        .isEqualTo(
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
    java.util.Random r = new java.util.Random(5869);
    for (int len = 1; len <= 130; len++) {
      byte[] key = new byte[len];
      byte[] data = new byte[r.nextInt(200)];
      r.nextBytes(key);
      r.nextBytes(data);
      byte[] expected = hmac(key, data);
      assertThat(Kdf.hkdf(key, data, MESSAGE, 100))
          .as("key of %d bytes", len)
          .isEqualTo(expand(expected, MESSAGE, 100));
    }
  }

  @Test
  void kdfRootIsHkdfWithTheRootKeyAsSalt() {
    byte[] rk = Csprng.randomBytes(32);
    byte[] dh = Csprng.randomBytes(32);
    byte[] expected = hkdf(rk, dh, ROOT, 64);
    byte[][] got = Kdf.root(rk, dh, false);
    assertThat(got[0]).isEqualTo(Arrays.copyOfRange(expected, 0, 32));
    assertThat(got[1]).isEqualTo(Arrays.copyOfRange(expected, 32, 64));
    byte[] he = hkdf(rk, dh, ROOT_HE, 96);
    byte[][] gotHe = Kdf.root(rk, dh, true);
    for (int i = 0; i < 3; i++) {
      assertThat(gotHe[i]).isEqualTo(Arrays.copyOfRange(he, 32 * i, 32 * i + 32));
    }
  }

  @Test
  void kdfChainIsHmacOfOneAndTwo() {
    byte[] ck = Csprng.randomBytes(32);
    byte[][] got = Kdf.chain(ck);
    assertThat(got[0]).as("next chain key").isEqualTo(hmac(ck, new byte[] {2}));
    assertThat(got[1]).as("message key").isEqualTo(hmac(ck, new byte[] {1}));
  }

  @Test
  void messageKeyAndNonceAreHkdfExpandOfTheMessageKey() {
    byte[] mk = Csprng.randomBytes(32);
    assertThat(Kdf.messageKeys(mk)).isEqualTo(expand(mk, MESSAGE, 56));
  }

  @Test
  void x3dhKdfPrefixesThirtyTwoFfBytesUnderAZeroSalt() {
    byte[] km = Csprng.randomBytes(128);
    byte[] ikm = new byte[160];
    Arrays.fill(ikm, 0, 32, (byte) 0xff);
    System.arraycopy(km, 0, ikm, 32, 128);
    assertThat(Kdf.x3dh(km, 32)).isEqualTo(hkdf(new byte[32], ikm, X3DH_INFO, 32));
    assertThat(Kdf.x3dh(km, 96)).isEqualTo(hkdf(new byte[32], ikm, X3DH_INFO, 96));
  }

  /** A pinned vector, so a change of any label or construction shows up as a diff here. */
  @Test
  void pinnedVector() {
    byte[] k = new byte[32];
    for (int i = 0; i < 32; i++) {
      k[i] = (byte) i;
    }
    assertThat(java.util.HexFormat.of().formatHex(Kdf.chain(k)[1]))
        .isEqualTo(java.util.HexFormat.of().formatHex(hmac(k, new byte[] {1})));
    byte[][] r = Kdf.root(k, k, false);
    assertThat(r[0]).isEqualTo(Arrays.copyOf(hkdf(k, k, ROOT, 64), 32));
  }

  /**
   * The whole derivation of a live session, recomputed here: X3DH's SK from the four DH values,
   * Alice's first KDF_RK, the first chain step, the message key and nonce, and the AEAD with
   * AD = X3DH AD || the message bytes before the ciphertext.
   */
  @Test
  void aLiveSessionFollowsTheDocumentedDerivationEndToEnd() throws Exception {
    Party alice = Party.create();
    Party bob = Party.create();
    PreKeyBundle bundle = bob.api.bundle();
    alice.api.start(bob.address, bundle);
    SessionState a = alice.record(bob).current();
    byte[] wire = alice.send(bob, "known answer");

    // SK = KDF(DH1 || DH2 || DH3 || DH4), from Bob's private keys and Alice's identity
    X25519PublicKey ek = X25519PublicKey.of(a.baseKey);
    byte[] spkPriv = bob.api.preKeys().signedPrivate(bundle.signedPreKeyId());
    byte[] opkPriv = bob.api.preKeys().oneTimePrivate(bundle.oneTimePreKeyId().getAsInt());
    byte[] dh1 = alice.identity.agree(bundle.signedPreKey()).copyOfSecret();
    byte[] dh2 = bob.identity.agree(ek).copyOfSecret();
    byte[] dh3 = X25519PrivateKey.of(spkPriv).agree(ek).copyOfSecret();
    byte[] dh4 = X25519PrivateKey.of(opkPriv).agree(ek).copyOfSecret();
    byte[] ikm = new byte[32 + 128];
    Arrays.fill(ikm, 0, 32, (byte) 0xff);
    System.arraycopy(dh1, 0, ikm, 32, 32);
    System.arraycopy(dh2, 0, ikm, 64, 32);
    System.arraycopy(dh3, 0, ikm, 96, 32);
    System.arraycopy(dh4, 0, ikm, 128, 32);
    byte[] sk = hkdf(new byte[32], ikm, X3DH_INFO, 32);

    // RatchetInitAlice: RK, CKs = KDF_RK(SK, DH(DHs, SPK_B))
    byte[] dhOut = X25519PrivateKey.of(a.dhsPriv).agree(bundle.signedPreKey()).copyOfSecret();
    byte[] rkCk = hkdf(sk, dhOut, ROOT, 64);
    assertThat(a.rk).isEqualTo(Arrays.copyOf(rkCk, 32));
    assertThat(a.cks).isEqualTo(Arrays.copyOfRange(rkCk, 32, 64));

    // message 0: mk = HMAC(CKs, 0x01), key || nonce = HKDF-Expand(mk, info, 56)
    byte[] mk = hmac(a.cks, new byte[] {1});
    byte[] km = expand(mk, MESSAGE, 56);
    int ctOffset = wire.length - ("known answer".length() + 16);
    byte[] ad = new byte[a.ad.length + ctOffset];
    System.arraycopy(a.ad, 0, ad, 0, a.ad.length);
    System.arraycopy(wire, 0, ad, a.ad.length, ctOffset);
    XChaCha20Poly1305 bc = new XChaCha20Poly1305();
    bc.init(false, new AEADParameters(new KeyParameter(Arrays.copyOf(km, 32)), 128, Arrays.copyOfRange(km, 32, 56), ad));
    byte[] out = new byte[bc.getOutputSize(wire.length - ctOffset)];
    int n = bc.processBytes(wire, ctOffset, wire.length - ctOffset, out, 0);
    n += bc.doFinal(out, n);
    assertThat(new String(out, 0, n, StandardCharsets.UTF_8)).isEqualTo("known answer");
    // and the chain moved on by HMAC(CKs, 0x02)
    assertThat(alice.record(bob).current().cks).isEqualTo(hmac(a.cks, new byte[] {2}));
    // AD = Encode(IK_A) || Encode(IK_B) || Ed25519 A || Ed25519 B
    byte[] expectedAd = new byte[130];
    expectedAd[0] = 0x05;
    System.arraycopy(alice.identity.publicIdentity().agreementKey().toByteArray(), 0, expectedAd, 1, 32);
    expectedAd[33] = 0x05;
    System.arraycopy(bob.identity.publicIdentity().agreementKey().toByteArray(), 0, expectedAd, 34, 32);
    System.arraycopy(alice.identity.publicIdentity().signingKey().toByteArray(), 0, expectedAd, 66, 32);
    System.arraycopy(bob.identity.publicIdentity().signingKey().toByteArray(), 0, expectedAd, 98, 32);
    assertThat(a.ad).isEqualTo(expectedAd);
    assertThat(bob.receive(alice, wire)).isEqualTo("known answer");
  }
}
