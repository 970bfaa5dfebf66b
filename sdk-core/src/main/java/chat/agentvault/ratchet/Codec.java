package chat.agentvault.ratchet;

import chat.agentvault.ratchet.RatchetException.Reason;
import java.util.Arrays;

/**
 * Not API. Big-endian fixed-width writer and a total reader: every read checks the remaining
 * length first and a failure is one {@link RatchetException} ({@link Reason#MALFORMED} unless the
 * caller says otherwise), never an index or allocation error. Counts read from input are checked
 * against the bytes left before anything is allocated.
 */
final class Codec {
  private Codec() {}

  static final class Writer {
    private byte[] buf;
    private int pos;

    Writer(int capacity) {
      buf = new byte[Math.max(1, capacity)];
    }

    private void ensure(int n) {
      if (pos + n > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
      }
    }

    Writer u8(int v) {
      ensure(1);
      buf[pos++] = (byte) v;
      return this;
    }

    Writer bool(boolean v) {
      return u8(v ? 1 : 0);
    }

    Writer u32(int v) {
      ensure(4);
      buf[pos++] = (byte) (v >>> 24);
      buf[pos++] = (byte) (v >>> 16);
      buf[pos++] = (byte) (v >>> 8);
      buf[pos++] = (byte) v;
      return this;
    }

    Writer u64(long v) {
      u32((int) (v >>> 32));
      return u32((int) v);
    }

    Writer raw(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, buf, pos, b.length);
      pos += b.length;
      return this;
    }

    /** A present flag then the bytes, or a zero flag. */
    Writer optional(byte[] b) {
      if (b == null) {
        return u8(0);
      }
      return u8(1).raw(b);
    }

    /** u32 length then bytes. */
    Writer vector(byte[] b) {
      return u32(b.length).raw(b);
    }

    int position() {
      return pos;
    }

    /** Copies what was written into {@code dest} at {@code offset}. */
    void copyTo(byte[] dest, int offset) {
      System.arraycopy(buf, 0, dest, offset, pos);
    }

    byte[] toByteArray() {
      return pos == buf.length ? buf : Arrays.copyOf(buf, pos);
    }

    /**
     * The buffer itself when exactly filled (no copy, nothing left behind to wipe), else a copy
     * with the buffer zeroed: for records holding secrets, sized in advance.
     */
    byte[] toExactArray() {
      return pos == buf.length ? buf : toByteArrayAndWipe();
    }

    /** A copy of what was written, then the buffer zeroed (for records holding secrets). */
    byte[] toByteArrayAndWipe() {
      byte[] out = Arrays.copyOf(buf, pos);
      wipe();
      return out;
    }

    /** Zeroes the buffer (for records holding secrets), after {@link #toByteArray()} copied it. */
    void wipe() {
      Arrays.fill(buf, (byte) 0);
    }
  }

  static final class Reader {
    private final byte[] buf;
    private int pos;
    private final int end;
    private final String what;

    Reader(byte[] buf, String what) {
      this(buf, 0, buf.length, what);
    }

    Reader(byte[] buf, int from, int to, String what) {
      this.buf = buf;
      this.pos = from;
      this.end = to;
      this.what = what;
    }

    RatchetException malformed(String detail) {
      return new RatchetException(Reason.MALFORMED, what + ": " + detail);
    }

    private void need(int n) {
      if (n < 0 || end - pos < n) {
        throw malformed("truncated");
      }
    }

    int position() {
      return pos;
    }

    int remaining() {
      return end - pos;
    }

    int u8() {
      need(1);
      return buf[pos++] & 0xff;
    }

    boolean bool() {
      int b = u8();
      if (b > 1) {
        throw malformed("flag is neither 0 nor 1");
      }
      return b == 1;
    }

    int u32() {
      need(4);
      int v =
          ((buf[pos] & 0xff) << 24)
              | ((buf[pos + 1] & 0xff) << 16)
              | ((buf[pos + 2] & 0xff) << 8)
              | (buf[pos + 3] & 0xff);
      pos += 4;
      return v;
    }

    /** A u32 that must fit a non-negative int. */
    int u31() {
      int v = u32();
      if (v < 0) {
        throw malformed("counter out of range");
      }
      return v;
    }

    long u64() {
      long hi = u32() & 0xffffffffL;
      return (hi << 32) | (u32() & 0xffffffffL);
    }

    byte[] raw(int n) {
      need(n);
      byte[] out = Arrays.copyOfRange(buf, pos, pos + n);
      pos += n;
      return out;
    }

    byte[] optional(int n) {
      return bool() ? raw(n) : null;
    }

    /** u32 length (at most {@code max}) then bytes. */
    byte[] vector(int max) {
      int n = u32();
      if (n < 0 || n > max) {
        throw malformed("length out of range");
      }
      return raw(n);
    }

    /** A count of items of at least {@code minItemSize} bytes each, checked against what is left. */
    int count(int max, int minItemSize) {
      int n = u32();
      if (n < 0 || n > max || (long) n * minItemSize > remaining()) {
        throw malformed("count out of range");
      }
      return n;
    }

    byte[] rest() {
      return raw(remaining());
    }

    void end() {
      if (pos != end) {
        throw malformed("trailing bytes");
      }
    }
  }
}
