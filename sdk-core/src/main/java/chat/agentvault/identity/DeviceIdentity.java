package chat.agentvault.identity;

import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.crypto.X25519PublicKey;
import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.Objects;

/**
 * A device's long-term private identity: an Ed25519 signing key and a separate X25519
 * key-agreement key, the latter bound to the former by a signature (see {@link PublicIdentity}).
 *
 * <p><b>Why two independent keys rather than deriving X25519 from Ed25519</b> (libsodium's {@code
 * crypto_sign_ed25519_sk_to_curve25519}): key separation. One scalar is never used by two
 * protocols, so no analysis of cross-protocol interaction between EdDSA signing and
 * Diffie-Hellman is needed; the agreement key can be rotated on its own (sign a new binding) while
 * the identity, and with it the fingerprint the owner approved, stays; and either key can later
 * move to different hardware or a different algorithm. The cost is 32 more secret bytes and a
 * 64-byte signature in the public identity.
 *
 * <p>Holds private key material: {@link #close()} wipes it, and {@link #toString()} shows the
 * short fingerprint only. Obtain one from {@link #generate()} or a {@link DeviceKeyStore}; the
 * store owns the instance it returns and wipes it when the store is closed.
 */
public final class DeviceIdentity implements AutoCloseable {
  private final Ed25519PrivateKey signingKey;
  private final X25519PrivateKey agreementKey;
  private final PublicIdentity publicIdentity;
  private volatile boolean closed;

  private DeviceIdentity(Ed25519PrivateKey signingKey, X25519PrivateKey agreementKey) {
    this.signingKey = signingKey;
    this.agreementKey = agreementKey;
    X25519PublicKey x = agreementKey.publicKey();
    byte[] sig = signingKey.sign(PublicIdentity.bindingMessage(signingKey.publicKey(), x));
    this.publicIdentity = PublicIdentity.of(signingKey.publicKey(), x, sig);
  }

  /** A fresh identity: two independent keys from the CSPRNG. */
  public static DeviceIdentity generate() {
    return new DeviceIdentity(Ed25519PrivateKey.generate(), X25519PrivateKey.generate());
  }

  /** From the 32-byte Ed25519 seed and the 32-byte X25519 scalar (both copied). */
  static DeviceIdentity fromSecrets(byte[] ed25519Seed, byte[] x25519Scalar) {
    return new DeviceIdentity(
        Ed25519PrivateKey.fromSeed(ed25519Seed), X25519PrivateKey.of(x25519Scalar));
  }

  /** The public identity (keys and binding signature) to publish. */
  public PublicIdentity publicIdentity() {
    return publicIdentity;
  }

  /** The fingerprint the owner approves. */
  public Fingerprint fingerprint() {
    return publicIdentity.fingerprint();
  }

  /**
   * An Ed25519 signature over {@code message} with the identity key, for protocol layers that
   * apply their own domain-separation labels (MLS {@code SignWithLabel}).
   *
   * @throws IllegalArgumentException when {@code message} starts with the reserved binding label,
   *     so a caller cannot be tricked into signing a binding for a foreign X25519 key
   * @throws IllegalStateException after {@link #close()}
   */
  public byte[] sign(byte[] message) {
    Objects.requireNonNull(message, "message");
    checkLive();
    byte[] label = PublicIdentity.BINDING_LABEL;
    if (message.length >= label.length
        && Arrays.equals(message, 0, label.length, label, 0, label.length)) {
      throw new IllegalArgumentException("message starts with the reserved identity binding label");
    }
    return signingKey.sign(message);
  }

  /**
   * X25519 agreement between the identity's agreement key and {@code peer}.
   *
   * @throws InvalidKeyException when {@code peer} is a low-order point
   * @throws IllegalStateException after {@link #close()}
   */
  public SecretBytes agree(X25519PublicKey peer) throws InvalidKeyException {
    checkLive();
    return agreementKey.agree(peer);
  }

  /** The Ed25519 key, for this package (serialization, tests). */
  Ed25519PrivateKey signingKey() {
    checkLive();
    return signingKey;
  }

  /** The X25519 key, for this package (serialization, tests). */
  X25519PrivateKey agreementKey() {
    checkLive();
    return agreementKey;
  }

  /** Wipes both private keys. Idempotent; later use throws {@link IllegalStateException}. */
  @Override
  public void close() {
    closed = true;
    signingKey.close();
    agreementKey.close();
  }

  public boolean isClosed() {
    return closed;
  }

  private void checkLive() {
    if (closed) {
      throw new IllegalStateException("device identity was closed");
    }
  }

  @Override
  public String toString() {
    return "DeviceIdentity[fingerprint="
        + publicIdentity.fingerprint().shortForm()
        + (closed ? ", closed" : "")
        + "]";
  }
}
