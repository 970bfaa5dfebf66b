package chat.agentvault.mls.codec;

import chat.agentvault.Bytes;
import java.util.Arrays;
import java.util.Collection;

/** Writes TLS presentation language values into a growable buffer. Not thread-safe. */
public final class TlsWriter {
  private byte[] buf;
  private int len;

  public TlsWriter() {
    this(128);
  }

  public TlsWriter(int capacity) {
    buf = new byte[Math.max(16, capacity)];
  }

  /** An encodable value. */
  @FunctionalInterface
  public interface Encoder<T> {
    void encode(TlsWriter writer, T value);
  }

  /** The encoding of one value. */
  public static <T> byte[] encode(T value, Encoder<T> encoder) {
    TlsWriter w = new TlsWriter();
    encoder.encode(w, value);
    return w.toByteArray();
  }

  private void ensure(int extra) {
    if (len + extra > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
    }
  }

  public int size() {
    return len;
  }

  public TlsWriter u8(int v) {
    ensure(1);
    buf[len++] = (byte) v;
    return this;
  }

  public TlsWriter u16(int v) {
    ensure(2);
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
    return this;
  }

  public TlsWriter u32(long v) {
    ensure(4);
    for (int i = 3; i >= 0; i--) {
      buf[len++] = (byte) (v >>> (8 * i));
    }
    return this;
  }

  public TlsWriter u64(long v) {
    ensure(8);
    for (int i = 7; i >= 0; i--) {
      buf[len++] = (byte) (v >>> (8 * i));
    }
    return this;
  }

  public TlsWriter bool(boolean v) {
    return u8(v ? 1 : 0);
  }

  /** RFC 9420 §2.1.2: the shortest of the 1-, 2- or 4-byte forms. */
  public TlsWriter varint(long v) {
    if (v < 0 || v > TlsReader.MAX_VARINT) {
      throw new IllegalArgumentException("value does not fit a variable-length integer: " + v);
    }
    if (v < 64) {
      return u8((int) v);
    }
    if (v < 16384) {
      return u16((int) (0x4000 | v));
    }
    return u32(0x80000000L | v);
  }

  public TlsWriter raw(byte[] bytes) {
    return raw(bytes, 0, bytes.length);
  }

  public TlsWriter raw(byte[] bytes, int off, int n) {
    ensure(n);
    System.arraycopy(bytes, off, buf, len, n);
    len += n;
    return this;
  }

  public TlsWriter raw(Bytes bytes) {
    return raw(bytes.unsafeArray());
  }

  /** {@code opaque<V>}. */
  public TlsWriter opaque(byte[] bytes) {
    varint(bytes.length);
    return raw(bytes);
  }

  public TlsWriter opaque(Bytes bytes) {
    return opaque(bytes.unsafeArray());
  }

  /** {@code T<V>}: items encoded, prefixed with their total byte length. */
  public <T> TlsWriter vector(Collection<? extends T> items, Encoder<? super T> item) {
    TlsWriter sub = new TlsWriter();
    for (T t : items) {
      item.encode(sub, t);
    }
    varint(sub.len);
    return raw(sub.buf, 0, sub.len);
  }

  /** {@code optional<T>} with null meaning absent. */
  public <T> TlsWriter optional(T value, Encoder<? super T> item) {
    if (value == null) {
      return u8(0);
    }
    u8(1);
    item.encode(this, value);
    return this;
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }

  public Bytes toBytes() {
    return Bytes.wrap(toByteArray());
  }
}
