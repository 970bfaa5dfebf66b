package chat.agentvault.crypto;

import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SignatureException;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 (RFC 2104). Backend: the JDK's {@code Mac}, with SHA-256 intrinsics (see {@link Hkdf}
 * for the measurement); Bouncy Castle is slower and libsodium's HMAC would pay a JNA call for
 * inputs that are mostly short.
 */
public final class HmacSha256 {
  public static final int LENGTH = 32;
  /** The shortest truncated tag {@link #verify} accepts: half the output (RFC 2104 §5). */
  public static final int MIN_TAG_LENGTH = 16;

  private HmacSha256() {}

  /** The 32-byte tag of {@code data} under {@code key} (any length, empty included). */
  public static byte[] compute(byte[] key, byte[] data) {
    Objects.requireNonNull(data, "data");
    Mac mac = init(key);
    return mac.doFinal(data);
  }

  /**
   * Checks {@code tag} in constant time. A tag of 16 to 31 bytes is compared with the same-length
   * prefix of the full tag (truncated HMAC, RFC 2104 §5); shorter or longer tags are refused.
   *
   * @throws SignatureException when the tag does not match
   */
  public static void verify(byte[] key, byte[] data, byte[] tag) throws SignatureException {
    Objects.requireNonNull(tag, "tag");
    if (tag.length < MIN_TAG_LENGTH || tag.length > LENGTH) {
      throw new SignatureException("HMAC-SHA256 tag must be 16 to 32 bytes");
    }
    byte[] full = compute(key, data);
    byte[] expected = tag.length == LENGTH ? full : java.util.Arrays.copyOf(full, tag.length);
    if (!MessageDigest.isEqual(expected, tag)) {
      throw new SignatureException("HMAC-SHA256 tag mismatch");
    }
  }

  // One Mac per thread, re-keyed per use: Mac.getInstance is a provider lookup that halved HKDF's
  // throughput (benchmarks/HkdfBench). Callers use the returned Mac to completion before the next
  // init on the same thread; nothing in this package nests two HMAC computations.
  private static final ThreadLocal<Mac> MAC =
      ThreadLocal.withInitial(
          () -> {
            try {
              return Mac.getInstance("HmacSHA256");
            } catch (NoSuchAlgorithmException e) {
              throw new AssertionError("every JDK provides HmacSHA256", e);
            }
          });

  static Mac init(byte[] key) {
    Objects.requireNonNull(key, "key");
    try {
      Mac mac = MAC.get();
      // SecretKeySpec refuses empty keys; HMAC defines them (RFC 2104 §2: K padded with zeros), and
      // a block of zeros is the same key, so an empty key is mapped to one zero byte.
      mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, "HmacSHA256"));
      return mac;
    } catch (InvalidKeyException e) {
      throw new AssertionError("HmacSHA256 accepts any non-empty key", e);
    }
  }
}
