package chat.agentvault.crypto;

import java.security.SecureRandom;

/**
 * The single source of randomness of the SDK.
 *
 * <p>One {@link SecureRandom} from the JDK's default provider: on Linux that is {@code NativePRNG},
 * which reads the kernel CSPRNG ({@code /dev/urandom}, i.e. {@code getrandom(2)} once seeded) and
 * never blocks. {@code SecureRandom} is thread-safe. Nothing in the SDK uses {@code
 * java.util.Random}, {@code Math.random} or libsodium's {@code randombytes} for key material, so
 * there is one place to audit and, in tests, one place to observe.
 */
public final class Csprng {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Csprng() {}

  /** The shared instance, for APIs that take a {@link SecureRandom}. */
  public static SecureRandom secureRandom() {
    return RANDOM;
  }

  public static byte[] randomBytes(int length) {
    if (length < 0) {
      throw new IllegalArgumentException("length must not be negative: " + length);
    }
    byte[] out = new byte[length];
    RANDOM.nextBytes(out);
    return out;
  }

  public static void nextBytes(byte[] out) {
    RANDOM.nextBytes(out);
  }
}
