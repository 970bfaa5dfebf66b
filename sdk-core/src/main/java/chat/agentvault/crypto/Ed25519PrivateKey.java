package chat.agentvault.crypto;

import chat.agentvault.crypto.internal.Sodium;
import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.Objects;

/**
 * An Ed25519 signing key: a 32-byte seed (RFC 8032 §5.1.5) and its public key.
 *
 * <p>Backend: libsodium's {@code crypto_sign_detached}: 1.8x Bouncy Castle and about 30x the JDK
 * when measured here ({@code Ed25519Bench}, docs/benchmarks.md). libsodium keeps a 64-byte expanded key (seed || public key); it is
 * recomputed from the seed on construction, so a key can never disagree with its public half.
 */
public final class Ed25519PrivateKey implements AutoCloseable {
  public static final int SEED_LENGTH = 32;

  private final byte[] expanded; // libsodium's sk: seed || pk
  private final Ed25519PublicKey publicKey;

  private Ed25519PrivateKey(byte[] expanded, Ed25519PublicKey publicKey) {
    this.expanded = expanded;
    this.publicKey = publicKey;
  }

  public static Ed25519PrivateKey generate() {
    byte[] seed = Csprng.randomBytes(SEED_LENGTH);
    try {
      return fromSeed(seed);
    } finally {
      SecretBytes.wipe(seed);
    }
  }

  /** The key for a 32-byte seed (copied). */
  public static Ed25519PrivateKey fromSeed(byte[] seed) {
    Objects.requireNonNull(seed, "seed");
    if (seed.length != SEED_LENGTH) {
      throw new IllegalArgumentException("Ed25519 seed must be 32 bytes, not " + seed.length);
    }
    byte[] pk = new byte[Ed25519PublicKey.LENGTH];
    byte[] sk = new byte[64];
    if (Sodium.get().crypto_sign_seed_keypair(pk, sk, seed) != 0) {
      throw new IllegalStateException("crypto_sign_seed_keypair failed");
    }
    try {
      return new Ed25519PrivateKey(sk, Ed25519PublicKey.of(pk));
    } catch (InvalidKeyException e) {
      throw new AssertionError(e);
    }
  }

  public static Ed25519PrivateKey fromSeed(SecretBytes seed) {
    return fromSeed(seed.raw());
  }

  public Ed25519PublicKey publicKey() {
    return publicKey;
  }

  /** A deterministic 64-byte signature over {@code message}. */
  public byte[] sign(byte[] message) {
    Objects.requireNonNull(message, "message");
    checkLive();
    byte[] sig = new byte[Ed25519PublicKey.SIGNATURE_LENGTH];
    if (Sodium.get().crypto_sign_detached(sig, null, message, message.length, expanded) != 0) {
      throw new IllegalStateException("crypto_sign_detached failed");
    }
    return sig;
  }

  /** A copy of the 32-byte seed, the whole secret. */
  public SecretBytes seed() {
    checkLive();
    return SecretBytes.wrap(Arrays.copyOf(expanded, SEED_LENGTH));
  }

  /** Wipes the key material; later use throws {@link IllegalStateException}. */
  @Override
  public void close() {
    Arrays.fill(expanded, (byte) 0);
    closed = true;
  }

  private volatile boolean closed;

  private void checkLive() {
    if (closed) {
      throw new IllegalStateException("Ed25519 private key was closed");
    }
  }

  @Override
  public String toString() {
    return "Ed25519PrivateKey[public=" + publicKey + "]";
  }
}
