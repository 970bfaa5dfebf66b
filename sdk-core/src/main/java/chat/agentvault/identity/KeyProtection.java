package chat.agentvault.identity;

import chat.agentvault.crypto.SecretBytes;
import java.util.Objects;

/**
 * What unlocks a {@link DeviceKeyStore}: a passphrase (stretched with Argon2id) or a 32-byte key
 * the caller keeps elsewhere (a secrets manager, an HSM-wrapped blob, an environment secret).
 *
 * <p>Either one derives a key-encryption key that wraps the store's random data key; changing the
 * protection ({@link DeviceKeyStore#changeProtection}) rewraps that one key and leaves every other
 * file untouched.
 *
 * <p>Holds a copy of the secret: {@link #close()} wipes it. The caller should wipe its own {@code
 * char[]} ({@code Arrays.fill(passphrase, '\0')}) once this object is built. Passphrases are
 * encoded as UTF-8 without Unicode normalization, so they must be typed the same way every time.
 */
public final class KeyProtection implements AutoCloseable {
  /** Length of a caller-supplied key. */
  public static final int KEY_LENGTH = 32;

  enum Kind {
    PASSPHRASE,
    RAW_KEY
  }

  private final Kind kind;
  private final SecretBytes secret;
  private final Argon2Params params;

  private KeyProtection(Kind kind, SecretBytes secret, Argon2Params params) {
    this.kind = kind;
    this.secret = secret;
    this.params = params;
  }

  /** A passphrase, with {@link Argon2Params#INTERACTIVE} costs for newly written headers. */
  public static KeyProtection passphrase(char[] passphrase) {
    return passphrase(passphrase, Argon2Params.INTERACTIVE);
  }

  /**
   * A passphrase, with {@code params} for newly written headers (opening an existing store uses
   * the costs stored in its header).
   *
   * @throws IllegalArgumentException when the passphrase is empty or not valid UTF-16
   */
  public static KeyProtection passphrase(char[] passphrase, Argon2Params params) {
    Objects.requireNonNull(params, "params");
    byte[] utf8 = Passphrases.toUtf8(passphrase);
    try {
      return new KeyProtection(Kind.PASSPHRASE, SecretBytes.copyOf(utf8), params);
    } finally {
      SecretBytes.wipe(utf8);
    }
  }

  /**
   * A caller-supplied 32-byte key (copied). It should be uniformly random; it goes through
   * HKDF-SHA256 with the header's salt, never directly into the cipher.
   *
   * @throws IllegalArgumentException when {@code key} is not 32 bytes
   */
  public static KeyProtection key(SecretBytes key) {
    Objects.requireNonNull(key, "key");
    if (key.length() != KEY_LENGTH) {
      throw new IllegalArgumentException("key must be 32 bytes, not " + key.length());
    }
    byte[] copy = key.copyOfSecret();
    try {
      return new KeyProtection(Kind.RAW_KEY, SecretBytes.copyOf(copy), null);
    } finally {
      SecretBytes.wipe(copy);
    }
  }

  Kind kind() {
    return kind;
  }

  SecretBytes secret() {
    return secret;
  }

  /** Costs for new headers; only for {@link Kind#PASSPHRASE}. */
  Argon2Params params() {
    return params;
  }

  /** Wipes the copy of the passphrase or key. */
  @Override
  public void close() {
    secret.close();
  }

  @Override
  public String toString() {
    return kind == Kind.PASSPHRASE
        ? "KeyProtection[passphrase, " + params + "]"
        : "KeyProtection[32-byte key]";
  }
}
