package chat.agentvault.relay;

import chat.agentvault.relay.message.Store;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Rooms and messages inserted directly (no room or message API needed): for WebSocket tests. */
public final class RealtimeFixtures {
  private RealtimeFixtures() {}

  /** The relay's message service (its context is not public: tests of package {@code message} reach it here). */
  public static chat.agentvault.relay.message.MessageApi messages(TestRelay relay) {
    return relay.context().messages();
  }

  /** A plaintext room created by {@code members[0]}, everybody joined. */
  public static UUID room(TestRelay relay, UUID tenant, List<Fixtures.Device> members) throws Exception {
    UUID room = UUID.randomUUID();
    relay.database().asAdmin(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement(
          "insert into rooms (tenant_id, id, name, mode, created_by) values (?, ?, ?, 'plaintext', ?)")) {
        p.setObject(1, tenant);
        p.setObject(2, room);
        p.setString(3, "room-" + room.toString().substring(0, 8));
        p.setObject(4, members.get(0).id());
        p.executeUpdate();
      }
      try (PreparedStatement p = c.prepareStatement(
          "insert into room_members (tenant_id, room_id, device_id, role, status, joined_at)"
              + " values (?, ?, ?, ?, 'joined', now())")) {
        boolean first = true;
        for (Fixtures.Device d : members) {
          p.setObject(1, tenant);
          p.setObject(2, room);
          p.setObject(3, d.id());
          p.setString(4, first ? "owner" : "member");
          p.addBatch();
          first = false;
        }
        p.executeBatch();
      }
      return null;
    });
    return room;
  }

  /** Stores a message from {@code sender} to {@code recipients} and publishes it, as MessageService does. */
  static Store.Stored message(TestRelay relay, Fixtures.Device sender, UUID room, List<Fixtures.Device> recipients,
      String text) throws Exception {
    List<UUID> to = new ArrayList<>();
    for (Fixtures.Device d : recipients) {
      to.add(d.id());
    }
    Store.Stored s = relay.database().inTenant(sender.tenant(), c -> Store.insert(c, sender.tenant(), sender.id(),
        room, null, "application", "text/plain", "c-" + UUID.randomUUID(), null,
        text.getBytes(StandardCharsets.UTF_8), to));
    Store.publish(relay.context().fanout(), List.of(s));
    return s;
  }

  /** The client message ids of {@code d}'s pending deliveries, oldest first. */
  public static List<String> pendingClientIds(TestRelay relay, Fixtures.Device d) throws Exception {
    List<String> ids = new ArrayList<>();
    for (Store.Stored s : relay.database().inTenant(d.tenant(), c -> Store.pending(c, d.tenant(), d.id(), 0, 1000))) {
      ids.add(s.clientMessageId());
    }
    return ids;
  }

  /** Runs {@code statement} as the relay's role under {@code tenant} (row-level security); returns the rows it changed. */
  public static long update(TestRelay relay, UUID tenant, String statement, Object... args) throws Exception {
    return relay.database().inTenant(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement(statement)) {
        for (int i = 0; i < args.length; i++) {
          p.setObject(i + 1, args[i]);
        }
        return (long) p.executeUpdate();
      }
    });
  }

  /** The first column of the first row of {@code query}, as the relay's role under {@code tenant}. */
  public static <T> T scalar(TestRelay relay, UUID tenant, Class<T> type, String query, Object... args)
      throws Exception {
    return relay.database().inTenant(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement(query)) {
        for (int i = 0; i < args.length; i++) {
          p.setObject(i + 1, args[i]);
        }
        java.sql.ResultSet rs = p.executeQuery();
        if (!rs.next()) {
          throw new AssertionError("no row: " + query);
        }
        return rs.getObject(1, type);
      }
    });
  }
}
