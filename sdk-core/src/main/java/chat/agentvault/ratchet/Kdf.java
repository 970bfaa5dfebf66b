package chat.agentvault.ratchet;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.internal.Sodium;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Not API. The key derivations of X3DH and the Double Ratchet, and raw X25519.
 *
 * <ul>
 *   <li>X3DH KDF (X3DH §2.2): HKDF-SHA256 with salt = 32 zero bytes, IKM = F || KM where F is 32
 *       0xFF bytes, info {@link #X3DH_INFO}. The first 32 bytes are SK; a header-encryption session
 *       takes 64 more from the same expansion (HKDF-Expand output is prefix-consistent, so SK is the
 *       same either way): the shared header key HKa and next header key NHKb (Double Ratchet §4.4).
 *   <li>KDF_RK (Double Ratchet §5.2): HKDF-SHA256, salt = rk, IKM = dh_out, info {@link #ROOT_INFO}
 *       → 32-byte root key || 32-byte chain key, and for KDF_RK_HE (§4.2) a 32-byte next header key
 *       with info {@link #ROOT_HE_INFO}.
 *   <li>KDF_CK (§5.2): message key = HMAC-SHA256(ck, 0x01), next chain key = HMAC-SHA256(ck, 0x02).
 *   <li>ENCRYPT's key and nonce (§3.1, "derived from mk"): HKDF-Expand(PRK = mk, info {@link
 *       #MESSAGE_INFO}, 56) → 32-byte XChaCha20-Poly1305 key || 24-byte nonce. The Extract step is
 *       skipped: mk is already a uniformly random 32-byte HMAC output (RFC 5869 §3.3).
 * </ul>
 *
 * HMAC-SHA256 (RFC 2104) is computed here on one SHA-256 {@code MessageDigest} per thread (the
 * JDK's SHA-NI intrinsic), not through {@code javax.crypto.Mac}: the padded keys live in two
 * per-thread blocks that are zeroed, and the digest reset, when each derivation returns, so no
 * key-equivalent state of the last chain or message key stays behind in a per-thread object (a
 * cached {@code Mac} keeps the last key's ipad and opad until its next use). It also skips the
 * {@code SecretKeySpec} copies and the re-hashing of the ipad block that {@code Mac.doFinal} does
 * for a next message. {@code KdfKatTest} checks the outputs against RFC 5869 and fixed vectors.
 */
final class Kdf {
  static final byte[] X3DH_INFO = "AgentVault X3DH v1".getBytes(StandardCharsets.US_ASCII);
  static final byte[] ROOT_INFO = "AgentVault ratchet root v1".getBytes(StandardCharsets.US_ASCII);
  static final byte[] ROOT_HE_INFO =
      "AgentVault ratchet root with header keys v1".getBytes(StandardCharsets.US_ASCII);
  static final byte[] MESSAGE_INFO =
      "AgentVault ratchet message key v1".getBytes(StandardCharsets.US_ASCII);
  static final int KEY = 32;
  static final int NONCE = 24;
  private static final byte[] ZERO_SALT = new byte[32];
  private static final int MK_INPUT = 0x01;
  private static final int CK_INPUT = 0x02;

  private Kdf() {}

  /** HMAC-SHA256 with one key at a time; {@link #wipe} when the derivation is done. */
  private static final class Hmac {
    private static final int BLOCK = 64;
    private final MessageDigest md;
    private final byte[] ipad = new byte[BLOCK];
    private final byte[] opad = new byte[BLOCK];
    private final byte[] inner = new byte[32];

    Hmac() {
      try {
        md = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new AssertionError("every JDK provides SHA-256", e);
      }
    }

    Hmac key(byte[] key) {
      byte[] k = key;
      if (k.length > BLOCK) {
        k = md.digest(k); // RFC 2104 §2: longer keys are hashed first
      }
      for (int i = 0; i < k.length; i++) {
        ipad[i] = (byte) (k[i] ^ 0x36);
        opad[i] = (byte) (k[i] ^ 0x5c);
      }
      Arrays.fill(ipad, k.length, BLOCK, (byte) 0x36);
      Arrays.fill(opad, k.length, BLOCK, (byte) 0x5c);
      if (k != key) {
        SecretBytes.wipe(k);
      }
      return this;
    }

    /**
     * HMAC(key, a[aOff, aOff + aLen) || b || c) into {@code out[off, off + 32)}; {@code a} and
     * {@code b} may be null, {@code c} is one trailing byte or -1 for none.
     */
    void mac(byte[] a, int aOff, int aLen, byte[] b, int c, byte[] out, int off) {
      md.update(ipad);
      if (a != null) {
        md.update(a, aOff, aLen);
      }
      if (b != null) {
        md.update(b);
      }
      if (c >= 0) {
        md.update((byte) c);
      }
      try {
        md.digest(inner, 0, 32);
        md.update(opad);
        md.update(inner);
        md.digest(out, off, 32);
      } catch (DigestException e) {
        throw new AssertionError("a 32-byte buffer holds a SHA-256 digest", e);
      }
    }

    /** Zeroes the padded key and the inner hash, and resets the digest's state and buffer. */
    void wipe() {
      Arrays.fill(ipad, (byte) 0);
      Arrays.fill(opad, (byte) 0);
      Arrays.fill(inner, (byte) 0);
      md.reset();
    }
  }

  private static final ThreadLocal<Hmac> HMAC = ThreadLocal.withInitial(Hmac::new);

  /** HKDF-Extract then HKDF-Expand (RFC 5869 §2.2, §2.3). */
  static byte[] hkdf(byte[] salt, byte[] ikm, byte[] info, int length) {
    byte[] prk = new byte[32];
    Hmac h = HMAC.get();
    try {
      h.key(salt).mac(ikm, 0, ikm.length, null, -1, prk, 0);
      return expand(h, prk, info, length);
    } finally {
      h.wipe();
      SecretBytes.wipe(prk);
    }
  }

  static byte[] expand(byte[] prk, byte[] info, int length) {
    Hmac h = HMAC.get();
    try {
      return expand(h, prk, info, length);
    } finally {
      h.wipe();
    }
  }

  /** T(i) = HMAC(PRK, T(i-1) || info || i), written straight into the output. */
  private static byte[] expand(Hmac h, byte[] prk, byte[] info, int length) {
    if (length > 255 * 32) {
      throw new IllegalArgumentException("HKDF-Expand length above 255 * 32");
    }
    h.key(prk);
    byte[] out = new byte[length];
    byte[] last = null; // a partial final block
    int pos = 0;
    for (int i = 1; pos < length; i++) {
      byte[] prev = i == 1 ? null : out;
      int prevOff = pos - 32;
      if (length - pos >= 32) {
        h.mac(prev, prevOff, 32, info, i, out, pos);
        pos += 32;
      } else {
        last = new byte[32];
        h.mac(prev, prevOff, 32, info, i, last, 0);
        System.arraycopy(last, 0, out, pos, length - pos);
        pos = length;
      }
    }
    SecretBytes.wipe(last);
    return out;
  }

  /** X3DH §2.2: KDF(KM) = HKDF(salt 0^32, F || KM, info), {@code length} bytes (32 is SK). */
  static byte[] x3dh(byte[] keyMaterial, int length) {
    byte[] ikm = new byte[32 + keyMaterial.length];
    Arrays.fill(ikm, 0, 32, (byte) 0xff); // F: domain separation from XEdDSA (X3DH §2.2)
    System.arraycopy(keyMaterial, 0, ikm, 32, keyMaterial.length);
    try {
      return hkdf(ZERO_SALT, ikm, X3DH_INFO, length);
    } finally {
      SecretBytes.wipe(ikm);
    }
  }

  /**
   * KDF_RK (§3.1, §5.2) or, with {@code headerKeys}, KDF_RK_HE (§4.2): {rk, ck} or {rk, ck, nhk}.
   */
  static byte[][] root(byte[] rk, byte[] dhOut, boolean headerKeys) {
    byte[] okm = hkdf(rk, dhOut, headerKeys ? ROOT_HE_INFO : ROOT_INFO, headerKeys ? 96 : 64);
    try {
      byte[][] out = new byte[headerKeys ? 3 : 2][];
      for (int i = 0; i < out.length; i++) {
        out[i] = Arrays.copyOfRange(okm, 32 * i, 32 * i + 32);
      }
      return out;
    } finally {
      SecretBytes.wipe(okm);
    }
  }

  /** KDF_CK (§5.2): {next chain key, message key}. */
  static byte[][] chain(byte[] ck) {
    Hmac h = HMAC.get();
    byte[] mk = new byte[32];
    byte[] next = new byte[32];
    try {
      h.key(ck);
      h.mac(null, 0, 0, null, MK_INPUT, mk, 0);
      h.mac(null, 0, 0, null, CK_INPUT, next, 0);
    } finally {
      h.wipe();
    }
    return new byte[][] {next, mk};
  }

  /** The AEAD key (32) || nonce (24) for message key {@code mk}. */
  static byte[] messageKeys(byte[] mk) {
    return expand(mk, MESSAGE_INFO, KEY + NONCE);
  }

  // ------------------------------------------------------------------ X25519

  /** GENERATE_DH (§5.2): {private, public}. libsodium clamps the scalar itself. */
  static byte[][] generateDh() {
    byte[] priv = Csprng.randomBytes(32);
    byte[] pub = new byte[32];
    if (Sodium.get().crypto_scalarmult_base(pub, priv) != 0) {
      throw new IllegalStateException("crypto_scalarmult_base failed");
    }
    return new byte[][] {priv, pub};
  }

  /** The public key of a private scalar. */
  static byte[] publicOf(byte[] priv) {
    byte[] pub = new byte[32];
    if (Sodium.get().crypto_scalarmult_base(pub, priv) != 0) {
      throw new IllegalStateException("crypto_scalarmult_base failed");
    }
    return pub;
  }

  /**
   * DH (§3.1): X25519(priv, pub), refusing a low-order {@code pub} (an all-zero output, RFC 7748
   * §6.1) with {@link Reason#SMALL_ORDER_KEY}.
   */
  static byte[] dh(byte[] priv, byte[] pub) {
    byte[] out = new byte[32];
    int rc = Sodium.get().crypto_scalarmult(out, priv, pub);
    int acc = 0;
    for (byte b : out) {
      acc |= b;
    }
    if (rc != 0 || acc == 0) {
      Arrays.fill(out, (byte) 0);
      throw new RatchetException(Reason.SMALL_ORDER_KEY, "X25519 with a low-order public key");
    }
    return out;
  }

  /** Same as {@link #dh} for keys wrapped by the crypto package. */
  static byte[] agreed(SecretBytes s) {
    try (s) {
      return s.copyOfSecret();
    }
  }

  static RatchetException smallOrder(InvalidKeyException e) {
    return new RatchetException(Reason.SMALL_ORDER_KEY, "X25519 with a low-order public key", e);
  }
}
