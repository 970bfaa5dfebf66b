package chat.agentvault.mls.crypto;

import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.Ed25519PublicKey;
import chat.agentvault.crypto.Hkdf;
import chat.agentvault.crypto.HmacSha256;
import chat.agentvault.crypto.Hpke;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.Sha256;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.crypto.X25519PublicKey;
import chat.agentvault.crypto.internal.InsecureNonceAead;
import java.security.GeneralSecurityException;

/**
 * Suites 0x0001 (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519) and 0x0003
 * (MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519), which differ only in the AEAD (§17.1).
 */
final class X25519Ed25519Suite implements CipherSuite {
  private final int id;
  private final InsecureNonceAead.Algorithm aead;
  private final Hpke hpke;

  X25519Ed25519Suite(int id, InsecureNonceAead.Algorithm aead, Hpke.AeadId hpkeAead) {
    this.id = id;
    this.aead = aead;
    this.hpke = Hpke.of(Hpke.Kem.DHKEM_X25519_HKDF_SHA256, Hpke.Kdf.HKDF_SHA256, hpkeAead);
  }

  @Override
  public int id() {
    return id;
  }

  @Override
  public int hashLength() {
    return 32;
  }

  @Override
  public byte[] hash(byte[] data) {
    return Sha256.hash(data);
  }

  @Override
  public byte[] extract(byte[] salt, byte[] ikm) {
    return Hkdf.extract(salt, ikm);
  }

  @Override
  public byte[] expand(byte[] prk, byte[] info, int length) {
    return Hkdf.expand(prk, info, length);
  }

  @Override
  public byte[] mac(byte[] key, byte[] data) {
    return HmacSha256.compute(key, data);
  }

  @Override
  public int aeadKeyLength() {
    return aead.keyLength();
  }

  @Override
  public int aeadNonceLength() {
    return aead.nonceLength();
  }

  @Override
  public InsecureNonceAead aead(byte[] key) throws GeneralSecurityException {
    if (key.length != aead.keyLength()) {
      throw new java.security.InvalidKeyException("AEAD key must be " + aead.keyLength() + " bytes");
    }
    return InsecureNonceAead.create(aead, key);
  }

  @Override
  public byte[] sign(byte[] privateKey, byte[] message) {
    try (Ed25519PrivateKey key = Ed25519PrivateKey.fromSeed(privateKey)) {
      return key.sign(message);
    }
  }

  @Override
  public void verify(byte[] publicKey, byte[] message, byte[] signature)
      throws GeneralSecurityException {
    Ed25519PublicKey.of(publicKey).verify(message, signature);
  }

  @Override
  public HpkeSealed hpkeSeal(byte[] publicKey, byte[] info, byte[] aad, byte[] plaintext)
      throws GeneralSecurityException {
    Hpke.Sealed sealed = hpke.seal(X25519PublicKey.of(publicKey), info, aad, plaintext);
    return new HpkeSealed(sealed.enc(), sealed.ciphertext());
  }

  @Override
  public HpkeSealer hpkeSealer(byte[] info) {
    Hpke.Sealer sealer = hpke.sealer(info); // info_hash computed once (Hpke.sealer)
    return (publicKey, aad, plaintext) -> {
      Hpke.Sealed sealed = sealer.seal(X25519PublicKey.of(publicKey), aad, plaintext);
      return new HpkeSealed(sealed.enc(), sealed.ciphertext());
    };
  }

  @Override
  public byte[] hpkeOpen(
      byte[] privateKey, byte[] kemOutput, byte[] info, byte[] aad, byte[] ciphertext)
      throws GeneralSecurityException {
    if (privateKey.length != X25519PrivateKey.LENGTH) {
      throw new java.security.InvalidKeyException("HPKE private key must be 32 bytes");
    }
    try (X25519PrivateKey sk = X25519PrivateKey.of(privateKey)) {
      return hpke.open(kemOutput, sk, info, aad, ciphertext);
    }
  }

  @Override
  public HpkeExported hpkeSendExport(byte[] publicKey, byte[] info, byte[] exporterContext, int length)
      throws GeneralSecurityException {
    try (Hpke.Exported e = hpke.sendExport(X25519PublicKey.of(publicKey), info, exporterContext, length)) {
      return new HpkeExported(e.enc(), e.secret().copyOfSecret());
    }
  }

  @Override
  public byte[] hpkeReceiveExport(
      byte[] privateKey, byte[] kemOutput, byte[] info, byte[] exporterContext, int length)
      throws GeneralSecurityException {
    if (privateKey.length != X25519PrivateKey.LENGTH) {
      throw new java.security.InvalidKeyException("HPKE private key must be 32 bytes");
    }
    try (X25519PrivateKey sk = X25519PrivateKey.of(privateKey);
        SecretBytes secret = hpke.receiveExport(kemOutput, sk, info, exporterContext, length)) {
      return secret.copyOfSecret();
    }
  }

  @Override
  public byte[][] deriveKeyPair(byte[] ikm) {
    try (X25519PrivateKey sk = hpke.deriveKeyPair(ikm);
        SecretBytes secret = sk.secret()) {
      return new byte[][] {secret.copyOfSecret(), sk.publicKey().toByteArray()};
    }
  }

  @Override
  public String toString() {
    return String.format("CipherSuite[0x%04x]", id);
  }
}
