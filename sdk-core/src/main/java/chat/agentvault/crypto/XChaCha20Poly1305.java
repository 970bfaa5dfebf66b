package chat.agentvault.crypto;

import chat.agentvault.crypto.internal.Sodium;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.util.Objects;
import javax.crypto.AEADBadTagException;

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §2), the default AEAD for everything outside MLS.
 *
 * <p>Every {@link #seal} draws a fresh 192-bit nonce from {@link Csprng}; with 24-byte nonces the
 * chance of a collision stays negligible for far more messages than one key will ever protect
 * (birthday bound 2^96), which is why callers never handle nonces. Wire format: {@code nonce(24) ||
 * ciphertext || tag(16)}.
 *
 * <p>Backend: libsodium's {@code crypto_aead_xchacha20poly1305_ietf}: 3x Bouncy Castle at 1 KiB and
 * 5x at 64 KiB measured here ({@code XChaCha20Poly1305Bench}); the JDK has no XChaCha20.
 */
public final class XChaCha20Poly1305 implements Aead, AutoCloseable {
  public static final int KEY_LENGTH = 32;
  public static final int NONCE_LENGTH = 24;
  public static final int TAG_LENGTH = 16;
  /** Bytes {@link #seal} adds to the plaintext. */
  public static final int OVERHEAD = NONCE_LENGTH + TAG_LENGTH;

  private final SecretBytes key;

  private XChaCha20Poly1305(SecretBytes key) {
    this.key = key;
  }

  /** An AEAD over a copy of {@code key} (32 bytes). */
  public static XChaCha20Poly1305 create(SecretBytes key) throws InvalidKeyException {
    Objects.requireNonNull(key, "key");
    if (key.length() != KEY_LENGTH) {
      throw new InvalidKeyException("XChaCha20-Poly1305 key must be 32 bytes, not " + key.length());
    }
    return new XChaCha20Poly1305(SecretBytes.copyOf(key.raw()));
  }

  /** A fresh random key. */
  public static SecretBytes generateKey() {
    return SecretBytes.random(KEY_LENGTH);
  }

  @Override
  public byte[] seal(byte[] plaintext, byte[] associatedData) {
    Objects.requireNonNull(plaintext, "plaintext");
    byte[] nonce = Csprng.randomBytes(NONCE_LENGTH);
    byte[] sealed = sealWithNonce(key.raw(), nonce, plaintext, associatedData);
    byte[] out = new byte[NONCE_LENGTH + sealed.length];
    System.arraycopy(nonce, 0, out, 0, NONCE_LENGTH);
    System.arraycopy(sealed, 0, out, NONCE_LENGTH, sealed.length);
    return out;
  }

  @Override
  public byte[] open(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException {
    Objects.requireNonNull(ciphertext, "ciphertext");
    if (ciphertext.length < OVERHEAD) {
      throw new AEADBadTagException("ciphertext shorter than nonce and tag");
    }
    byte[] nonce = java.util.Arrays.copyOfRange(ciphertext, 0, NONCE_LENGTH);
    byte[] body = java.util.Arrays.copyOfRange(ciphertext, NONCE_LENGTH, ciphertext.length);
    return openWithNonce(key.raw(), nonce, body, associatedData);
  }

  /** Wipes this instance's key copy. */
  @Override
  public void close() {
    key.close();
  }

  // Explicit-nonce forms: package-private, for the known-answer tests only.
  static byte[] sealWithNonce(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad) {
    // libsodium takes raw pointers and reads exactly 32 key bytes and 24 nonce bytes
    // (draft-irtf-cfrg-xchacha-03 §2: 256-bit key, 192-bit nonce); a shorter array would be read
    // past its end and a longer one silently truncated, so the lengths are checked here, as
    // openWithNonce does (Wycheproof xchacha20_poly1305_test.json tcId 307-315, InvalidNonceSize).
    Objects.requireNonNull(plaintext, "plaintext");
    if (key == null || key.length != KEY_LENGTH) {
      throw new IllegalArgumentException("XChaCha20-Poly1305 key must be 32 bytes");
    }
    if (nonce == null || nonce.length != NONCE_LENGTH) {
      throw new IllegalArgumentException("XChaCha20-Poly1305 nonce must be 24 bytes");
    }
    byte[] ad = aad == null ? new byte[0] : aad;
    byte[] out = new byte[plaintext.length + TAG_LENGTH];
    long[] outLen = new long[1];
    int rc =
        Sodium.get()
            .crypto_aead_xchacha20poly1305_ietf_encrypt(
                out, outLen, plaintext, plaintext.length, ad, ad.length, null, nonce, key);
    if (rc != 0) {
      throw new IllegalStateException("XChaCha20-Poly1305 encryption failed");
    }
    return out;
  }

  static byte[] openWithNonce(byte[] key, byte[] nonce, byte[] ciphertext, byte[] aad)
      throws GeneralSecurityException {
    if (key.length != KEY_LENGTH) {
      throw new InvalidKeyException("XChaCha20-Poly1305 key must be 32 bytes");
    }
    if (nonce.length != NONCE_LENGTH) {
      throw new GeneralSecurityException("XChaCha20-Poly1305 nonce must be 24 bytes");
    }
    if (ciphertext.length < TAG_LENGTH) {
      throw new AEADBadTagException("ciphertext shorter than the tag");
    }
    byte[] ad = aad == null ? new byte[0] : aad;
    byte[] out = new byte[ciphertext.length - TAG_LENGTH];
    long[] outLen = new long[1];
    int rc =
        Sodium.get()
            .crypto_aead_xchacha20poly1305_ietf_decrypt(
                out, outLen, null, ciphertext, ciphertext.length, ad, ad.length, nonce, key);
    if (rc != 0) {
      throw new AEADBadTagException("XChaCha20-Poly1305 authentication failed");
    }
    return out;
  }

  @Override
  public String toString() {
    return "XChaCha20Poly1305[key=redacted]";
  }
}
