package chat.agentvault.relay.message;

import chat.agentvault.relay.db.UuidArray;
import chat.agentvault.relay.fanout.Fanout;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * The message store's one write path: a message row and one pending delivery row per recipient, in
 * the caller's transaction; and the one frame format a stored message is delivered in (WebSocket
 * push, HTTP fetch). Relay events (room_joined, member_removed, rekey_requested, device_revoked,
 * ...) are stored and delivered the same way, as messages of type {@code event}, so an offline
 * device receives them in order with everything else.
 */
public final class Store {
  public static final String EVENT = "event";
  public static final String EVENT_CONTENT_TYPE = "application/vnd.agentvault.event+json";

  private Store() {}

  /** A message as stored: everything a recipient sees. */
  public record Stored(long id, UUID tenant, UUID sender, UUID room, UUID conversation, String messageType,
      String contentType, String clientMessageId, Long epoch, byte[] payload, Instant createdAt,
      List<UUID> recipients) {

    /** The delivery frame: {@code {"type":"message","message":{...}}}. */
    public String frame() {
      return JsonBody.object().put("type", "message").set("message", json()).toString();
    }

    /** The message object of fetch answers and frames (docs/protocol.md, "Messages"). */
    public ObjectNode json() {
      ObjectNode m = JsonBody.object()
          .put("message_id", id)
          .put("sender_device_id", sender.toString())
          .put("message_type", messageType)
          .put("content_type", contentType)
          .put("client_message_id", clientMessageId)
          .put("payload", JsonBody.b64(payload))
          .put("created_at", createdAt.toString());
      m.put("room_id", room == null ? null : room.toString());
      m.put("conversation_id", conversation == null ? null : conversation.toString());
      if (epoch == null) {
        m.putNull("epoch");
      } else {
        m.put("epoch", epoch.longValue());
      }
      return m;
    }

    @Override
    public String toString() {
      return "Stored[id=" + id + ", type=" + messageType + ", payload=" + payload.length + " bytes]";
    }
  }

  /**
   * Inserts a message and its deliveries. Returns null when {@code (sender, clientMessageId)} was
   * already stored (idempotent resend): the caller answers with the existing id, see
   * {@link #existingId}.
   */
  public static Stored insert(Connection c, UUID tenant, UUID sender, UUID room, UUID conversation,
      String messageType, String contentType, String clientMessageId, Long epoch, byte[] payload,
      Collection<UUID> recipients) throws SQLException {
    long id;
    Instant created;
    if (room != null) {
      // V5: the room cannot be deleted before this insert commits (what messages' foreign key to
      // rooms guarded); a room already gone leaves nothing to insert
      try (PreparedStatement p = c.prepareStatement("select 1 from rooms where id = ? for key share")) {
        p.setObject(1, room);
        if (!p.executeQuery().next()) {
          throw new SQLException("room " + room + " does not exist", "23503");
        }
      }
    }
    try (PreparedStatement p = c.prepareStatement(
        "insert into messages (tenant_id, sender_device_id, room_id, conversation_id, message_type,"
            + " content_type, client_message_id, epoch, payload) values (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            + " on conflict (tenant_id, sender_device_id, client_message_id) do nothing"
            + " returning id, created_at")) {
      p.setObject(1, tenant);
      p.setObject(2, sender);
      p.setObject(3, room);
      p.setObject(4, conversation);
      p.setString(5, messageType);
      p.setString(6, contentType);
      p.setString(7, clientMessageId);
      if (epoch == null) {
        p.setNull(8, java.sql.Types.BIGINT);
      } else {
        p.setLong(8, epoch);
      }
      p.setBytes(9, payload);
      ResultSet rs = p.executeQuery();
      if (!rs.next()) {
        return null;
      }
      id = rs.getLong(1);
      created = rs.getTimestamp(2).toInstant();
    }
    List<UUID> to = new ArrayList<>(recipients);
    if (!to.isEmpty()) {
      try (PreparedStatement p = c.prepareStatement(
          "insert into deliveries (tenant_id, message_id, recipient_device_id)"
              + " select ?, ?, r from unnest(?::uuid[]) as r")) {
        p.setObject(1, tenant);
        p.setLong(2, id);
        p.setObject(3, UuidArray.of(to));
        p.executeUpdate();
      }
    }
    return new Stored(id, tenant, sender, room, conversation, messageType, contentType, clientMessageId,
        epoch, payload, created, List.copyOf(to));
  }

  /** The id of the message {@code sender} stored under {@code clientMessageId}, or -1. */
  public static long existingId(Connection c, UUID sender, String clientMessageId) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "select id from messages where sender_device_id = ? and client_message_id = ?")) {
      p.setObject(1, sender);
      p.setString(2, clientMessageId);
      ResultSet rs = p.executeQuery();
      return rs.next() ? rs.getLong(1) : -1;
    }
  }

  /**
   * Stores a relay event for {@code recipients} (in the caller's transaction). {@code actor} is the
   * device whose action caused it; the event's client id is unique per event.
   */
  public static Stored event(Connection c, UUID tenant, UUID actor, UUID room, Collection<UUID> recipients,
      ObjectNode event) throws SQLException {
    return insert(c, tenant, actor, room, null, EVENT, EVENT_CONTENT_TYPE, "event-" + UUID.randomUUID(), null,
        event.toString().getBytes(StandardCharsets.UTF_8), recipients);
  }

  /**
   * {@code recipient}'s pending deliveries with a message id above {@code after}, oldest first, at
   * most {@code limit} (the one read path: HTTP fetch and the WebSocket's replay on connect). Reads
   * the primary key {@code (recipient_device_id, message_id)} from {@code after} on; every row there
   * is pending (V6: an acknowledgement deletes its row). The returned {@code recipients} are just
   * {@code recipient}.
   */
  public static List<Stored> pending(Connection c, UUID tenant, UUID recipient, long after, int limit)
      throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "select m.id, m.sender_device_id, m.room_id, m.conversation_id, m.message_type, m.content_type,"
            + " m.client_message_id, m.epoch, m.payload, m.created_at"
            + " from deliveries d join messages m on m.id = d.message_id"
            + " where d.recipient_device_id = ? and d.message_id > ?"
            + " order by d.message_id limit ?")) {
      p.setObject(1, recipient);
      p.setLong(2, after);
      p.setInt(3, limit);
      ResultSet rs = p.executeQuery();
      List<Stored> out = new ArrayList<>();
      List<UUID> to = List.of(recipient);
      while (rs.next()) {
        long epoch = rs.getLong(8);
        Long e = rs.wasNull() ? null : epoch;
        out.add(new Stored(rs.getLong(1), tenant, rs.getObject(2, UUID.class), rs.getObject(3, UUID.class),
            rs.getObject(4, UUID.class), rs.getString(5), rs.getString(6), rs.getString(7), e, rs.getBytes(9),
            rs.getTimestamp(10).toInstant(), to));
      }
      return out;
    }
  }

  /**
   * Acknowledgement of one recipient's deliveries: (recipient, message ids as a bigint array). V6: the
   * delete is the acknowledgement; a row exists exactly while its delivery is pending.
   */
  static final String ACK = "delete from deliveries where recipient_device_id = ? and message_id = any(?)";

  /**
   * Acknowledges (deletes) {@code recipient}'s pending deliveries of {@code messageIds}; returns how
   * many there were (an id that is unknown, not this device's, or already acknowledged counts nothing).
   */
  public static int ack(Connection c, UUID recipient, Collection<Long> messageIds) throws SQLException {
    if (messageIds.isEmpty()) {
      return 0;
    }
    try (PreparedStatement p = c.prepareStatement(ACK)) {
      p.setObject(1, recipient);
      p.setArray(2, c.createArrayOf("bigint", messageIds.toArray(new Long[0]))); // Long[]: sent binary
      return p.executeUpdate();
    }
  }

  /**
   * After the transaction committed: push each stored message to its recipients' open sockets, in
   * order, the messages of one tenant together (a socket sent several of them gets one write).
   */
  public static void publish(Fanout fanout, Collection<Stored> stored) {
    UUID tenant = null;
    List<Fanout.Frame> run = new ArrayList<>();
    for (Stored s : stored) {
      if (s == null || s.recipients().isEmpty()) {
        continue;
      }
      if (tenant != null && !tenant.equals(s.tenant())) {
        fanout.toDevices(tenant, run);
        run = new ArrayList<>();
      }
      tenant = s.tenant();
      run.add(new Fanout.Frame(s.recipients(), s.frame()));
    }
    if (!run.isEmpty()) {
      fanout.toDevices(tenant, run);
    }
  }

  static Timestamp ts(Instant i) {
    return Timestamp.from(i);
  }
}
