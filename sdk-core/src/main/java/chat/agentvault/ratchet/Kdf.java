package chat.agentvault.ratchet;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.internal.Sodium;
import chat.agentvault.ratchet.RatchetException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

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
 * One {@code Mac} per thread, re-keyed per use ({@code Mac.getInstance} is a provider lookup that
 * halved HKDF's throughput in {@code HkdfBench}); each call completes before the next starts.
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
  private static final byte[] MK_INPUT = {0x01};
  private static final byte[] CK_INPUT = {0x02};

  private Kdf() {}

  private static final ThreadLocal<Mac> MAC =
      ThreadLocal.withInitial(
          () -> {
            try {
              return Mac.getInstance("HmacSHA256");
            } catch (NoSuchAlgorithmException e) {
              throw new AssertionError("every JDK provides HmacSHA256", e);
            }
          });

  private static Mac mac(byte[] key) {
    try {
      Mac mac = MAC.get();
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (InvalidKeyException e) {
      throw new AssertionError("HmacSHA256 accepts any non-empty key", e);
    }
  }

  /** HKDF-Extract then HKDF-Expand (RFC 5869 §2.2, §2.3). */
  static byte[] hkdf(byte[] salt, byte[] ikm, byte[] info, int length) {
    byte[] prk = mac(salt).doFinal(ikm);
    try {
      return expand(prk, info, length);
    } finally {
      SecretBytes.wipe(prk);
    }
  }

  static byte[] expand(byte[] prk, byte[] info, int length) {
    Mac mac = mac(prk);
    byte[] out = new byte[length];
    byte[] t = null;
    int pos = 0;
    for (int i = 1; pos < length; i++) {
      if (t != null) {
        mac.update(t);
        SecretBytes.wipe(t);
      }
      mac.update(info);
      mac.update((byte) i);
      t = mac.doFinal();
      int n = Math.min(t.length, length - pos);
      System.arraycopy(t, 0, out, pos, n);
      pos += n;
    }
    SecretBytes.wipe(t);
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
    Mac mac = mac(ck);
    byte[] mk = mac.doFinal(MK_INPUT);
    byte[] next = mac.doFinal(CK_INPUT);
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
