package chat.agentvault.crypto;

import chat.agentvault.crypto.internal.Sodium;
import java.util.Objects;
import org.bouncycastle.crypto.digests.Blake2bDigest;

/**
 * BLAKE2b (RFC 7693), unkeyed and keyed, with any output length from 1 to 64 bytes.
 *
 * <p>Backend chosen by input size, as measured here ({@code Blake2bBench}, docs/benchmarks.md): a
 * JNA call into libsodium has a fixed cost, so Bouncy Castle's pure-Java digest wins while the input
 * fits one 128-byte block (libsodium/BC 0.81 at 128 bytes) and libsodium wins from the second block
 * on (1.3x at 192 bytes, 2.3x at 1 KiB). Inputs up to {@value #SMALL_INPUT} bytes go to Bouncy Castle. So do
 * outputs under 16 bytes and keys of 1 to 15 bytes: libsodium 1.0.18 computes them, but documents
 * 16 bytes as the minimum of {@code crypto_generichash}, and we stay inside its documented range.
 * Both backends are checked against the official BLAKE2 known-answer tests and against each other.
 */
public final class Blake2b {
  public static final int MAX_OUTPUT = 64;
  public static final int MAX_KEY = 64;
  static final int SMALL_INPUT = 128;

  private Blake2b() {}

  /** Unkeyed BLAKE2b with {@code outputLength} bytes of output (1 to 64). */
  public static byte[] hash(byte[] input, int outputLength) {
    return keyedHash(new byte[0], input, outputLength);
  }

  /**
   * Keyed BLAKE2b (a MAC or PRF): {@code key} of 0 to 64 bytes (0 means unkeyed), output of 1 to 64
   * bytes.
   */
  public static byte[] keyedHash(byte[] key, byte[] input, int outputLength) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(input, "input");
    if (outputLength < 1 || outputLength > MAX_OUTPUT) {
      throw new IllegalArgumentException("BLAKE2b output must be 1 to 64 bytes: " + outputLength);
    }
    if (key.length > MAX_KEY) {
      throw new IllegalArgumentException("BLAKE2b key must be at most 64 bytes: " + key.length);
    }
    boolean sodiumCan = outputLength >= 16 && (key.length == 0 || key.length >= 16);
    if (sodiumCan && input.length > SMALL_INPUT) {
      return sodium(key, input, outputLength);
    }
    return bouncy(key, input, outputLength);
  }

  static byte[] sodium(byte[] key, byte[] input, int outputLength) {
    byte[] out = new byte[outputLength];
    int rc =
        Sodium.get()
            .crypto_generichash(out, outputLength, input, input.length, key.length == 0 ? null : key, key.length);
    if (rc != 0) {
      throw new IllegalStateException("crypto_generichash failed");
    }
    return out;
  }

  static byte[] bouncy(byte[] key, byte[] input, int outputLength) {
    Blake2bDigest digest =
        new Blake2bDigest(key.length == 0 ? null : key, outputLength, null, null);
    digest.update(input, 0, input.length);
    byte[] out = new byte[outputLength];
    digest.doFinal(out, 0);
    return out;
  }
}
