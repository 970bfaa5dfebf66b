package chat.agentvault.identity;

import chat.agentvault.crypto.Ed25519PublicKey;
import chat.agentvault.crypto.X25519PublicKey;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.SignatureException;
import java.util.Arrays;
import java.util.Objects;

/**
 * The public half of a {@link DeviceIdentity}: the Ed25519 identity key, the X25519 agreement key,
 * and the Ed25519 signature that binds the second to the first. Immutable.
 *
 * <p>Encoding, version 1 (129 bytes):
 *
 * <pre>
 * version (1) = 0x01 || Ed25519 public key (32) || X25519 public key (32) || binding signature (64)
 * </pre>
 *
 * The binding signature is Ed25519 over {@link #BINDING_LABEL} {@code || Ed25519 key || X25519
 * key}. The label is a domain separator: no other signature the identity key makes (MLS uses its
 * own {@code "MLS 1.0 "} labels, and {@link DeviceIdentity#sign} refuses messages starting with
 * this label) can be mistaken for a binding.
 *
 * <p>{@link #parse} verifies the binding, so every instance obtained from bytes is bound; {@link
 * #verify()} repeats the check on demand.
 */
public final class PublicIdentity {
  /** Current encoding version. */
  public static final int VERSION = 1;
  /** Length of a version-1 encoding. */
  public static final int ENCODED_LENGTH =
      1 + Ed25519PublicKey.LENGTH + X25519PublicKey.LENGTH + Ed25519PublicKey.SIGNATURE_LENGTH;

  /** Domain-separation label prefixed to the signed binding message (ASCII, ends with a NUL). */
  static final byte[] BINDING_LABEL =
      "AgentVault identity binding v1: X25519 key\0".getBytes(StandardCharsets.US_ASCII);

  private final Ed25519PublicKey signingKey;
  private final X25519PublicKey agreementKey;
  private final byte[] bindingSignature;

  private PublicIdentity(
      Ed25519PublicKey signingKey, X25519PublicKey agreementKey, byte[] bindingSignature) {
    this.signingKey = signingKey;
    this.agreementKey = agreementKey;
    this.bindingSignature = bindingSignature;
  }

  /** Package-private: built by {@link DeviceIdentity} with a fresh signature. */
  static PublicIdentity of(
      Ed25519PublicKey signingKey, X25519PublicKey agreementKey, byte[] bindingSignature) {
    return new PublicIdentity(signingKey, agreementKey, bindingSignature.clone());
  }

  /** The message the binding signature covers. */
  static byte[] bindingMessage(Ed25519PublicKey signingKey, X25519PublicKey agreementKey) {
    byte[] ed = signingKey.toByteArray();
    byte[] x = agreementKey.toByteArray();
    byte[] m = new byte[BINDING_LABEL.length + ed.length + x.length];
    System.arraycopy(BINDING_LABEL, 0, m, 0, BINDING_LABEL.length);
    System.arraycopy(ed, 0, m, BINDING_LABEL.length, ed.length);
    System.arraycopy(x, 0, m, BINDING_LABEL.length + ed.length, x.length);
    return m;
  }

  /**
   * Parses a version-1 encoding and verifies its binding.
   *
   * @throws InvalidIdentityException {@code MALFORMED} for a wrong length, {@code
   *     UNSUPPORTED_VERSION} for an unknown version byte, {@code BAD_BINDING} when the signature
   *     does not verify
   */
  public static PublicIdentity parse(byte[] encoded) {
    Objects.requireNonNull(encoded, "encoded");
    if (encoded.length == 0) {
      throw new InvalidIdentityException(
          InvalidIdentityException.Reason.MALFORMED, "public identity is empty");
    }
    if (encoded[0] != VERSION) {
      throw new InvalidIdentityException(
          InvalidIdentityException.Reason.UNSUPPORTED_VERSION,
          "unsupported public identity version " + (encoded[0] & 0xff));
    }
    if (encoded.length != ENCODED_LENGTH) {
      throw new InvalidIdentityException(
          InvalidIdentityException.Reason.MALFORMED,
          "public identity must be " + ENCODED_LENGTH + " bytes, not " + encoded.length);
    }
    int p = 1;
    try {
      Ed25519PublicKey ed =
          Ed25519PublicKey.of(Arrays.copyOfRange(encoded, p, p += Ed25519PublicKey.LENGTH));
      X25519PublicKey x =
          X25519PublicKey.of(Arrays.copyOfRange(encoded, p, p += X25519PublicKey.LENGTH));
      byte[] sig = Arrays.copyOfRange(encoded, p, encoded.length);
      PublicIdentity identity = new PublicIdentity(ed, x, sig);
      identity.verify();
      return identity;
    } catch (InvalidKeyException e) {
      throw new AssertionError(e); // lengths were checked above
    }
  }

  /**
   * Checks that the binding signature over the X25519 key verifies under the Ed25519 key
   * (strictly: non-canonical and small-order Ed25519 keys fail).
   *
   * @throws InvalidIdentityException with reason {@code BAD_BINDING} otherwise
   */
  public void verify() {
    try {
      signingKey.verify(bindingMessage(signingKey, agreementKey), bindingSignature);
    } catch (SignatureException e) {
      throw new InvalidIdentityException(
          InvalidIdentityException.Reason.BAD_BINDING,
          "X25519 key is not bound to the Ed25519 identity key",
          e);
    }
  }

  /** The version-1 encoding (a fresh array). */
  public byte[] encode() {
    byte[] out = new byte[ENCODED_LENGTH];
    out[0] = VERSION;
    System.arraycopy(signingKey.toByteArray(), 0, out, 1, Ed25519PublicKey.LENGTH);
    System.arraycopy(
        agreementKey.toByteArray(), 0, out, 1 + Ed25519PublicKey.LENGTH, X25519PublicKey.LENGTH);
    System.arraycopy(
        bindingSignature,
        0,
        out,
        1 + Ed25519PublicKey.LENGTH + X25519PublicKey.LENGTH,
        bindingSignature.length);
    return out;
  }

  /** The Ed25519 identity key (signatures, future MLS leaf credentials). */
  public Ed25519PublicKey signingKey() {
    return signingKey;
  }

  /** The X25519 key-agreement key. */
  public X25519PublicKey agreementKey() {
    return agreementKey;
  }

  /** A copy of the 64-byte binding signature. */
  public byte[] bindingSignature() {
    return bindingSignature.clone();
  }

  /** The fingerprint of {@link #signingKey()}. */
  public Fingerprint fingerprint() {
    return Fingerprint.of(signingKey);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof PublicIdentity)) {
      return false;
    }
    PublicIdentity other = (PublicIdentity) o;
    return signingKey.equals(other.signingKey)
        && agreementKey.equals(other.agreementKey)
        && Arrays.equals(bindingSignature, other.bindingSignature);
  }

  @Override
  public int hashCode() {
    return signingKey.hashCode() * 31 + agreementKey.hashCode();
  }

  @Override
  public String toString() {
    return "PublicIdentity[fingerprint=" + fingerprint().shortForm() + "]";
  }
}
