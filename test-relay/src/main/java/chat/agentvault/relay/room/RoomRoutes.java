package chat.agentvault.relay.room;

import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.auth.Authenticator;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.http.Requests;
import chat.agentvault.relay.http.Responses;
import chat.agentvault.relay.message.Store;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Rooms and 1:1 conversations (docs/protocol.md, "Rooms and conversations"). A room's metadata is
 * visible to the relay (seed 000: room_id, name, created_by, members with roles, conversations,
 * min_trust_tier, created_at); its messages are not. Only members (invited or joined) see a room;
 * everyone else, other tenants included, gets 404. Membership changes are stored as relay events
 * (messages of type {@code event}) for the members, in the same transaction, and pushed after it
 * commits.
 */
public final class RoomRoutes {
  static final int MAX_MEMBERS_AT_CREATION = 1000;

  private final RelayContext rc;

  private RoomRoutes(RelayContext rc) {
    this.rc = rc;
  }

  public static void register(RoutesConfig r, RelayContext rc) {
    RoomRoutes h = new RoomRoutes(rc);
    r.post("/api/v1/rooms", h::create);
    r.get("/api/v1/rooms", h::list);
    r.get("/api/v1/rooms/{id}", h::get);
    r.post("/api/v1/rooms/{id}/invite", h::invite);
    r.post("/api/v1/rooms/{id}/join", h::join);
    r.post("/api/v1/rooms/{id}/leave", h::leave);
    r.post("/api/v1/rooms/{id}/remove", h::remove);
    r.post("/api/v1/rooms/{id}/rekey", h::rekey);
    r.put("/api/v1/rooms/{id}/group-info", h::putGroupInfo);
    r.get("/api/v1/rooms/{id}/group-info", h::getGroupInfo);
    r.post("/api/v1/conversations", h::conversation);
  }

  // ------------------------------------------------------------------ rooms

  private void create(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    JsonBody b = Requests.body(ctx, Set.of("name", "mode", "min_trust_tier", "members"));
    String name = b.text("name", 200);
    String mode = b.optString("mode").orElse("encrypted");
    if (!mode.equals("encrypted") && !mode.equals("plaintext")) {
      throw ApiException.badRequest("field mode must be encrypted or plaintext");
    }
    long minTier = b.optInteger("min_trust_tier").orElse(0L);
    if (minTier < 0 || minTier > 100) {
      throw ApiException.badRequest("field min_trust_tier must be 0 to 100");
    }
    List<JsonNode> members = b.array("members", MAX_MEMBERS_AT_CREATION);
    for (int i = 0; i < members.size(); i++) {
      if (!members.get(i).isTextual()) {
        throw ApiException.badRequest("field members[" + i + "] must be a string");
      }
    }
    UUID room = UUID.randomUUID();
    List<Store.Stored> events = new ArrayList<>();
    ObjectNode out = rc.db().inTenant(p.tenant(), c -> {
      Target self = target(c, p.device(), null);
      if (self.trustTier < minTier) {
        throw ApiException.forbidden("device below min_trust_tier");
      }
      try (PreparedStatement s = c.prepareStatement(
          "insert into rooms (tenant_id, id, name, mode, min_trust_tier, created_by) values (?, ?, ?, ?, ?, ?)")) {
        s.setObject(1, p.tenant());
        s.setObject(2, room);
        s.setString(3, name);
        s.setString(4, mode);
        s.setInt(5, (int) minTier);
        s.setObject(6, p.device());
        s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement(
          "insert into conversations (tenant_id, id, kind, room_id) values (?, ?, 'group', ?)")) {
        s.setObject(1, p.tenant());
        s.setObject(2, UUID.randomUUID());
        s.setObject(3, room);
        s.executeUpdate();
      }
      addMember(c, p, room, p.device(), "owner", "joined");
      Map<UUID, Target> invited = new LinkedHashMap<>();
      for (JsonNode m : members) {
        String v = m.textValue();
        Target t = v.length() == 36 && v.indexOf('-') == 8 ? target(c, JsonBody.parseUuid(v, "members"), null)
            : target(c, null, v);
        if (t.trustTier < minTier) {
          throw ApiException.forbidden("device below min_trust_tier");
        }
        if (!t.id.equals(p.device())) {
          invited.put(t.id, t);
        }
      }
      for (UUID d : invited.keySet()) {
        addMember(c, p, room, d, "member", "invited");
        events.add(Store.event(c, p.tenant(), p.device(), room, List.of(d), event("member_invited", room, d)
            .put("by", p.device().toString())));
      }
      return room(c, room);
    });
    Store.publish(rc.fanout(), events);
    Responses.json(ctx, 201, out);
  }

  private void list(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    ArrayNode rooms = rc.db().inTenant(p.tenant(), c -> {
      List<UUID> ids = new ArrayList<>();
      try (PreparedStatement s = c.prepareStatement(
          "select m.room_id from room_members m join rooms r on r.id = m.room_id where m.device_id = ?"
              + " order by r.created_at, r.id")) {
        s.setObject(1, p.device());
        ResultSet rs = s.executeQuery();
        while (rs.next()) {
          ids.add(rs.getObject(1, UUID.class));
        }
      }
      ArrayNode a = JsonBody.MAPPER.createArrayNode();
      for (UUID id : ids) {
        a.add(room(c, id));
      }
      return a;
    });
    ObjectNode out = JsonBody.object();
    out.set("rooms", rooms);
    Responses.json(ctx, 200, out);
  }

  private void get(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID room = Requests.uuidParam(ctx, "id");
    ObjectNode out = rc.db().inTenant(p.tenant(), c -> {
      membership(c, room, p.device());
      return room(c, room);
    });
    Responses.json(ctx, 200, out);
  }

  private void invite(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID room = Requests.uuidParam(ctx, "id");
    JsonBody b = Requests.body(ctx, Set.of("device_id", "hub_address"));
    if (b.has("device_id") == b.has("hub_address")) {
      throw ApiException.badRequest("exactly one of device_id, hub_address is required");
    }
    UUID byId = b.optUuid("device_id").orElse(null);
    String byHub = b.optText("hub_address", 200).orElse(null);
    List<Store.Stored> events = new ArrayList<>();
    ObjectNode out = rc.db().inTenant(p.tenant(), c -> {
      Member me = lockedMembership(c, room, p.device());
      requireManager(me);
      Target t = target(c, byId, byHub);
      if (t.trustTier < me.minTrustTier) {
        throw ApiException.forbidden("device below min_trust_tier");
      }
      if (memberOrNull(c, room, t.id) != null) {
        throw ApiException.conflict("already a member");
      }
      addMember(c, p, room, t.id, "member", "invited");
      List<UUID> to = others(c, room, p.device());
      events.add(Store.event(c, p.tenant(), p.device(), room, to, event("member_invited", room, t.id)
          .put("by", p.device().toString())));
      return room(c, room);
    });
    Store.publish(rc.fanout(), events);
    Responses.json(ctx, 200, out);
  }

  private void join(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID room = Requests.uuidParam(ctx, "id");
    Requests.body(ctx, Set.of());
    List<Store.Stored> events = new ArrayList<>();
    ObjectNode out = rc.db().inTenant(p.tenant(), c -> {
      Member me = lockedMembership(c, room, p.device());
      if (me.status.equals("invited")) {
        try (PreparedStatement s = c.prepareStatement(
            "update room_members set status = 'joined', joined_at = now() where room_id = ? and device_id = ?")) {
          s.setObject(1, room);
          s.setObject(2, p.device());
          s.executeUpdate();
        }
        events.add(Store.event(c, p.tenant(), p.device(), room, others(c, room, p.device()),
            event("room_joined", room, p.device())));
      }
      return room(c, room);
    });
    Store.publish(rc.fanout(), events);
    Responses.json(ctx, 200, out);
  }

  private void leave(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID room = Requests.uuidParam(ctx, "id");
    Requests.body(ctx, Set.of());
    List<Store.Stored> events = new ArrayList<>();
    rc.db().inTenant(p.tenant(), c -> {
      lockedMembership(c, room, p.device());
      removeMember(c, p, room, p.device(), events, false);
      return null;
    });
    Store.publish(rc.fanout(), events);
    ctx.status(204);
  }

  private void remove(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID room = Requests.uuidParam(ctx, "id");
    JsonBody b = Requests.body(ctx, Set.of("device_id"));
    UUID target = b.uuid("device_id");
    List<Store.Stored> events = new ArrayList<>();
    ObjectNode out = rc.db().inTenant(p.tenant(), c -> {
      Member me = lockedMembership(c, room, p.device());
      requireManager(me);
      if (target.equals(p.device())) {
        throw ApiException.badRequest("use leave to remove yourself");
      }
      Member them = memberOrNull(c, room, target);
      if (them == null) {
        throw ApiException.notFound("not a member");
      }
      if (them.role.equals("owner") || (them.role.equals("admin") && !me.role.equals("owner"))) {
        throw ApiException.forbidden("cannot remove a member of equal or higher role");
      }
      removeMember(c, p, room, target, events, true);
      return room(c, room);
    });
    Store.publish(rc.fanout(), events);
    Responses.json(ctx, 200, out);
  }

  private void rekey(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID room = Requests.uuidParam(ctx, "id");
    JsonBody b = Requests.body(ctx, Set.of("reason"));
    String reason = b.optText("reason", 200).orElse("requested");
    List<Store.Stored> events = new ArrayList<>();
    long epoch = rc.db().inTenant(p.tenant(), c -> {
      Member me = membership(c, room, p.device());
      requireJoined(me);
      events.add(Store.event(c, p.tenant(), p.device(), room, others(c, room, p.device()),
          event("rekey_requested", room, p.device()).put("reason", reason).put("epoch", me.epoch)));
      return me.epoch;
    });
    Store.publish(rc.fanout(), events);
    Responses.json(ctx, 202, JsonBody.object().put("room_id", room.toString()).put("epoch", epoch));
  }

  private void putGroupInfo(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID room = Requests.uuidParam(ctx, "id");
    JsonBody b = Requests.body(ctx, Set.of("epoch", "group_info"));
    long epoch = b.integer("epoch");
    byte[] gi = b.bytes("group_info", rc.config().maxPayloadBytes());
    if (epoch < 0 || gi.length == 0) {
      throw ApiException.badRequest(epoch < 0 ? "field epoch must not be negative" : "field group_info must not be empty");
    }
    rc.db().inTenant(p.tenant(), c -> {
      Member me = lockedMembership(c, room, p.device());
      requireJoined(me);
      if (me.groupInfoEpoch != null && epoch < me.groupInfoEpoch) {
        throw new ApiException(409, "stale group info", JsonBody.object().put("current_epoch", me.groupInfoEpoch.longValue()));
      }
      try (PreparedStatement s = c.prepareStatement("update rooms set group_info = ?, group_info_epoch = ? where id = ?")) {
        s.setBytes(1, gi);
        s.setLong(2, epoch);
        s.setObject(3, room);
        s.executeUpdate();
      }
      return null;
    });
    Responses.json(ctx, 200, JsonBody.object().put("room_id", room.toString()).put("epoch", epoch));
  }

  private void getGroupInfo(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID room = Requests.uuidParam(ctx, "id");
    ObjectNode out = rc.db().inTenant(p.tenant(), c -> {
      membership(c, room, p.device());
      try (PreparedStatement s = c.prepareStatement("select group_info, group_info_epoch from rooms where id = ?")) {
        s.setObject(1, room);
        ResultSet rs = s.executeQuery();
        if (!rs.next() || rs.getBytes(1) == null) {
          throw ApiException.notFound("no group info");
        }
        return JsonBody.object().put("room_id", room.toString()).put("epoch", rs.getLong(2))
            .put("group_info", JsonBody.b64(rs.getBytes(1)));
      }
    });
    Responses.json(ctx, 200, out);
  }

  // ------------------------------------------------------------------ conversations

  private void conversation(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    JsonBody b = Requests.body(ctx, Set.of("peer_device_id"));
    UUID peer = b.uuid("peer_device_id");
    if (peer.equals(p.device())) {
      throw ApiException.badRequest("cannot open a conversation with yourself");
    }
    // the pair is stored ordered (device_a < device_b) as PostgreSQL orders uuids: unsigned bytes
    boolean callerFirst = unsignedCompare(p.device(), peer) < 0;
    UUID lo = callerFirst ? p.device() : peer;
    UUID hi = callerFirst ? peer : p.device();
    Object[] r = rc.db().inTenant(p.tenant(), c -> {
      target(c, peer, null);
      UUID id = UUID.randomUUID();
      try (PreparedStatement s = c.prepareStatement(
          "insert into conversations (tenant_id, id, kind, device_a, device_b) values (?, ?, 'direct', ?, ?)"
              + " on conflict (tenant_id, device_a, device_b) where kind = 'direct' do nothing returning id")) {
        s.setObject(1, p.tenant());
        s.setObject(2, id);
        s.setObject(3, lo);
        s.setObject(4, hi);
        if (s.executeQuery().next()) {
          return new Object[] {id, true};
        }
      }
      try (PreparedStatement s = c.prepareStatement(
          "select id from conversations where kind = 'direct' and device_a = ? and device_b = ?")) {
        s.setObject(1, lo);
        s.setObject(2, hi);
        ResultSet rs = s.executeQuery();
        rs.next();
        return new Object[] {rs.getObject(1, UUID.class), false};
      }
    });
    Responses.json(ctx, (Boolean) r[1] ? 201 : 200, JsonBody.object()
        .put("conversation_id", r[0].toString()).put("peer_device_id", peer.toString()));
  }

  static int unsignedCompare(UUID x, UUID y) {
    int c = Long.compareUnsigned(x.getMostSignificantBits(), y.getMostSignificantBits());
    return c != 0 ? c : Long.compareUnsigned(x.getLeastSignificantBits(), y.getLeastSignificantBits());
  }

  // ------------------------------------------------------------------ helpers

  /** A device that may be added: exists in the tenant (RLS) and is not revoked. */
  private record Target(UUID id, int trustTier) {}

  private static Target target(Connection c, UUID id, String hubAddress) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("select id, trust_tier from devices where "
        + (id != null ? "id = ?" : "hub_address = ?") + " and state <> 'REVOKED'")) {
      s.setObject(1, id != null ? id : hubAddress);
      ResultSet rs = s.executeQuery();
      if (!rs.next()) {
        throw ApiException.notFound("unknown device");
      }
      return new Target(rs.getObject(1, UUID.class), rs.getInt(2));
    }
  }

  /** The caller's membership and the room's state. */
  record Member(String role, String status, int minTrustTier, long epoch, Long groupInfoEpoch) {}

  private static final String MEMBER_SQL = "select m.role, m.status, r.min_trust_tier, r.epoch, r.group_info_epoch"
      + " from rooms r join room_members m on m.room_id = r.id where r.id = ? and m.device_id = ?";

  /** 404 unless {@code device} is a member (invited or joined) of {@code room}. */
  static Member membership(Connection c, UUID room, UUID device) throws SQLException {
    Member m = query(c, MEMBER_SQL, room, device);
    if (m == null) {
      throw ApiException.notFound("room not found");
    }
    return m;
  }

  /** As {@link #membership}, holding the room row's lock until the transaction ends (membership changes serialize per room). */
  private static Member lockedMembership(Connection c, UUID room, UUID device) throws SQLException {
    Member m = query(c, MEMBER_SQL + " for update of r", room, device);
    if (m == null) {
      throw ApiException.notFound("room not found");
    }
    return m;
  }

  private static Member memberOrNull(Connection c, UUID room, UUID device) throws SQLException {
    return query(c, MEMBER_SQL, room, device);
  }

  private static Member query(Connection c, String sql, UUID room, UUID device) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setObject(1, room);
      s.setObject(2, device);
      ResultSet rs = s.executeQuery();
      if (!rs.next()) {
        return null;
      }
      long gie = rs.getLong(5);
      return new Member(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getLong(4), rs.wasNull() ? null : gie);
    }
  }

  private static void requireJoined(Member m) {
    if (!m.status.equals("joined")) {
      throw ApiException.forbidden("join the room first");
    }
  }

  private static void requireManager(Member m) {
    requireJoined(m);
    if (!m.role.equals("owner") && !m.role.equals("admin")) {
      throw ApiException.forbidden("room owner or admin required");
    }
  }

  private static void addMember(Connection c, Principal p, UUID room, UUID device, String role, String status)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement("insert into room_members (tenant_id, room_id, device_id, role,"
        + " status, invited_by, joined_at) values (?, ?, ?, ?, ?, ?, case when ? = 'joined' then now() end)")) {
      s.setObject(1, p.tenant());
      s.setObject(2, room);
      s.setObject(3, device);
      s.setString(4, role);
      s.setString(5, status);
      s.setObject(6, p.device());
      s.setString(7, status);
      s.executeUpdate();
    }
  }

  /**
   * Deletes the membership; {@code member_removed} and {@code rekey_requested} go to the remaining
   * members ({@code member_removed} also to the removed device when someone else removed it). A room
   * nobody is left in is deleted with its messages.
   */
  private static void removeMember(Connection c, Principal p, UUID room, UUID device, List<Store.Stored> events,
      boolean tellRemoved) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("delete from room_members where room_id = ? and device_id = ?")) {
      s.setObject(1, room);
      s.setObject(2, device);
      s.executeUpdate();
    }
    List<UUID> remaining = allMembers(c, room);
    if (remaining.isEmpty()) {
      try (PreparedStatement s = c.prepareStatement("delete from rooms where id = ?")) {
        s.setObject(1, room);
        s.executeUpdate();
      }
      return;
    }
    List<UUID> to = new ArrayList<>(remaining);
    to.remove(p.device());
    if (tellRemoved) {
      to.add(device);
    }
    events.add(Store.event(c, p.tenant(), p.device(), room, to, event("member_removed", room, device)
        .put("by", p.device().toString())));
    List<UUID> rekey = new ArrayList<>(remaining);
    rekey.remove(p.device());
    events.add(Store.event(c, p.tenant(), p.device(), room, rekey, event("rekey_requested", room, p.device())
        .put("reason", "member_removed")));
  }

  /** Every member (invited or joined). */
  private static List<UUID> allMembers(Connection c, UUID room) throws SQLException {
    return devices(c, "select device_id from room_members where room_id = ? order by device_id", room, null);
  }

  private static List<UUID> others(Connection c, UUID room, UUID except) throws SQLException {
    return devices(c, "select device_id from room_members where room_id = ? and device_id <> ? order by device_id",
        room, except);
  }

  private static List<UUID> devices(Connection c, String sql, UUID room, UUID except) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setObject(1, room);
      if (except != null) {
        s.setObject(2, except);
      }
      ResultSet rs = s.executeQuery();
      List<UUID> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getObject(1, UUID.class));
      }
      return out;
    }
  }

  static ObjectNode event(String name, UUID room, UUID device) {
    return JsonBody.object().put("event", name).put("room_id", room.toString()).put("device_id", device.toString());
  }

  /** The room object (docs/protocol.md): metadata, members with roles and status, conversations. */
  static ObjectNode room(Connection c, UUID room) throws SQLException {
    ObjectNode o = JsonBody.object();
    try (PreparedStatement s = c.prepareStatement(
        "select name, mode, min_trust_tier, created_by, created_at, epoch from rooms where id = ?")) {
      s.setObject(1, room);
      ResultSet rs = s.executeQuery();
      if (!rs.next()) {
        throw ApiException.notFound("room not found");
      }
      o.put("room_id", room.toString()).put("name", rs.getString(1)).put("mode", rs.getString(2))
          .put("min_trust_tier", rs.getInt(3)).put("created_by", rs.getObject(4, UUID.class).toString())
          .put("created_at", rs.getTimestamp(5).toInstant().toString()).put("epoch", rs.getLong(6));
    }
    ArrayNode members = o.putArray("members");
    try (PreparedStatement s = c.prepareStatement(
        "select device_id, role, status, joined_at from room_members where room_id = ?"
            + " order by created_at, case role when 'owner' then 0 when 'admin' then 1 else 2 end, device_id")) {
      s.setObject(1, room);
      ResultSet rs = s.executeQuery();
      while (rs.next()) {
        ObjectNode m = members.addObject().put("device_id", rs.getObject(1, UUID.class).toString())
            .put("role", rs.getString(2)).put("status", rs.getString(3));
        java.sql.Timestamp j = rs.getTimestamp(4);
        m.put("joined_at", j == null ? null : j.toInstant().toString());
      }
    }
    ArrayNode convs = o.putArray("conversations");
    try (PreparedStatement s = c.prepareStatement("select id from conversations where room_id = ? order by created_at, id")) {
      s.setObject(1, room);
      ResultSet rs = s.executeQuery();
      while (rs.next()) {
        convs.add(rs.getObject(1, UUID.class).toString());
      }
    }
    return o;
  }
}
