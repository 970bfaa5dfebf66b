package chat.agentvault.mls.codec;

import chat.agentvault.Bytes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Reads TLS presentation language values from a byte range. Every read checks the bytes that
 * remain first, so a length prefix can never make it allocate more than the input holds.
 */
public final class TlsReader {
  /** RFC 9420 §2.1.2: variable-length integers encode at most 30 bits. */
  public static final long MAX_VARINT = (1L << 30) - 1;

  private final byte[] buf;
  private int pos;
  private final int end;

  private TlsReader(byte[] buf, int pos, int end) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  public static TlsReader of(byte[] data) {
    Objects.requireNonNull(data, "data");
    return new TlsReader(data, 0, data.length);
  }

  public static TlsReader of(Bytes data) {
    return of(data.unsafeArray());
  }

  /** Decodes one whole value; trailing bytes are malformed. */
  public static <T> T decodeAll(byte[] data, Decoder<T> decoder) {
    TlsReader r = of(data);
    T value = decoder.decode(r);
    r.finish();
    return value;
  }

  public static <T> T decodeAll(Bytes data, Decoder<T> decoder) {
    return decodeAll(data.unsafeArray(), decoder);
  }

  /** A value decoder: reads one {@code T} or throws {@link DecodeException}. */
  @FunctionalInterface
  public interface Decoder<T> {
    T decode(TlsReader reader);
  }

  public int remaining() {
    return end - pos;
  }

  public boolean hasRemaining() {
    return pos < end;
  }

  /** The offset of the next byte in the underlying array (for hashing over encoded ranges). */
  public int position() {
    return pos;
  }

  /** A copy of the encoded bytes between {@code from} (an earlier {@link #position()}) and now. */
  public Bytes slice(int from) {
    return Bytes.of(buf, from, pos);
  }

  /** Fails unless every byte was consumed. */
  public void finish() {
    if (pos != end) {
      throw new DecodeException((end - pos) + " trailing bytes");
    }
  }

  private void need(long n) {
    if (n < 0 || n > end - pos) {
      throw new DecodeException("truncated: need " + n + " bytes, " + (end - pos) + " left");
    }
  }

  public int u8() {
    need(1);
    return buf[pos++] & 0xff;
  }

  public int u16() {
    need(2);
    int v = ((buf[pos] & 0xff) << 8) | (buf[pos + 1] & 0xff);
    pos += 2;
    return v;
  }

  public long u32() {
    need(4);
    long v = 0;
    for (int i = 0; i < 4; i++) {
      v = (v << 8) | (buf[pos + i] & 0xff);
    }
    pos += 4;
    return v;
  }

  /** uint64 as a Java long (callers interpret it as unsigned where it matters). */
  public long u64() {
    need(8);
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (buf[pos + i] & 0xff);
    }
    pos += 8;
    return v;
  }

  /**
   * uint32 as its 32-bit pattern in an int: wire records keep the full unsigned range (use {@link
   * Integer#toUnsignedLong} or {@link Integer#compareUnsigned}); semantic range checks, such as a
   * leaf index inside the tree, belong to the layer that knows the range.
   */
  public int u32Bits() {
    return (int) u32();
  }

  /** uint32 that must fit a non-negative int (counts, sizes). */
  public int u32AsInt() {
    long v = u32();
    if (v > Integer.MAX_VALUE) {
      throw new DecodeException("uint32 value too large: " + v);
    }
    return (int) v;
  }

  /** RFC 9420 §2.1.2 variable-length integer; prefix 0b11 and non-minimal encodings are malformed. */
  public int varint() {
    need(1);
    int first = buf[pos] & 0xff;
    int prefix = first >>> 6;
    if (prefix == 3) {
      throw new DecodeException("invalid variable-length integer prefix");
    }
    int length = 1 << prefix;
    need(length);
    long v = first & 0x3f;
    for (int i = 1; i < length; i++) {
      v = (v << 8) | (buf[pos + i] & 0xff);
    }
    if (prefix >= 1 && v < (1L << (8 * (length / 2) - 2))) {
      throw new DecodeException("variable-length integer not minimally encoded");
    }
    pos += length;
    return (int) v;
  }

  /** {@code opaque<V>}. */
  public Bytes opaque() {
    int len = varint();
    need(len);
    Bytes b = Bytes.of(buf, pos, pos + len);
    pos += len;
    return b;
  }

  /** Fixed-length {@code opaque[n]}. */
  public Bytes fixed(int n) {
    need(n);
    Bytes b = Bytes.of(buf, pos, pos + n);
    pos += n;
    return b;
  }

  /** {@code T<V>}: a varint byte length, then items until exactly that many bytes are consumed. */
  public <T> List<T> vector(Decoder<T> item) {
    int len = varint();
    need(len);
    TlsReader sub = new TlsReader(buf, pos, pos + len);
    List<T> out = new ArrayList<>();
    while (sub.hasRemaining()) {
      out.add(item.decode(sub));
    }
    pos += len;
    return List.copyOf(out);
  }

  /** {@code optional<T>}: a presence byte 0 or 1 (anything else is malformed); null when absent. */
  public <T> T optional(Decoder<T> item) {
    int present = u8();
    if (present == 0) {
      return null;
    }
    if (present != 1) {
      throw new DecodeException("optional presence byte must be 0 or 1, was " + present);
    }
    return item.decode(this);
  }

  /** A {@code uint8} boolean, 0 or 1. */
  public boolean bool() {
    int v = u8();
    if (v > 1) {
      throw new DecodeException("boolean must be 0 or 1, was " + v);
    }
    return v == 1;
  }

  /** Copies the rest of the input (for callers that hash what they decoded). */
  public byte[] rest() {
    byte[] out = Arrays.copyOfRange(buf, pos, end);
    pos = end;
    return out;
  }
}
