package chat.agentvault.identity;

import chat.agentvault.crypto.Blake2b;
import chat.agentvault.crypto.ConstantTime;
import chat.agentvault.crypto.Ed25519PublicKey;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * The fingerprint of a device identity: BLAKE2b-256 (RFC 7693, unkeyed, 32-byte output) of the
 * 32-byte Ed25519 identity public key. The relay and the owner compute the same value when the
 * owner approves a device.
 *
 * <p>Presented as 64 lowercase hex digits in 16 groups of 4 joined by {@code :} ({@link #full()});
 * {@link #shortForm()} (the first 4 groups, 64 bits) is for display and logs only and is never
 * accepted for approval: {@link #parse} and {@link #matches} take the full 256 bits only.
 */
public final class Fingerprint {
  /** Bytes in a fingerprint. */
  public static final int LENGTH = 32;

  private static final HexFormat HEX = HexFormat.of();
  private static final int GROUPS = 16;
  private static final int SHORT_GROUPS = 4;

  private final byte[] digest;
  private int hash; // cached: fingerprints key the ratchet's per-peer maps on every message

  private Fingerprint(byte[] digest) {
    this.digest = digest;
  }

  /** The fingerprint of {@code identityKey}. */
  public static Fingerprint of(Ed25519PublicKey identityKey) {
    Objects.requireNonNull(identityKey, "identityKey");
    return new Fingerprint(Blake2b.hash(identityKey.toByteArray(), LENGTH));
  }

  /**
   * Parses a presented fingerprint: 64 hex digits, either unseparated or in the 16 groups of 4
   * joined by {@code :} that {@link #full()} prints; case-insensitive; surrounding whitespace is
   * ignored.
   *
   * @throws IllegalArgumentException when {@code presented} is not such a fingerprint (the message
   *     does not repeat the input)
   */
  public static Fingerprint parse(String presented) {
    Objects.requireNonNull(presented, "presented");
    return tryParse(presented)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "fingerprint must be 64 hex digits, optionally in 16 groups of 4 joined by ':'"));
  }

  private static Optional<Fingerprint> tryParse(String presented) {
    String s = presented.strip();
    String digits;
    if (s.length() == 2 * LENGTH) {
      digits = s;
    } else if (s.length() == 2 * LENGTH + GROUPS - 1) {
      StringBuilder b = new StringBuilder(2 * LENGTH);
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (i % 5 == 4) {
          if (c != ':') {
            return Optional.empty();
          }
        } else {
          b.append(c);
        }
      }
      digits = b.toString();
    } else {
      return Optional.empty();
    }
    for (int i = 0; i < digits.length(); i++) {
      if (Character.digit(digits.charAt(i), 16) < 0) {
        return Optional.empty();
      }
    }
    return Optional.of(new Fingerprint(HEX.parseHex(digits)));
  }

  /**
   * True when {@code presented} parses (as in {@link #parse}) to this fingerprint; the 32 bytes
   * are compared in constant time. A malformed or short-form input is simply not a match.
   */
  public boolean matches(String presented) {
    Objects.requireNonNull(presented, "presented");
    Optional<Fingerprint> other = tryParse(presented);
    return other.isPresent() && ConstantTime.equals(digest, other.get().digest);
  }

  /** All 64 hex digits, lowercase, in 16 groups of 4 joined by {@code :}. */
  public String full() {
    return grouped(GROUPS);
  }

  /** The first 4 groups of {@link #full()}: for display and logs, never for approval. */
  public String shortForm() {
    return grouped(SHORT_GROUPS);
  }

  private String grouped(int groups) {
    String hex = HEX.formatHex(digest);
    StringBuilder b = new StringBuilder(groups * 5);
    for (int g = 0; g < groups; g++) {
      if (g > 0) {
        b.append(':');
      }
      b.append(hex, 4 * g, 4 * g + 4);
    }
    return b.toString();
  }

  /** A copy of the 32 digest bytes. */
  public byte[] toByteArray() {
    return digest.clone();
  }

  /** Constant-time equality of the digests. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Fingerprint && ConstantTime.equals(digest, ((Fingerprint) o).digest);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      h = Arrays.hashCode(digest);
      hash = h;
    }
    return h;
  }

  /** {@link #full()}. */
  @Override
  public String toString() {
    return full();
  }
}
