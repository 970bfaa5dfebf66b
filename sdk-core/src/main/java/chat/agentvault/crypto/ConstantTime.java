package chat.agentvault.crypto;

import java.security.MessageDigest;

/** Constant-time comparisons for MACs, tags and other secrets. */
public final class ConstantTime {
  private ConstantTime() {}

  /**
   * True when both arrays have the same length and contents. Time depends on the length only
   * ({@link MessageDigest#isEqual} has been constant-time since JDK 6u17). Null is never equal.
   */
  public static boolean equals(byte[] a, byte[] b) {
    if (a == null || b == null) {
      return false;
    }
    return MessageDigest.isEqual(a, b);
  }
}
