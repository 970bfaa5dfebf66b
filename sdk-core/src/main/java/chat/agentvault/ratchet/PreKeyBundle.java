package chat.agentvault.ratchet;

import chat.agentvault.crypto.X25519PublicKey;
import chat.agentvault.identity.InvalidIdentityException;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.SignatureException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a device publishes so that others can start a session with it while it is offline (X3DH
 * §3.2): its {@link PublicIdentity}, a signed prekey with its id and signature, and optionally one
 * one-time prekey with its id. Immutable; every instance is verified: {@link #parse} checks the
 * identity binding and the signed-prekey signature before it returns.
 *
 * <p>Encoding, version 1 (231 bytes, or 267 with a one-time prekey):
 *
 * <pre>
 * version (1) = 0x01 || PublicIdentity (129) || signed prekey id (4) || signed prekey (32)
 *   || signature (64) || has one-time prekey (1: 0 or 1) || [one-time prekey id (4) || key (32)]
 * </pre>
 *
 * The signature is Ed25519 with the identity's signing key over {@code "AgentVault X3DH signed
 * prekey v1\0" || id (4) || Encode(SPK)}, where Encode is a curve byte 0x05 then the 32-byte
 * X25519 key (X3DH §2.1). The label separates it from every other signature the identity key makes
 * (its binding, MLS); X3DH's XEdDSA signature by the DH identity key is replaced by this one
 * because our identity has a separate Ed25519 key bound to its X25519 key.
 */
public final class PreKeyBundle {
  public static final int VERSION = 1;
  /** Encode(PK)'s curve byte for X25519 (X3DH §2.1). */
  static final byte CURVE_X25519 = 0x05;

  static final byte[] SIGNED_PREKEY_LABEL =
      "AgentVault X3DH signed prekey v1\0".getBytes(StandardCharsets.US_ASCII);
  private static final int BASE_LENGTH = 1 + PublicIdentity.ENCODED_LENGTH + 4 + 32 + 64 + 1;

  private final PublicIdentity identity;
  private final int signedPreKeyId;
  private final byte[] signedPreKey;
  private final byte[] signature;
  private final int oneTimePreKeyId; // -1: none
  private final byte[] oneTimePreKey;

  PreKeyBundle(
      PublicIdentity identity,
      int signedPreKeyId,
      byte[] signedPreKey,
      byte[] signature,
      int oneTimePreKeyId,
      byte[] oneTimePreKey) {
    this.identity = identity;
    this.signedPreKeyId = signedPreKeyId;
    this.signedPreKey = signedPreKey.clone();
    this.signature = signature.clone();
    this.oneTimePreKeyId = oneTimePreKeyId;
    this.oneTimePreKey = oneTimePreKey == null ? null : oneTimePreKey.clone();
  }

  /** Encode(PK) of X3DH §2.1: 0x05 || the 32-byte key. */
  static byte[] encodeKey(byte[] x25519) {
    byte[] out = new byte[33];
    out[0] = CURVE_X25519;
    System.arraycopy(x25519, 0, out, 1, 32);
    return out;
  }

  /** The message the signed-prekey signature covers. */
  static byte[] signedMessage(int id, byte[] signedPreKey) {
    return new Codec.Writer(SIGNED_PREKEY_LABEL.length + 37)
        .raw(SIGNED_PREKEY_LABEL)
        .u32(id)
        .raw(encodeKey(signedPreKey))
        .toByteArray();
  }

  /**
   * Parses and verifies a version-1 bundle.
   *
   * @throws RatchetException {@code MALFORMED} (wrong length or flag), {@code UNSUPPORTED_VERSION},
   *     {@code BAD_SIGNATURE} (identity binding or signed-prekey signature)
   */
  public static PreKeyBundle parse(byte[] encoded) {
    Objects.requireNonNull(encoded, "encoded");
    if (encoded.length == 0) {
      throw new RatchetException(Reason.MALFORMED, "prekey bundle is empty");
    }
    if (encoded[0] != VERSION) {
      throw new RatchetException(
          Reason.UNSUPPORTED_VERSION, "prekey bundle version " + (encoded[0] & 0xff));
    }
    if (encoded.length != BASE_LENGTH && encoded.length != BASE_LENGTH + 36) {
      throw new RatchetException(
          Reason.MALFORMED, "prekey bundle must be 231 or 267 bytes, not " + encoded.length);
    }
    Codec.Reader r = new Codec.Reader(encoded, "prekey bundle");
    r.u8();
    PublicIdentity identity = identity(r.raw(PublicIdentity.ENCODED_LENGTH));
    int spkId = r.u31();
    byte[] spk = r.raw(32);
    byte[] sig = r.raw(64);
    boolean hasOpk = r.bool();
    int opkId = -1;
    byte[] opk = null;
    if (hasOpk) {
      opkId = r.u31();
      opk = r.raw(32);
    }
    r.end();
    PreKeyBundle b = new PreKeyBundle(identity, spkId, spk, sig, opkId, opk);
    b.verify();
    return b;
  }

  static PublicIdentity identity(byte[] encoded) {
    try {
      return PublicIdentity.parse(encoded);
    } catch (InvalidIdentityException e) {
      Reason reason =
          switch (e.reason()) {
            case BAD_BINDING -> Reason.BAD_SIGNATURE;
            case UNSUPPORTED_VERSION -> Reason.UNSUPPORTED_VERSION;
            case MALFORMED -> Reason.MALFORMED;
          };
      throw new RatchetException(reason, "identity refused", e);
    }
  }

  /**
   * Checks the signed-prekey signature under the identity's Ed25519 key (X3DH §3.3: "Alice
   * verifies the prekey signature and aborts the protocol if verification fails").
   *
   * @throws RatchetException {@code BAD_SIGNATURE}
   */
  void verify() {
    try {
      identity.signingKey().verify(signedMessage(signedPreKeyId, signedPreKey), signature);
    } catch (SignatureException e) {
      throw new RatchetException(Reason.BAD_SIGNATURE, "signed prekey signature does not verify", e);
    }
  }

  /** The version-1 encoding (a fresh array). */
  public byte[] toBytes() {
    Codec.Writer w =
        new Codec.Writer(BASE_LENGTH + 36)
            .u8(VERSION)
            .raw(identity.encode())
            .u32(signedPreKeyId)
            .raw(signedPreKey)
            .raw(signature)
            .bool(oneTimePreKey != null);
    if (oneTimePreKey != null) {
      w.u32(oneTimePreKeyId).raw(oneTimePreKey);
    }
    return w.toByteArray();
  }

  public PublicIdentity identity() {
    return identity;
  }

  public int signedPreKeyId() {
    return signedPreKeyId;
  }

  public X25519PublicKey signedPreKey() {
    return key(signedPreKey);
  }

  public OptionalInt oneTimePreKeyId() {
    return oneTimePreKey == null ? OptionalInt.empty() : OptionalInt.of(oneTimePreKeyId);
  }

  public Optional<X25519PublicKey> oneTimePreKey() {
    return oneTimePreKey == null ? Optional.empty() : Optional.of(key(oneTimePreKey));
  }

  byte[] signedPreKeyRaw() {
    return signedPreKey;
  }

  byte[] oneTimePreKeyRaw() {
    return oneTimePreKey;
  }

  int oneTimePreKeyIdRaw() {
    return oneTimePreKeyId;
  }

  private static X25519PublicKey key(byte[] k) {
    try {
      return X25519PublicKey.of(k);
    } catch (InvalidKeyException e) {
      throw new AssertionError(e); // always 32 bytes
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PreKeyBundle && Arrays.equals(toBytes(), ((PreKeyBundle) o).toBytes());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(toBytes());
  }

  @Override
  public String toString() {
    return "PreKeyBundle[identity="
        + identity.fingerprint().shortForm()
        + ", signedPreKey="
        + signedPreKeyId
        + ":"
        + HexFormat.of().formatHex(signedPreKey, 0, 4)
        + (oneTimePreKey == null ? "" : ", oneTimePreKey=" + oneTimePreKeyId)
        + "]";
  }
}
