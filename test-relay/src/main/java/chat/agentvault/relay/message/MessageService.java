package chat.agentvault.relay.message;

import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.push.Webhooks;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Every rule of sending and acknowledging (docs/protocol.md, "Messages" and "The MLS delivery
 * service"), for the HTTP endpoints and the WebSocket's client frames alike.
 *
 * <p>The send path is a handful of statements in one transaction: one query resolves the sender's
 * membership, the room's mode and epoch, the recipients and their webhook URLs; one inserts the
 * message; one inserts every delivery ({@code unnest}). MLS commits and proposals first lock the
 * room row ({@code SELECT ... FOR UPDATE}), so handshake messages of a room are ordered and exactly
 * one commit per epoch is accepted: members never fork.
 */
public final class MessageService implements MessageApi, AutoCloseable {
  /** The fields of a send request (a WebSocket send frame adds {@code type}). */
  public static final Set<String> SEND_FIELDS = Set.of("room_id", "conversation_id", "message_type", "content_type",
      "client_message_id", "payload", "epoch", "recipients");
  public static final String MLS_COMMIT = "mls_commit";
  public static final String MLS_PROPOSAL = "mls_proposal";
  public static final String MLS_WELCOME = "mls_welcome";
  /** Most message ids one acknowledgement may carry. */
  public static final int MAX_ACK = 1000;
  static final int MAX_RECIPIENTS = 10_000;
  private static final Pattern MESSAGE_TYPE = Pattern.compile("[a-z0-9][a-z0-9_.\\-]{0,63}");
  private static final Pattern CONTENT_TYPE = Pattern.compile("[\\x21-\\x7e][\\x20-\\x7e]{0,127}");

  private final RelayContext rc;
  private final Webhooks webhooks;

  public MessageService(RelayContext rc) {
    this.rc = rc;
    this.webhooks = new Webhooks(rc.db());
  }

  /** A validated send request. */
  private record Send(UUID room, UUID conversation, String type, String contentType, String clientId,
      byte[] payload, Long epoch, List<UUID> recipients) {}

  /** Where a message goes, as resolved in the transaction. */
  private record Outcome(Store.Stored stored, long duplicateOf, List<String> webhooks) {}

  @Override
  public ObjectNode submit(Principal sender, JsonBody b) {
    Send s = parse(b);
    Outcome o;
    try {
      o = rc.db().inTenant(sender.tenant(), c -> store(c, sender, s));
    } catch (SQLException e) {
      throw new UncheckedSql(e);
    }
    if (o.stored == null) {
      return JsonBody.object().put("message_id", o.duplicateOf).put("duplicate", true)
          .put("client_message_id", s.clientId);
    }
    Store.publish(rc.fanout(), List.of(o.stored));
    webhooks.notify(sender.tenant(), sender.device(), o.stored.room(), o.stored.conversation(), o.stored.id(),
        o.webhooks);
    return JsonBody.object().put("message_id", o.stored.id()).put("duplicate", false)
        .put("client_message_id", s.clientId);
  }

  @Override
  public int ack(Principal recipient, List<Long> messageIds) {
    if (messageIds.size() > MAX_ACK) {
      throw ApiException.badRequest("field message_ids has more than " + MAX_ACK + " elements");
    }
    try {
      return rc.db().inTenant(recipient.tenant(), c -> Store.ack(c, recipient.device(), messageIds));
    } catch (SQLException e) {
      throw new UncheckedSql(e);
    }
  }

  /** {@code recipient}'s pending messages after {@code after}, oldest first (HTTP polling fallback). */
  public List<Store.Stored> pending(Principal recipient, long after, int limit) {
    try {
      return rc.db().inTenant(recipient.tenant(), c -> Store.pending(c, recipient.tenant(), recipient.device(), after, limit));
    } catch (SQLException e) {
      throw new UncheckedSql(e);
    }
  }

  /** The message ids of an ack request's {@code message_ids}: integers, at most {@link #MAX_ACK}. */
  public static List<Long> messageIds(JsonBody b) {
    List<JsonNode> raw = b.array("message_ids", MAX_ACK);
    if (b.raw("message_ids") == null) {
      throw ApiException.badRequest("missing field: message_ids");
    }
    List<Long> ids = new ArrayList<>(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      JsonNode n = raw.get(i);
      if (!n.isIntegralNumber() || !n.canConvertToLong()) {
        throw ApiException.badRequest("field message_ids[" + i + "] must be an integer");
      }
      ids.add(n.longValue());
    }
    return ids;
  }

  /** A database failure on the send or ack path; the HTTP layer answers 503. */
  public static final class UncheckedSql extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UncheckedSql(SQLException e) {
      super(e);
    }

    public SQLException sqlException() {
      return (SQLException) getCause();
    }
  }

  // ------------------------------------------------------------------ rules

  private Send parse(JsonBody b) {
    UUID room = b.optUuid("room_id").orElse(null);
    UUID conversation = b.optUuid("conversation_id").orElse(null);
    if ((room == null) == (conversation == null)) {
      throw ApiException.badRequest("exactly one of room_id, conversation_id is required");
    }
    String type = b.string("message_type");
    if (!MESSAGE_TYPE.matcher(type).matches()) {
      throw ApiException.badRequest("field message_type must be 1 to 64 of a-z 0-9 _ . -");
    }
    if (type.equals(Store.EVENT)) {
      throw ApiException.badRequest("message_type event is reserved for the relay");
    }
    String contentType = b.string("content_type");
    if (!CONTENT_TYPE.matcher(contentType).matches()) {
      throw ApiException.badRequest("field content_type must be 1 to 128 printable ASCII characters");
    }
    String clientId = b.text("client_message_id", 128);
    byte[] payload = b.bytes("payload", rc.config().maxPayloadBytes());
    Long epoch = b.optInteger("epoch").orElse(null);
    if (epoch != null && epoch < 0) {
      throw ApiException.badRequest("field epoch must not be negative");
    }
    boolean handshake = type.equals(MLS_COMMIT) || type.equals(MLS_PROPOSAL);
    if (handshake && epoch == null) {
      throw ApiException.badRequest("missing field: epoch");
    }
    List<UUID> recipients = null;
    if (type.equals(MLS_WELCOME)) {
      List<JsonNode> raw = b.array("recipients", MAX_RECIPIENTS);
      if (raw.isEmpty()) {
        throw ApiException.badRequest("missing field: recipients");
      }
      LinkedHashSet<UUID> r = new LinkedHashSet<>();
      for (int i = 0; i < raw.size(); i++) {
        if (!raw.get(i).isTextual()) {
          throw ApiException.badRequest("field recipients[" + i + "] must be a string");
        }
        r.add(JsonBody.parseUuid(raw.get(i).textValue(), "recipients[" + i + "]"));
      }
      recipients = List.copyOf(r);
    } else if (b.has("recipients")) {
      throw ApiException.badRequest("field recipients is only for mls_welcome");
    }
    return new Send(room, conversation, type, contentType, clientId, payload, epoch, recipients);
  }

  private Outcome store(Connection c, Principal p, Send s) throws SQLException {
    UUID room = s.room;
    if (s.conversation != null) {
      try (PreparedStatement q = c.prepareStatement(
          "select c.kind, c.device_a, c.device_b, c.room_id, d.webhook_url from conversations c"
              + " left join devices d on d.id = case when c.device_a = ? then c.device_b else c.device_a end"
              + " where c.id = ?")) {
        q.setObject(1, p.device());
        q.setObject(2, s.conversation);
        ResultSet rs = q.executeQuery();
        if (!rs.next()) {
          throw ApiException.notFound("conversation not found");
        }
        if (rs.getString(1).equals("group")) {
          room = rs.getObject(4, UUID.class);
        } else {
          UUID a = rs.getObject(2, UUID.class);
          UUID z = rs.getObject(3, UUID.class);
          if (!p.device().equals(a) && !p.device().equals(z)) {
            throw ApiException.notFound("conversation not found");
          }
          if (s.type.startsWith("mls_")) {
            throw ApiException.badRequest("MLS handshake messages belong to a room");
          }
          UUID peer = p.device().equals(a) ? z : a;
          String hook = rs.getString(5);
          return insert(c, p, s, null, List.of(peer), hook == null ? List.of() : List.of(hook));
        }
      }
    }
    boolean handshake = s.type.equals(MLS_COMMIT) || s.type.equals(MLS_PROPOSAL);
    if (handshake) {
      // orders every handshake message of the room: held until commit
      try (PreparedStatement q = c.prepareStatement("select 1 from rooms where id = ? for update")) {
        q.setObject(1, room);
        q.executeQuery();
      }
    }
    boolean welcome = s.type.equals(MLS_WELCOME);
    String mode;
    long epoch;
    List<UUID> to = new ArrayList<>();
    List<String> hooks = new ArrayList<>();
    try (PreparedStatement q = c.prepareStatement(
        "select r.mode, r.epoch, x.recips, x.hooks, x.matched from rooms r"
            + " join room_members me on me.room_id = r.id and me.device_id = ? and me.status = 'joined'"
            + " cross join lateral (select coalesce(array_agg(m.device_id), '{}') recips,"
            + "   coalesce(array_agg(d.webhook_url) filter (where d.webhook_url is not null), '{}') hooks,"
            + "   count(*) matched"
            + "   from room_members m join devices d on d.id = m.device_id"
            + "   where m.room_id = r.id and m.device_id <> ?"
            + (welcome ? " and m.device_id = any(?)" : " and m.status = 'joined'") + ") x"
            + " where r.id = ?")) {
      q.setObject(1, p.device());
      q.setObject(2, p.device());
      int i = 3;
      if (welcome) {
        q.setArray(i++, c.createArrayOf("uuid", s.recipients.toArray()));
      }
      q.setObject(i, room);
      ResultSet rs = q.executeQuery();
      if (!rs.next()) {
        throw notJoined(c, room, p.device());
      }
      mode = rs.getString(1);
      epoch = rs.getLong(2);
      Array r = rs.getArray(3);
      for (Object o : (Object[]) r.getArray()) {
        to.add((UUID) o);
      }
      Array h = rs.getArray(4);
      hooks.addAll(Arrays.asList((String[]) h.getArray()));
      if (welcome && rs.getLong(5) != s.recipients.size()) {
        throw ApiException.badRequest("recipients must be other members of the room");
      }
    }
    if (mode.equals("plaintext") && s.type.startsWith("mls_")) {
      throw ApiException.badRequest("a plaintext room has no MLS group");
    }
    boolean checkEpoch = mode.equals("encrypted") && !welcome && s.epoch != null;
    if (checkEpoch && s.epoch != epoch) {
      long existing = Store.existingId(c, p.device(), s.clientId);
      if (existing >= 0) {
        return new Outcome(null, existing, List.of());
      }
      throw new ApiException(409, "epoch conflict", JsonBody.object().put("current_epoch", epoch));
    }
    Outcome o = insert(c, p, s, room, to, hooks);
    if (o.stored != null && s.type.equals(MLS_COMMIT)) {
      try (PreparedStatement q = c.prepareStatement("update rooms set epoch = epoch + 1 where id = ?")) {
        q.setObject(1, room);
        q.executeUpdate();
      }
    }
    return o;
  }

  /** 403 for an invited member who has not joined yet, else 404 (no such room, or not a member). */
  private static ApiException notJoined(Connection c, UUID room, UUID device) throws SQLException {
    try (PreparedStatement q = c.prepareStatement("select 1 from room_members where room_id = ? and device_id = ?")) {
      q.setObject(1, room);
      q.setObject(2, device);
      return q.executeQuery().next() ? ApiException.forbidden("join the room first") : ApiException.notFound("room not found");
    }
  }

  private static Outcome insert(Connection c, Principal p, Send s, UUID room, List<UUID> to, List<String> hooks)
      throws SQLException {
    Store.Stored st = Store.insert(c, p.tenant(), p.device(), room, s.conversation, s.type, s.contentType,
        s.clientId, s.epoch, s.payload, to);
    if (st == null) {
      return new Outcome(null, Store.existingId(c, p.device(), s.clientId), List.of());
    }
    return new Outcome(st, -1, hooks);
  }

  @Override
  public void close() {
    webhooks.close();
  }
}
