package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.relay.message.Store;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Schema V2: deliveries have no foreign key to messages, so deleting messages (by cascade from their
 * room) must still delete their deliveries, through the trigger on messages, as the relay's own role
 * under RLS; and the one read path still finds pending deliveries by the primary key. Schema V5:
 * messages have no foreign key to rooms either; the trigger on rooms deletes them.
 */
@ExtendWith(TestRelayExtension.class)
class DeliveriesSchemaTest {
  static TestRelay relay;

  @Test
  void deletingARoomDeletesItsMessagesDeliveriesAndNoOthers() throws Exception {
    UUID tenant = Fixtures.tenant(relay);
    Fixtures.Device a = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device b = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device c = Fixtures.active(relay, tenant, "agent");
    UUID gone = RealtimeFixtures.room(relay, tenant, List.of(a, b, c));
    UUID kept = RealtimeFixtures.room(relay, tenant, List.of(a, b, c));
    Store.Stored g1 = RealtimeFixtures.message(relay, a, gone, List.of(b, c), "one");
    Store.Stored g2 = RealtimeFixtures.message(relay, b, gone, List.of(a, c), "two");
    Store.Stored k1 = RealtimeFixtures.message(relay, a, kept, List.of(b, c), "three");
    assertThat(deliveries(tenant, g1.id(), g2.id(), k1.id())).isEqualTo(6);

    relay.database().inTenant(tenant, x -> { // as RoomRoutes does when the last member leaves
      try (PreparedStatement p = x.prepareStatement("delete from rooms where id = ?")) {
        p.setObject(1, gone);
        return p.executeUpdate();
      }
    });

    assertThat(deliveries(tenant, g1.id(), g2.id())).isZero();
    assertThat(deliveries(tenant, k1.id())).isEqualTo(2);
    // V5: messages have no foreign key to rooms; the trigger on rooms deletes them
    assertThat(count(tenant, "messages", "id", g1.id(), g2.id())).isZero();
    assertThat(count(tenant, "messages", "id", k1.id())).isEqualTo(1);
    List<Store.Stored> left = relay.database().inTenant(tenant, x -> Store.pending(x, tenant, c.id(), 0, 100));
    assertThat(left).extracting(Store.Stored::id).containsExactly(k1.id());
  }

  /** Delivery rows of these messages, counted by the administrative role (all tenants). */
  private static long deliveries(UUID tenant, long... messageIds) throws Exception {
    return count(tenant, "deliveries", "message_id", messageIds);
  }

  private static long count(UUID tenant, String table, String idColumn, long... messageIds) throws Exception {
    return relay.database().asAdmin(tenant, x -> {
      try (PreparedStatement p = x.prepareStatement("select count(*) from " + table + " where " + idColumn
          + " = any(?)")) {
        Long[] ids = new Long[messageIds.length];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = messageIds[i];
        }
        p.setArray(1, x.createArrayOf("bigint", ids));
        ResultSet rs = p.executeQuery();
        rs.next();
        return rs.getLong(1);
      }
    });
  }
}
