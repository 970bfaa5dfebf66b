package chat.agentvault.crypto;

import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/** An X25519 public key (RFC 7748 §5), 32 bytes, u-coordinate little-endian. */
public final class X25519PublicKey {
  public static final int LENGTH = 32;

  private final byte[] key;

  private X25519PublicKey(byte[] key) {
    this.key = key;
  }

  /**
   * Wraps a 32-byte encoding. Low-order points are refused at agreement time ({@link
   * X25519PrivateKey#agree}), where the all-zero output is detected.
   */
  public static X25519PublicKey of(byte[] encoded) throws InvalidKeyException {
    Objects.requireNonNull(encoded, "encoded");
    if (encoded.length != LENGTH) {
      throw new InvalidKeyException("X25519 public key must be 32 bytes, not " + encoded.length);
    }
    return new X25519PublicKey(encoded.clone());
  }

  public byte[] toByteArray() {
    return key.clone();
  }

  byte[] raw() {
    return key;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof X25519PublicKey && Arrays.equals(key, ((X25519PublicKey) o).key);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(key);
  }

  @Override
  public String toString() {
    return "X25519PublicKey[" + HexFormat.of().formatHex(key, 0, 8) + "…]";
  }
}
