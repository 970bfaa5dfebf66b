package chat.agentvault.ratchet;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.X25519PublicKey;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.identity.PublicIdentity;
import java.security.InvalidKeyException;
import java.util.Arrays;

/**
 * Not API. X3DH (Revision 1) with curve X25519, hash SHA-256 and info {@link Kdf#X3DH_INFO}
 * (§2.1), ending in an initialised Double Ratchet session (Double Ratchet §5.1).
 *
 * <p>IK is the identity's X25519 agreement key, bound to its Ed25519 key by the {@link
 * PublicIdentity} binding signature, which is verified whenever an identity is parsed.
 * AD (§3.3) = Encode(IK_A) || Encode(IK_B) || Ed25519 key of A || Ed25519 key of B (130 bytes):
 * the optional identifying information of §3.3 and §4.8 is the signing key each fingerprint is
 * computed from.
 */
final class X3dh {
  private X3dh() {}

  static byte[] associatedData(PublicIdentity a, PublicIdentity b) {
    return new Codec.Writer(SessionState.AD_LENGTH)
        .raw(PreKeyBundle.encodeKey(a.agreementKey().toByteArray()))
        .raw(PreKeyBundle.encodeKey(b.agreementKey().toByteArray()))
        .raw(a.signingKey().toByteArray())
        .raw(b.signingKey().toByteArray())
        .toByteArray();
  }

  /** Alice (§3.3): from Bob's verified bundle to a session whose first message is the initial one. */
  static SessionState initiate(DeviceIdentity self, PreKeyBundle bundle, boolean he, long now) {
    byte[] spk = bundle.signedPreKeyRaw();
    byte[] opk = bundle.oneTimePreKeyRaw();
    byte[][] ek = Kdf.generateDh();
    byte[] km = new byte[opk == null ? 96 : 128];
    byte[] dh1 = null;
    byte[] dh2 = null;
    byte[] dh3 = null;
    byte[] dh4 = null;
    byte[] okm = null;
    try {
      dh1 = agree(self, spk); // DH(IK_A, SPK_B)
      dh2 = Kdf.dh(ek[0], bundle.identity().agreementKey().toByteArray()); // DH(EK_A, IK_B)
      dh3 = Kdf.dh(ek[0], spk); // DH(EK_A, SPK_B)
      System.arraycopy(dh1, 0, km, 0, 32);
      System.arraycopy(dh2, 0, km, 32, 32);
      System.arraycopy(dh3, 0, km, 64, 32);
      if (opk != null) {
        dh4 = Kdf.dh(ek[0], opk); // DH(EK_A, OPK_B)
        System.arraycopy(dh4, 0, km, 96, 32);
      }
      okm = Kdf.x3dh(km, he ? 96 : 32);
      SessionState s = new SessionState();
      s.peerIdentity = bundle.identity().encode();
      s.peerId = bundle.identity();
      s.ad = associatedData(self.publicIdentity(), bundle.identity());
      s.baseKey = ek[1];
      s.initiator = true;
      s.headerEncryption = he;
      s.signedPreKeyId = bundle.signedPreKeyId();
      s.oneTimePreKeyId = opk == null ? -1 : bundle.oneTimePreKeyIdRaw();
      s.createdAt = now;
      byte[] sk = Arrays.copyOf(okm, 32);
      byte[] hka = he ? Arrays.copyOfRange(okm, 32, 64) : null;
      byte[] nhkb = he ? Arrays.copyOfRange(okm, 64, 96) : null;
      try {
        DoubleRatchet.initAlice(s, sk, spk, hka, nhkb);
      } finally {
        SecretBytes.wipe(sk);
        SecretBytes.wipe(hka);
        SecretBytes.wipe(nhkb);
      }
      return s;
    } finally {
      // §3.3: "Alice deletes her ephemeral private key and the DH outputs"
      SecretBytes.wipe(ek[0]);
      SecretBytes.wipe(km);
      SecretBytes.wipe(dh1);
      SecretBytes.wipe(dh2);
      SecretBytes.wipe(dh3);
      SecretBytes.wipe(dh4);
      SecretBytes.wipe(okm);
    }
  }

  /**
   * Bob (§3.4): the session an initial message asks for. Nothing is consumed here: the caller
   * deletes the one-time prekey once the first message decrypted and the session is stored.
   */
  static SessionState respond(DeviceIdentity self, PreKeys preKeys, WireMessage m, long now) {
    byte[] spkPriv = preKeys.signedPrivate(m.signedPreKeyId);
    byte[] spkPub = preKeys.signedPublic(m.signedPreKeyId);
    byte[] opkPriv = m.oneTimePreKeyId >= 0 ? preKeys.oneTimePrivate(m.oneTimePreKeyId) : null;
    byte[] km = new byte[opkPriv == null ? 96 : 128];
    byte[] dh1 = null;
    byte[] dh2 = null;
    byte[] dh3 = null;
    byte[] dh4 = null;
    byte[] okm = null;
    try {
      dh1 = Kdf.dh(spkPriv, m.sender.agreementKey().toByteArray()); // DH(SPK_B, IK_A)
      dh2 = agree(self, m.baseKey); // DH(IK_B, EK_A)
      dh3 = Kdf.dh(spkPriv, m.baseKey); // DH(SPK_B, EK_A)
      System.arraycopy(dh1, 0, km, 0, 32);
      System.arraycopy(dh2, 0, km, 32, 32);
      System.arraycopy(dh3, 0, km, 64, 32);
      if (opkPriv != null) {
        dh4 = Kdf.dh(opkPriv, m.baseKey); // DH(OPK_B, EK_A)
        System.arraycopy(dh4, 0, km, 96, 32);
      }
      okm = Kdf.x3dh(km, m.headerEncrypted ? 96 : 32);
      SessionState s = new SessionState();
      s.peerIdentity = m.sender.encode();
      s.peerId = m.sender;
      s.ad = associatedData(m.sender, self.publicIdentity());
      s.baseKey = m.baseKey.clone();
      s.initiator = false;
      s.headerEncryption = m.headerEncrypted;
      s.signedPreKeyId = m.signedPreKeyId;
      s.oneTimePreKeyId = m.oneTimePreKeyId;
      s.createdAt = now;
      byte[] sk = Arrays.copyOf(okm, 32);
      byte[] hka = m.headerEncrypted ? Arrays.copyOfRange(okm, 32, 64) : null;
      byte[] nhkb = m.headerEncrypted ? Arrays.copyOfRange(okm, 64, 96) : null;
      try {
        DoubleRatchet.initBob(s, sk, spkPriv, spkPub, hka, nhkb);
      } finally {
        SecretBytes.wipe(sk);
        SecretBytes.wipe(hka);
        SecretBytes.wipe(nhkb);
      }
      return s;
    } finally {
      // §3.4: "Bob ... deletes the DH values"
      SecretBytes.wipe(spkPriv);
      SecretBytes.wipe(opkPriv);
      SecretBytes.wipe(km);
      SecretBytes.wipe(dh1);
      SecretBytes.wipe(dh2);
      SecretBytes.wipe(dh3);
      SecretBytes.wipe(dh4);
      SecretBytes.wipe(okm);
    }
  }

  private static byte[] agree(DeviceIdentity self, byte[] peer) {
    try {
      return Kdf.agreed(self.agree(X25519PublicKey.of(peer)));
    } catch (InvalidKeyException e) {
      throw Kdf.smallOrder(e);
    }
  }
}
