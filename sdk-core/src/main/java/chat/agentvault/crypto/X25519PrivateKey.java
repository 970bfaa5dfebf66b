package chat.agentvault.crypto;

import chat.agentvault.crypto.internal.Sodium;
import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.Objects;

/**
 * An X25519 private scalar (RFC 7748 §5) and its public key.
 *
 * <p>Backend: libsodium's {@code crypto_scalarmult}: 2.1x Bouncy Castle and 4x the JDK measured
 * here ({@code X25519Bench}). libsodium clamps the scalar itself, so any 32 bytes are a valid
 * private key (HPKE's DeriveKeyPair relies on that, RFC 9180 §7.1.3).
 */
public final class X25519PrivateKey implements AutoCloseable {
  public static final int LENGTH = 32;

  private final byte[] scalar;
  private final X25519PublicKey publicKey;
  private volatile boolean closed;

  private X25519PrivateKey(byte[] scalar, X25519PublicKey publicKey) {
    this.scalar = scalar;
    this.publicKey = publicKey;
  }

  public static X25519PrivateKey generate() {
    byte[] s = Csprng.randomBytes(LENGTH);
    try {
      return of(s);
    } finally {
      SecretBytes.wipe(s);
    }
  }

  /** The key for a 32-byte scalar (copied). */
  public static X25519PrivateKey of(byte[] scalar) {
    Objects.requireNonNull(scalar, "scalar");
    if (scalar.length != LENGTH) {
      throw new IllegalArgumentException("X25519 private key must be 32 bytes, not " + scalar.length);
    }
    byte[] own = scalar.clone();
    byte[] pk = new byte[LENGTH];
    if (Sodium.get().crypto_scalarmult_base(pk, own) != 0) {
      throw new IllegalStateException("crypto_scalarmult_base failed");
    }
    try {
      return new X25519PrivateKey(own, X25519PublicKey.of(pk));
    } catch (InvalidKeyException e) {
      throw new AssertionError(e);
    }
  }

  public static X25519PrivateKey of(SecretBytes scalar) {
    return of(scalar.raw());
  }

  public X25519PublicKey publicKey() {
    return publicKey;
  }

  /**
   * The shared secret X25519(this, peer).
   *
   * @throws InvalidKeyException when the result is all zeros (the peer sent a low-order point, RFC
   *     7748 §6.1; HPKE §7.1.4 requires the check) or libsodium refuses the point as small-order
   */
  public SecretBytes agree(X25519PublicKey peer) throws InvalidKeyException {
    Objects.requireNonNull(peer, "peer");
    return SecretBytes.wrap(agreeRaw(peer.raw()));
  }

  byte[] agreeRaw(byte[] peer) throws InvalidKeyException {
    if (closed) {
      throw new IllegalStateException("X25519 private key was closed");
    }
    byte[] out = new byte[LENGTH];
    int rc = Sodium.get().crypto_scalarmult(out, scalar, peer);
    int acc = 0;
    for (byte b : out) {
      acc |= b;
    }
    if (rc != 0 || acc == 0) {
      Arrays.fill(out, (byte) 0);
      throw new InvalidKeyException("X25519 agreement refused: low-order public key");
    }
    return out;
  }

  /** A copy of the scalar. */
  public SecretBytes secret() {
    if (closed) {
      throw new IllegalStateException("X25519 private key was closed");
    }
    return SecretBytes.copyOf(scalar);
  }

  @Override
  public void close() {
    closed = true;
    Arrays.fill(scalar, (byte) 0);
  }

  @Override
  public String toString() {
    return "X25519PrivateKey[public=" + publicKey + "]";
  }
}
