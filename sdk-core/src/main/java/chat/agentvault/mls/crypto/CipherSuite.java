package chat.agentvault.mls.crypto;

import chat.agentvault.crypto.internal.InsecureNonceAead;
import java.security.GeneralSecurityException;

/**
 * The primitives of one MLS cipher suite (RFC 9420 §5.1). Byte arrays here are protocol values
 * (secrets included): this interface never leaves the {@code mls} packages.
 */
public interface CipherSuite {
  /** The IANA code point, e.g. 0x0001. */
  int id();

  /** Nh: the hash and KDF output size. */
  int hashLength();

  byte[] hash(byte[] data);

  /** KDF.Extract. */
  byte[] extract(byte[] salt, byte[] ikm);

  /** KDF.Expand. */
  byte[] expand(byte[] prk, byte[] info, int length);

  /** MAC (HMAC with the suite hash, §5.1). */
  byte[] mac(byte[] key, byte[] data);

  /** Nk and Nn of the AEAD. */
  int aeadKeyLength();

  int aeadNonceLength();

  /** An AEAD with a protocol-derived nonce (§6.3.1, §9). */
  InsecureNonceAead aead(byte[] key) throws GeneralSecurityException;

  /** Signature.Sign with a private key in its native encoding (Ed25519: the 32-byte seed). */
  byte[] sign(byte[] privateKey, byte[] message);

  /** Signature.Verify; throws on any invalid signature or key. */
  void verify(byte[] publicKey, byte[] message, byte[] signature) throws GeneralSecurityException;

  /** HPKE SealBase / OpenBase with this suite's KEM, KDF and AEAD (RFC 9180 §6.1). */
  HpkeSealed hpkeSeal(byte[] publicKey, byte[] info, byte[] aad, byte[] plaintext)
      throws GeneralSecurityException;

  byte[] hpkeOpen(byte[] privateKey, byte[] kemOutput, byte[] info, byte[] aad, byte[] ciphertext)
      throws GeneralSecurityException;

  /**
   * SealBase to many public keys with one {@code info} (e.g. every new member of a Welcome):
   * {@link #hpkeSeal} with that info, the info hashed once where the suite can. Thread-safe.
   */
  default HpkeSealer hpkeSealer(byte[] info) {
    byte[] fixed = info.clone();
    return (publicKey, aad, plaintext) -> hpkeSeal(publicKey, fixed, aad, plaintext);
  }

  /** {@link #hpkeSeal} with a fixed info. */
  @FunctionalInterface
  interface HpkeSealer {
    HpkeSealed seal(byte[] publicKey, byte[] aad, byte[] plaintext) throws GeneralSecurityException;
  }

  /**
   * SendExportBase (RFC 9180 §6.2): SetupBaseS(pk, info), then Export(exporterContext, length).
   * The result's {@code secret} is a secret.
   */
  HpkeExported hpkeSendExport(byte[] publicKey, byte[] info, byte[] exporterContext, int length)
      throws GeneralSecurityException;

  /** ReceiveExportBase (RFC 9180 §6.2): SetupBaseR(kemOutput, sk, info), then Export. */
  byte[] hpkeReceiveExport(byte[] privateKey, byte[] kemOutput, byte[] info, byte[] exporterContext, int length)
      throws GeneralSecurityException;

  /** KEM.DeriveKeyPair(ikm) (RFC 9180 §7.1.3): {private, public}. */
  byte[][] deriveKeyPair(byte[] ikm);

  /** An HPKE ciphertext before TLS framing. */
  record HpkeSealed(byte[] kemOutput, byte[] ciphertext) {}

  /** An HPKE encapsulation and the secret exported from its context. */
  record HpkeExported(byte[] kemOutput, byte[] secret) {}
}
