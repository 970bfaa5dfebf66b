package chat.agentvault.crypto;

import java.security.GeneralSecurityException;

/**
 * Authenticated encryption with associated data, with the nonce handled inside.
 *
 * <p>{@link #seal} output carries everything {@link #open} needs besides the key and the associated
 * data. {@link #open} either returns the exact plaintext or throws; it never returns partial or
 * unauthenticated data.
 */
public interface Aead {
  /** Encrypts and authenticates {@code plaintext}, binding {@code associatedData} (may be empty). */
  byte[] seal(byte[] plaintext, byte[] associatedData);

  /**
   * Verifies and decrypts.
   *
   * @throws javax.crypto.AEADBadTagException when the ciphertext, its nonce or the associated data
   *     were modified, or the key is wrong
   * @throws GeneralSecurityException when the input is too short to be a ciphertext
   */
  byte[] open(byte[] ciphertext, byte[] associatedData) throws GeneralSecurityException;
}
