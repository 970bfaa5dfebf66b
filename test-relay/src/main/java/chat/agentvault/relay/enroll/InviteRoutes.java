package chat.agentvault.relay.enroll;

import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.auth.Authenticator;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.http.Responses;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;

/**
 * Invites (docs/protocol.md, "Invites"): an owner creates one and sees its token exactly once; the
 * relay keeps only BLAKE2b-256 of the token. Owners list and revoke their tenant's invites; RLS
 * makes another tenant's invites indistinguishable from unknown ones (404).
 */
public final class InviteRoutes {
  /** Longest lifetime an owner may ask for: the bootstrap invite's 24 hours. */
  static final long MAX_TTL_SECONDS = Duration.ofHours(24).toSeconds();

  private final RelayContext rc;

  private InviteRoutes(RelayContext rc) {
    this.rc = rc;
  }

  public static void register(RoutesConfig r, RelayContext rc) {
    InviteRoutes i = new InviteRoutes(rc);
    r.post("/api/v1/invites", i::create);
    r.get("/api/v1/invites", i::list);
    r.delete("/api/v1/invites/{id}", i::revoke);
  }

  private void create(Context ctx) throws SQLException {
    Principal owner = Authenticator.owner(ctx);
    JsonBody b = JsonBody.parse(ctx.bodyAsBytes(), Set.of("role", "ttl_seconds"));
    String role = b.optString("role").orElse("agent");
    if (!role.equals("agent") && !role.equals("owner")) {
      throw ApiException.badRequest("field role must be \"agent\" or \"owner\"");
    }
    Duration ttl = rc.config().inviteLifetime();
    if (b.has("ttl_seconds")) {
      long s = b.integer("ttl_seconds");
      if (s < 1 || s > MAX_TTL_SECONDS) {
        throw ApiException.badRequest("field ttl_seconds must be between 1 and " + MAX_TTL_SECONDS);
      }
      ttl = Duration.ofSeconds(s);
    }
    String token = InviteToken.generate(owner.tenant());
    UUID id = UUID.randomUUID();
    Instant now = rc.clock().instant();
    Instant expires = now.plus(ttl);
    rc.db().inTenant(owner.tenant(), c -> {
      try (PreparedStatement p = c.prepareStatement(
          "insert into invites (tenant_id, id, token_hash, role, auto_approve, created_by, expires_at, created_at)"
              + " values (?, ?, ?, ?, false, ?, ?, ?)")) {
        p.setObject(1, owner.tenant());
        p.setObject(2, id);
        p.setBytes(3, InviteToken.hash(token));
        p.setString(4, role);
        p.setObject(5, owner.device());
        p.setTimestamp(6, Timestamp.from(expires));
        p.setTimestamp(7, Timestamp.from(now));
        return p.executeUpdate();
      }
    });
    Responses.json(ctx, 201, JsonBody.object()
        .put("invite_id", id.toString())
        .put("role", role)
        .put("token", token)
        .put("expires_at", expires.toString()));
  }

  private void list(Context ctx) throws SQLException {
    Principal owner = Authenticator.owner(ctx);
    Instant now = rc.clock().instant();
    ArrayNode invites = rc.db().inTenant(owner.tenant(), c -> {
      ArrayNode a = JsonBody.MAPPER.createArrayNode();
      try (PreparedStatement p = c.prepareStatement(
          "select id, role, created_at, expires_at, consumed_at, revoked_at from invites order by created_at, id")) {
        ResultSet rs = p.executeQuery();
        while (rs.next()) {
          Instant expires = rs.getTimestamp(4).toInstant();
          String status = rs.getTimestamp(6) != null ? "revoked"
              : rs.getTimestamp(5) != null ? "consumed"
              : !expires.isAfter(now) ? "expired"
              : "active";
          a.addObject()
              .put("invite_id", rs.getObject(1, UUID.class).toString())
              .put("role", rs.getString(2))
              .put("created_at", rs.getTimestamp(3).toInstant().toString())
              .put("expires_at", expires.toString())
              .put("status", status);
        }
      }
      return a;
    });
    ObjectNode body = JsonBody.object();
    body.set("invites", invites);
    Responses.json(ctx, 200, body);
  }

  private void revoke(Context ctx) throws SQLException {
    Principal owner = Authenticator.owner(ctx);
    UUID id = JsonBody.parseUuid(ctx.pathParam("id"), "invite id");
    Timestamp now = Timestamp.from(rc.clock().instant());
    String outcome = rc.db().inTenant(owner.tenant(), c -> {
      try (PreparedStatement p = c.prepareStatement(
          "select consumed_at from invites where id = ? for update")) {
        p.setObject(1, id);
        ResultSet rs = p.executeQuery();
        if (!rs.next()) {
          return "unknown";
        }
        if (rs.getTimestamp(1) != null) {
          return "consumed";
        }
      }
      try (PreparedStatement p = c.prepareStatement(
          "update invites set revoked_at = coalesce(revoked_at, ?) where id = ?")) {
        p.setTimestamp(1, now);
        p.setObject(2, id);
        p.executeUpdate();
      }
      // its outstanding enrollment challenges are useless now: drop them
      try (PreparedStatement p = c.prepareStatement("delete from enrollment_challenges where invite_id = ?")) {
        p.setObject(1, id);
        p.executeUpdate();
      }
      return "revoked";
    });
    switch (outcome) {
      case "unknown" -> throw ApiException.notFound("invite not found");
      case "consumed" -> throw ApiException.conflict("invite already consumed");
      default -> ctx.status(204);
    }
  }
}
