package chat.agentvault.mls.codec;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * One structure-agnostic mutation of an encoding, as a fuzzer would make it. Positions are taken
 * modulo the input length, so any generated value applies to any input and shrinks towards 0.
 */
public record ByteMutation(Kind kind, int position, int length, int value) {

  /** What the mutation does. */
  public enum Kind {
    /** Flip bit {@code value & 7} of one byte. */
    FLIP_BIT,
    /** Replace one byte by {@code value}. */
    SET_BYTE,
    /** Cut the input at {@code position}. */
    TRUNCATE,
    /** Insert {@code length} bytes derived from {@code value}. */
    INSERT,
    /** Delete {@code length} bytes. */
    DELETE,
    /** Repeat a range of {@code length} bytes right after itself. */
    DUPLICATE_RANGE,
    /** Overwrite four bytes with the varint 2^30-1 (a length prefix claiming a gigabyte). */
    HUGE_LENGTH,
    /** Insert the varint 2^30-1. */
    HUGE_LENGTH_INSERT,
    /** Overwrite two bytes with the varint 16383 (the largest two-byte length). */
    MAX_TWO_BYTE_LENGTH,
    /** Set the two top bits of a byte: a varint with the reserved prefix 0b11. */
    VARINT_PREFIX_11
  }

  private static final byte[] HUGE = {(byte) 0xbf, (byte) 0xff, (byte) 0xff, (byte) 0xff};
  private static final byte[] MAX_TWO = {(byte) 0x7f, (byte) 0xff};

  public byte[] apply(byte[] in) {
    int n = in.length;
    int at = n == 0 ? 0 : Math.floorMod(position, n); // an existing byte
    int gap = Math.floorMod(position, n + 1); // an insertion point
    int len = Math.max(1, length);
    switch (kind) {
      case FLIP_BIT -> {
        if (n == 0) {
          return in.clone();
        }
        byte[] out = in.clone();
        out[at] ^= (byte) (1 << (value & 7));
        return out;
      }
      case SET_BYTE -> {
        if (n == 0) {
          return new byte[] {(byte) value};
        }
        byte[] out = in.clone();
        out[at] = (byte) value;
        return out;
      }
      case TRUNCATE -> {
        return Arrays.copyOf(in, n == 0 ? 0 : Math.floorMod(position, n));
      }
      case INSERT -> {
        byte[] ins = new byte[len];
        for (int i = 0; i < len; i++) {
          ins[i] = (byte) (value + 97 * i);
        }
        return splice(in, gap, 0, ins);
      }
      case DELETE -> {
        return n == 0 ? in.clone() : splice(in, at, Math.min(len, n - at), new byte[0]);
      }
      case DUPLICATE_RANGE -> {
        if (n == 0) {
          return in.clone();
        }
        int end = Math.min(n, at + len);
        return splice(in, end, 0, Arrays.copyOfRange(in, at, end));
      }
      case HUGE_LENGTH -> {
        return overwrite(in, at, HUGE);
      }
      case HUGE_LENGTH_INSERT -> {
        return splice(in, gap, 0, HUGE);
      }
      case MAX_TWO_BYTE_LENGTH -> {
        return overwrite(in, at, MAX_TWO);
      }
      case VARINT_PREFIX_11 -> {
        if (n == 0) {
          return new byte[] {(byte) 0xc0};
        }
        byte[] out = in.clone();
        out[at] |= (byte) 0xc0;
        return out;
      }
      default -> throw new AssertionError(kind);
    }
  }

  public static byte[] applyAll(byte[] in, List<ByteMutation> mutations) {
    byte[] out = in;
    for (ByteMutation m : mutations) {
      out = m.apply(out);
    }
    return out;
  }

  private static byte[] overwrite(byte[] in, int at, byte[] with) {
    if (in.length == 0) {
      return with.clone();
    }
    byte[] out = in.clone();
    for (int i = 0; i < with.length && at + i < out.length; i++) {
      out[at + i] = with[i];
    }
    return out;
  }

  private static byte[] splice(byte[] in, int at, int remove, byte[] insert) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + insert.length);
    out.write(in, 0, at);
    out.write(insert, 0, insert.length);
    out.write(in, at + remove, in.length - at - remove);
    return out.toByteArray();
  }

  /** Any single mutation. */
  public static Arbitrary<ByteMutation> arbitrary() {
    return Combinators.combine(
            Arbitraries.of(Kind.class),
            Arbitraries.integers().between(0, 1 << 20),
            Arbitraries.integers().between(1, 40),
            Arbitraries.integers().between(0, 255))
        .as(ByteMutation::new);
  }

  /** One to {@code max} mutations applied in order. */
  public static Arbitrary<List<ByteMutation>> lists(int max) {
    return arbitrary().list().ofMinSize(1).ofMaxSize(max);
  }
}
