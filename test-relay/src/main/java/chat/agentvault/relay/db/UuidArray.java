package chat.agentvault.relay.db;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.UUID;
import org.postgresql.util.PGBinaryObject;
import org.postgresql.util.PGobject;

/**
 * A {@code uuid[]} statement parameter sent in PostgreSQL's binary array format: 16 bytes per element,
 * no text to build in the relay and none to parse in the server. The driver encodes a
 * {@code createArrayOf("uuid", ..)} as text ({@code {"8c0f..","..."}}). The send batches carry one
 * recipient id per delivery: building that text was about 15 % of the writer thread's CPU
 * (async-profiler, rooms of 10) and parsing it ({@code array_in}, {@code uuid_in}) a few percent of
 * the server's, both inside the one transaction a tenant's sends wait for.
 *
 * <p>The driver sends a {@link PGBinaryObject} in binary only for the types its connection lists in
 * {@code binaryTransferEnable}; {@link Database} lists {@code uuid[]} ({@link #OID}). On a
 * connection that does not, the driver sends {@link #getValue()}, the same array as text.
 */
public final class UuidArray extends PGobject implements PGBinaryObject {
  /** {@code pg_type} oid of {@code uuid[]} ({@code _uuid}), a built-in type (fixed oid). */
  public static final int OID = 2951;
  private static final int UUID_OID = 2950;

  private final UUID[] values;

  private UuidArray(UUID[] values) {
    this.type = "_uuid";
    this.values = values;
  }

  /** The array of {@code values} in order; null elements are SQL NULLs. */
  public static UuidArray of(Collection<UUID> values) {
    return new UuidArray(values.toArray(new UUID[0]));
  }

  /** The array of {@code values} in order (copied); null elements are SQL NULLs. */
  public static UuidArray of(UUID... values) {
    return new UuidArray(values.clone());
  }

  // PostgreSQL's array_recv format (src/backend/utils/adt/arrayfuncs.c): int32 ndim, int32 flags
  // (1 when the array holds a NULL), int32 element oid, then per dimension int32 size and int32
  // lower bound, then per element int32 length (-1 for NULL) and its binary value (uuid_recv: 16
  // bytes, most significant first). An empty array has no dimensions.
  @Override
  public int lengthInBytes() {
    if (values.length == 0) {
      return 12;
    }
    int n = 20;
    for (UUID u : values) {
      n += u == null ? 4 : 20;
    }
    return n;
  }

  @Override
  public void toBytes(byte[] bytes, int offset) {
    ByteBuffer b = ByteBuffer.wrap(bytes, offset, lengthInBytes()); // big-endian, as the protocol
    boolean nulls = false;
    for (UUID u : values) {
      nulls |= u == null;
    }
    b.putInt(values.length == 0 ? 0 : 1).putInt(nulls ? 1 : 0).putInt(UUID_OID);
    if (values.length == 0) {
      return;
    }
    b.putInt(values.length).putInt(1);
    for (UUID u : values) {
      if (u == null) {
        b.putInt(-1);
      } else {
        b.putInt(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
      }
    }
  }

  @Override
  public void setByteValue(byte[] value, int offset) {
    throw new UnsupportedOperationException("UuidArray is a parameter type only");
  }

  @Override
  public void setValue(String value) {
    throw new UnsupportedOperationException("UuidArray is a parameter type only");
  }

  /** The text form ({@code {uuid,NULL,..}}), sent on a connection without binary {@code uuid[]}. */
  @Override
  public String getValue() {
    StringBuilder s = new StringBuilder(2 + 37 * values.length).append('{');
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        s.append(',');
      }
      s.append(values[i] == null ? "NULL" : values[i].toString());
    }
    return s.append('}').toString();
  }

  @Override
  public boolean isNull() {
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UuidArray a && java.util.Arrays.equals(values, a.values);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(values);
  }
}
