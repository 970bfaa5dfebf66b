package chat.agentvault.relay.device;

import chat.agentvault.identity.Fingerprint;
import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.auth.Authenticator;
import chat.agentvault.relay.auth.DeviceStates;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.enroll.EnrollRoutes;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.http.Responses;
import chat.agentvault.relay.message.Store;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The device directory and the owner's hand on the device state machine (docs/protocol.md,
 * "Devices"). Approval needs the fingerprint the owner verified out of band; revocation is final
 * and takes effect at once: memberships deleted, events to the rooms' remaining members and to the
 * owners (in the same transaction), then, after commit, the events pushed and the device's open
 * WebSockets closed with 4003. Every query runs under RLS in the caller's tenant, so another
 * tenant's device is simply not found (404).
 */
public final class DeviceRoutes {
  private static final String COLUMNS =
      "id, name, role, state, fingerprint, public_identity, trust_tier, hub_address, created_at, webhook_url";

  private final RelayContext rc;

  private DeviceRoutes(RelayContext rc) {
    this.rc = rc;
  }

  public static void register(RoutesConfig r, RelayContext rc) {
    DeviceRoutes d = new DeviceRoutes(rc);
    r.get("/api/v1/devices", d::list);
    r.get("/api/v1/devices/me", d::me);
    r.put("/api/v1/devices/me/webhook", d::webhook);
    r.get("/api/v1/devices/{id}", d::get);
    r.post("/api/v1/devices/{id}/approve", d::approve);
    r.post("/api/v1/devices/{id}/suspend", ctx -> d.transition(ctx, "SUSPENDED"));
    r.post("/api/v1/devices/{id}/resume", ctx -> d.transition(ctx, "ACTIVE"));
    r.post("/api/v1/devices/{id}/revoke", ctx -> d.transition(ctx, "REVOKED"));
    r.put("/api/v1/devices/{id}/trust-tier", d::trustTier);
  }

  // ------------------------------------------------------------------ reads

  private void list(Context ctx) throws SQLException {
    Principal owner = Authenticator.owner(ctx);
    ArrayNode devices = rc.db().inTenant(owner.tenant(), c -> {
      ArrayNode a = JsonBody.MAPPER.createArrayNode();
      try (PreparedStatement p = c.prepareStatement("select " + COLUMNS + " from devices order by created_at, id")) {
        ResultSet rs = p.executeQuery();
        while (rs.next()) {
          a.add(json(rs, false));
        }
      }
      return a;
    });
    ObjectNode body = JsonBody.object();
    body.set("devices", devices);
    Responses.json(ctx, 200, body);
  }

  private void me(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    Responses.json(ctx, 200, rc.db().inTenant(p.tenant(), c -> load(c, p.device(), false, true)));
  }

  private void get(Context ctx) throws SQLException {
    if ("me".equals(ctx.pathParam("id"))) {
      me(ctx);
      return;
    }
    Principal p = Authenticator.principal(ctx);
    UUID id = deviceId(ctx);
    Responses.json(ctx, 200, rc.db().inTenant(p.tenant(), c -> load(c, id, false, id.equals(p.device()))));
  }

  // ------------------------------------------------------------------ owner actions

  private void approve(Context ctx) throws SQLException {
    Principal owner = Authenticator.owner(ctx);
    UUID id = deviceId(ctx);
    String presented = JsonBody.parse(ctx.bodyAsBytes(), Set.of("fingerprint")).text("fingerprint", 200);
    ObjectNode device = rc.db().inTenant(owner.tenant(), c -> {
      ObjectNode d = load(c, id, true, false);
      String from = d.path("state").asText();
      if (!"PENDING".equals(from)) {
        throw illegal(from, "APPROVED");
      }
      // Fingerprint.matches parses what the owner typed and compares the 32 bytes in constant time
      if (!Fingerprint.parse(d.path("fingerprint").asText()).matches(presented)) {
        throw ApiException.badRequest("fingerprint mismatch");
      }
      try (PreparedStatement p = c.prepareStatement(
          "update devices set state = 'APPROVED', approved_by = ?, updated_at = ? where id = ?")) {
        p.setObject(1, owner.device());
        p.setTimestamp(2, now());
        p.setObject(3, id);
        p.executeUpdate();
      }
      return load(c, id, false, false);
    });
    Responses.json(ctx, 200, device);
  }

  private record Outcome(ObjectNode device, List<Store.Stored> events) {}

  /** suspend ({@code SUSPENDED}), resume ({@code ACTIVE}, from SUSPENDED only) and revoke ({@code REVOKED}). */
  private void transition(Context ctx, String to) throws SQLException {
    Principal owner = Authenticator.owner(ctx);
    UUID id = deviceId(ctx);
    emptyBody(ctx);
    Outcome o = rc.db().inTenant(owner.tenant(), c -> {
      String from = load(c, id, true, false).path("state").asText();
      // "resume" is only SUSPENDED -> ACTIVE; APPROVED -> ACTIVE happens at the first login
      boolean legal = to.equals("ACTIVE") ? from.equals("SUSPENDED") : DeviceStates.allowed(from, to);
      if (!legal) {
        throw illegal(from, to);
      }
      try (PreparedStatement p = c.prepareStatement("update devices set state = ?, updated_at = ? where id = ?")) {
        p.setString(1, to);
        p.setTimestamp(2, now());
        p.setObject(3, id);
        p.executeUpdate();
      }
      List<Store.Stored> events = new ArrayList<>();
      if (to.equals("REVOKED")) {
        events.addAll(removeFromRooms(c, owner.tenant(), owner.device(), id, roomsOf(c, id), "device_revoked", false));
        List<UUID> owners = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(
            "select id from devices where role = 'owner' and state in ('APPROVED', 'ACTIVE') and id <> ? order by id")) {
          p.setObject(1, id);
          ResultSet rs = p.executeQuery();
          while (rs.next()) {
            owners.add(rs.getObject(1, UUID.class));
          }
        }
        if (!owners.isEmpty()) {
          events.add(Store.event(c, owner.tenant(), owner.device(), null, owners,
              event("device_revoked", null, id, null)));
        }
        // nobody may start a session with, or add to a group, a revoked device
        for (String table : new String[] {"prekey_bundles", "key_packages", "auth_challenges"}) {
          try (PreparedStatement p = c.prepareStatement("delete from " + table + " where device_id = ?")) {
            p.setObject(1, id);
            p.executeUpdate();
          }
        }
      }
      return new Outcome(load(c, id, false, false), events);
    });
    Store.publish(rc.fanout(), o.events);
    if (to.equals("REVOKED")) {
      rc.fanout().disconnect(owner.tenant(), id, 4003, "device revoked");
    } else if (to.equals("SUSPENDED")) {
      rc.fanout().disconnect(owner.tenant(), id, 4003, "device suspended");
    }
    Responses.json(ctx, 200, o.device);
  }

  private void trustTier(Context ctx) throws SQLException {
    Principal owner = Authenticator.owner(ctx);
    UUID id = deviceId(ctx);
    long tier = JsonBody.parse(ctx.bodyAsBytes(), Set.of("trust_tier")).integer("trust_tier");
    if (tier < 0 || tier > 100) {
      throw ApiException.badRequest("field trust_tier must be between 0 and 100");
    }
    Outcome o = rc.db().inTenant(owner.tenant(), c -> {
      if ("REVOKED".equals(load(c, id, true, false).path("state").asText())) {
        throw ApiException.conflict("device revoked");
      }
      try (PreparedStatement p = c.prepareStatement("update devices set trust_tier = ?, updated_at = ? where id = ?")) {
        p.setInt(1, (int) tier);
        p.setTimestamp(2, now());
        p.setObject(3, id);
        p.executeUpdate();
      }
      List<UUID> rooms = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(
          "select m.room_id from room_members m join rooms r on r.id = m.room_id"
              + " where m.device_id = ? and r.min_trust_tier > ? order by m.room_id")) {
        p.setObject(1, id);
        p.setInt(2, (int) tier);
        ResultSet rs = p.executeQuery();
        while (rs.next()) {
          rooms.add(rs.getObject(1, UUID.class));
        }
      }
      List<Store.Stored> events = removeFromRooms(c, owner.tenant(), owner.device(), id, rooms, "trust_tier", true);
      return new Outcome(load(c, id, false, false), events);
    });
    Store.publish(rc.fanout(), o.events);
    Responses.json(ctx, 200, o.device);
  }

  private void webhook(Context ctx) throws SQLException {
    Principal me = Authenticator.principal(ctx);
    JsonBody b = JsonBody.parse(ctx.bodyAsBytes(), Set.of("url"));
    if (b.raw("url") == null) {
      throw ApiException.badRequest("missing field: url");
    }
    String url = b.optText("url", EnrollRoutes.MAX_URL).map(EnrollRoutes::webhookUrl).orElse(null);
    ObjectNode device = rc.db().inTenant(me.tenant(), c -> {
      try (PreparedStatement p = c.prepareStatement("update devices set webhook_url = ?, updated_at = ? where id = ?")) {
        p.setString(1, url);
        p.setTimestamp(2, now());
        p.setObject(3, me.device());
        p.executeUpdate();
      }
      return load(c, me.device(), false, true);
    });
    Responses.json(ctx, 200, device);
  }

  // ------------------------------------------------------------------ memberships

  /** Rooms {@code device} is a member of (invited or joined). */
  private static List<UUID> roomsOf(Connection c, UUID device) throws SQLException {
    List<UUID> rooms = new ArrayList<>();
    try (PreparedStatement p = c.prepareStatement(
        "select room_id from room_members where device_id = ? order by room_id")) {
      p.setObject(1, device);
      ResultSet rs = p.executeQuery();
      while (rs.next()) {
        rooms.add(rs.getObject(1, UUID.class));
      }
    }
    return rooms;
  }

  /**
   * Removes {@code device} from {@code rooms} and stores, per room, {@code member_removed} and
   * {@code rekey_requested} for the joined members that remain (the removed device gets
   * {@code member_removed} too when {@code notifyRemoved}). In the caller's transaction; the caller
   * publishes the returned events after commit.
   */
  public static List<Store.Stored> removeFromRooms(Connection c, UUID tenant, UUID actor, UUID device,
      List<UUID> rooms, String reason, boolean notifyRemoved) throws SQLException {
    List<Store.Stored> events = new ArrayList<>();
    for (UUID room : rooms) {
      try (PreparedStatement p = c.prepareStatement("delete from room_members where room_id = ? and device_id = ?")) {
        p.setObject(1, room);
        p.setObject(2, device);
        if (p.executeUpdate() == 0) {
          continue;
        }
      }
      List<UUID> remaining = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(
          "select device_id from room_members where room_id = ? and status = 'joined' order by device_id")) {
        p.setObject(1, room);
        ResultSet rs = p.executeQuery();
        while (rs.next()) {
          remaining.add(rs.getObject(1, UUID.class));
        }
      }
      List<UUID> told = new ArrayList<>(remaining);
      if (notifyRemoved) {
        told.add(device);
      }
      if (!told.isEmpty()) {
        events.add(Store.event(c, tenant, actor, room, told, event("member_removed", room, device, reason)));
      }
      if (!remaining.isEmpty()) {
        events.add(Store.event(c, tenant, actor, room, remaining, event("rekey_requested", room, device, reason)));
      }
    }
    return events;
  }

  private static ObjectNode event(String name, UUID room, UUID device, String reason) {
    ObjectNode e = JsonBody.object().put("event", name);
    e.put("room_id", room == null ? null : room.toString());
    e.put("device_id", device.toString());
    if (reason != null) {
      e.put("reason", reason);
    }
    return e;
  }

  // ------------------------------------------------------------------ helpers

  /** The device as the API shows it; 404 when it does not exist in this tenant. */
  private static ObjectNode load(Connection c, UUID id, boolean forUpdate, boolean own) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "select " + COLUMNS + " from devices where id = ?" + (forUpdate ? " for update" : ""))) {
      p.setObject(1, id);
      ResultSet rs = p.executeQuery();
      if (!rs.next()) {
        throw ApiException.notFound("device not found");
      }
      return json(rs, own);
    }
  }

  private static ObjectNode json(ResultSet rs, boolean own) throws SQLException {
    ObjectNode d = JsonBody.object()
        .put("device_id", rs.getObject("id", UUID.class).toString())
        .put("name", rs.getString("name"))
        .put("role", rs.getString("role"))
        .put("state", rs.getString("state"))
        .put("fingerprint", rs.getString("fingerprint"))
        .put("public_identity", java.util.Base64.getEncoder().encodeToString(rs.getBytes("public_identity")))
        .put("trust_tier", rs.getInt("trust_tier"));
    d.put("hub_address", rs.getString("hub_address"));
    d.put("created_at", rs.getTimestamp("created_at").toInstant().toString());
    if (own) {
      d.put("webhook_url", rs.getString("webhook_url"));
    }
    return d;
  }

  private static UUID deviceId(Context ctx) {
    return JsonBody.parseUuid(ctx.pathParam("id"), "device id");
  }

  private static void emptyBody(Context ctx) {
    byte[] b = ctx.bodyAsBytes();
    if (b.length > 0 && !new String(b, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
      JsonBody.parse(b, Set.of());
    }
  }

  private static ApiException illegal(String from, String to) {
    return ApiException.conflict("illegal transition " + from + " -> " + to);
  }

  private Timestamp now() {
    return Timestamp.from(rc.clock().instant());
  }
}
