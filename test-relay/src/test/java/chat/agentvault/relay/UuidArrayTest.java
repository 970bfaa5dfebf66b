package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.relay.db.UuidArray;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.jdbc.PgConnection;

/**
 * {@link UuidArray}: its binary encoding is byte for byte what PostgreSQL's own {@code array_send}
 * produces, the relay's connections send it in binary, and a connection that does not still gets the
 * same array (as text). Against the relay's real PostgreSQL.
 */
@ExtendWith(TestRelayExtension.class)
class UuidArrayTest {
  static TestRelay relay;

  static List<UUID[]> samples() {
    List<UUID[]> s = new ArrayList<>();
    s.add(new UUID[0]);
    s.add(new UUID[] {UUID.randomUUID()});
    s.add(new UUID[] {new UUID(0, 0), new UUID(-1, -1), new UUID(Long.MIN_VALUE, 1)});
    s.add(new UUID[] {UUID.randomUUID(), null, UUID.randomUUID(), null});
    s.add(new UUID[] {null});
    UUID[] many = new UUID[1000];
    Arrays.setAll(many, i -> UUID.randomUUID());
    s.add(many);
    return s;
  }

  @Test
  void theBinaryEncodingIsPostgresqlsOwn() throws Exception {
    UUID tenant = UUID.randomUUID();
    relay.database().inTenant(tenant, c -> {
      for (UUID[] values : samples()) {
        UuidArray a = UuidArray.of(values);
        byte[] ours = new byte[a.lengthInBytes()];
        a.toBytes(ours, 0);
        byte[] theirs;
        // the array as PostgreSQL builds it from text, then its binary send function
        try (PreparedStatement p = c.prepareStatement("select array_send(?::text::uuid[])")) {
          p.setString(1, a.getValue());
          ResultSet rs = p.executeQuery();
          rs.next();
          theirs = rs.getBytes(1);
        }
        assertThat(ours).as("%d elements", values.length).isEqualTo(theirs);
        // written at an offset, as the driver may
        byte[] shifted = new byte[ours.length + 7];
        a.toBytes(shifted, 7);
        assertThat(Arrays.copyOfRange(shifted, 7, shifted.length)).isEqualTo(ours);
      }
      return null;
    });
  }

  @Test
  void theRelaysConnectionsSendItInBinaryAndGetTheSameArray() throws Exception {
    UUID tenant = UUID.randomUUID();
    relay.database().inTenant(tenant, c -> {
      assertThat(c.unwrap(PgConnection.class).binaryTransferSend(UuidArray.OID)).isTrue();
      for (UUID[] values : samples()) {
        assertThat(roundTrip(c, values)).isEqualTo(Arrays.asList(values));
      }
      return null;
    });
  }

  @Test
  void aConnectionWithoutBinaryUuidArraysGetsTheSameArrayAsText() throws Exception {
    String url = relay.database().inTenant(UUID.randomUUID(), c -> c.getMetaData().getURL());
    try (Connection c = DriverManager.getConnection(url, relay.config().adminUser(), "postgres")) {
      assertThat(c.unwrap(PgConnection.class).binaryTransferSend(UuidArray.OID)).isFalse();
      for (UUID[] values : samples()) {
        assertThat(roundTrip(c, values)).isEqualTo(Arrays.asList(values));
      }
    }
  }

  /** The array's elements as PostgreSQL received them, in order, with an element count check. */
  private static List<UUID> roundTrip(Connection c, UUID[] values) throws java.sql.SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "select u, cardinality(?::uuid[]) from unnest(?::uuid[]) with ordinality as x(u, i) order by i")) {
      p.setObject(1, UuidArray.of(values));
      p.setObject(2, UuidArray.of(values));
      ResultSet rs = p.executeQuery();
      List<UUID> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getObject(1, UUID.class));
        assertThat(rs.getInt(2)).isEqualTo(values.length);
      }
      return out;
    }
  }
}
