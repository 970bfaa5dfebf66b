package chat.agentvault.crypto;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable-by-contract holder of secret bytes (a key, a seed, a derived secret).
 *
 * <ul>
 *   <li>The only way to read the bytes is {@link #copyOfSecret()}, so every export of secret
 *       material is one grep away.
 *   <li>{@link #toString()} shows the length only; there is no {@code equals}/{@code hashCode}
 *       (use {@link #equalsConstantTime(SecretBytes)}).
 *   <li>{@link #close()} wipes this object's copy; later use throws {@link IllegalStateException}.
 * </ul>
 */
public final class SecretBytes implements AutoCloseable {
  private final byte[] bytes;
  private volatile boolean destroyed;

  private SecretBytes(byte[] owned) {
    this.bytes = owned;
  }

  /** Copies {@code secret}; the caller should wipe its own array when done. */
  public static SecretBytes copyOf(byte[] secret) {
    Objects.requireNonNull(secret, "secret");
    return new SecretBytes(secret.clone());
  }

  /** Takes ownership of {@code secret} without copying and without wiping the caller's view. */
  static SecretBytes wrap(byte[] secret) {
    return new SecretBytes(Objects.requireNonNull(secret, "secret"));
  }

  /** {@code length} bytes from the CSPRNG. */
  public static SecretBytes random(int length) {
    if (length <= 0) {
      throw new IllegalArgumentException("length must be positive: " + length);
    }
    return new SecretBytes(Csprng.randomBytes(length));
  }

  public int length() {
    return bytes.length;
  }

  /** A fresh copy of the secret. The caller owns it and should wipe it ({@link #wipe}). */
  public byte[] copyOfSecret() {
    checkLive();
    return bytes.clone();
  }

  /** The backing array, no copy: for this package's backends only. */
  byte[] raw() {
    checkLive();
    return bytes;
  }

  /** Constant-time comparison of contents (length is not secret). */
  public boolean equalsConstantTime(SecretBytes other) {
    Objects.requireNonNull(other, "other");
    return MessageDigest.isEqual(raw(), other.raw());
  }

  /** Overwrites this object's copy with zeros. Idempotent. */
  @Override
  public void close() {
    destroyed = true;
    Arrays.fill(bytes, (byte) 0);
  }

  public boolean isDestroyed() {
    return destroyed;
  }

  private void checkLive() {
    if (destroyed) {
      throw new IllegalStateException("secret was closed");
    }
  }

  /** Zeroes {@code array} if not null: for callers' temporary copies. */
  public static void wipe(byte[] array) {
    if (array != null) {
      Arrays.fill(array, (byte) 0);
    }
  }

  @Override
  public String toString() {
    return "SecretBytes[length=" + bytes.length + (destroyed ? ", closed" : "") + "]";
  }
}
