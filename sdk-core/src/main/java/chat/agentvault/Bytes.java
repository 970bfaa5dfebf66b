package chat.agentvault;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * An immutable byte string: the value type for opaque fields of wire records (group ids, public
 * keys, signatures, ciphertexts). Records must not hold raw {@code byte[]} (identity-based equality,
 * mutable accessor); they hold {@code Bytes}.
 *
 * <p>Equality is by content. {@link #equals} is not constant-time: use {@link #equalsConstantTime}
 * for MACs and tags. Not for secrets (use {@link chat.agentvault.crypto.SecretBytes}): {@link
 * #toString} prints hex.
 */
public final class Bytes implements Comparable<Bytes> {
  public static final Bytes EMPTY = new Bytes(new byte[0]);
  private static final HexFormat HEX = HexFormat.of();

  private final byte[] data;
  private int hash;

  private Bytes(byte[] owned) {
    this.data = owned;
  }

  /** A copy of {@code bytes}. */
  public static Bytes of(byte... bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return bytes.length == 0 ? EMPTY : new Bytes(bytes.clone());
  }

  /** A copy of {@code bytes[from, to)}. */
  public static Bytes of(byte[] bytes, int from, int to) {
    return new Bytes(Arrays.copyOfRange(bytes, from, to));
  }

  /** Takes ownership without copying: only for arrays the caller will never touch again. */
  public static Bytes wrap(byte[] owned) {
    Objects.requireNonNull(owned, "owned");
    return new Bytes(owned);
  }

  public static Bytes fromHex(String hex) {
    return new Bytes(HEX.parseHex(hex));
  }

  public static Bytes fromBase64(String base64) {
    return new Bytes(Base64.getDecoder().decode(base64));
  }

  public int length() {
    return data.length;
  }

  public boolean isEmpty() {
    return data.length == 0;
  }

  public byte get(int index) {
    return data[index];
  }

  /** A fresh copy of the contents. */
  public byte[] toByteArray() {
    return data.clone();
  }

  /** The backing array, for read-only use by encoders; callers must never modify it. */
  public byte[] unsafeArray() {
    return data;
  }

  public Bytes concat(Bytes other) {
    byte[] out = Arrays.copyOf(data, data.length + other.data.length);
    System.arraycopy(other.data, 0, out, data.length, other.data.length);
    return new Bytes(out);
  }

  public boolean equalsConstantTime(Bytes other) {
    return other != null && MessageDigest.isEqual(data, other.data);
  }

  public String hex() {
    return HEX.formatHex(data);
  }

  public String base64() {
    return Base64.getEncoder().encodeToString(data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bytes && Arrays.equals(data, ((Bytes) o).data);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0 && data.length > 0) {
      h = Arrays.hashCode(data);
      hash = h;
    }
    return h;
  }

  @Override
  public int compareTo(Bytes o) {
    return Arrays.compareUnsigned(data, o.data);
  }

  @Override
  public String toString() {
    return data.length <= 32 ? HEX.formatHex(data) : HEX.formatHex(data, 0, 32) + "…(" + data.length + " bytes)";
  }
}
