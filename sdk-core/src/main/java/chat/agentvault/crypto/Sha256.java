package chat.agentvault.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256. Backend: the JDK's {@code MessageDigest}, whose SHA intrinsics beat Bouncy Castle and
 * libsodium has no faster path for it through JNA. Every JDK must provide SHA-256.
 */
public final class Sha256 {
  public static final int LENGTH = 32;

  private Sha256() {}

  /** One digest per thread: {@code getInstance} costs a provider lookup on every call otherwise. */
  private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(Sha256::newDigest);

  /** SHA-256 of the concatenation of {@code parts}. */
  public static byte[] hash(byte[]... parts) {
    MessageDigest md = DIGEST.get();
    try {
      for (byte[] p : parts) {
        md.update(p);
      }
      return md.digest(); // digest() also resets it for the next call
    } finally {
      md.reset(); // after a null part, say, nothing of this call stays in the thread's digest
    }
  }

  static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JDK provides SHA-256", e);
    }
  }
}
