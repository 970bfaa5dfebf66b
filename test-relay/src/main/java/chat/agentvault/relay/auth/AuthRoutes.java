package chat.agentvault.relay.auth;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PublicKey;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.http.Responses;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;

/**
 * Challenge-response login (docs/protocol.md, "Authentication"): the device signs
 * {@code "agentvault-auth-v1" 0x00 || tenant id || device id || challenge} with its Ed25519 identity
 * key and receives a short-lived access token. Challenges are single use and expire.
 */
public final class AuthRoutes {
  static final byte[] LABEL = "agentvault-auth-v1\0".getBytes(StandardCharsets.US_ASCII);

  private final RelayContext rc;

  private AuthRoutes(RelayContext rc) {
    this.rc = rc;
  }

  public static void register(RoutesConfig r, RelayContext rc) {
    AuthRoutes a = new AuthRoutes(rc);
    r.post("/api/v1/auth/challenge", a::challenge);
    r.post("/api/v1/auth/token", a::token);
  }

  /** What the device signs to log in. */
  public static byte[] signedMessage(UUID tenant, UUID device, byte[] challenge) {
    return ByteBuffer.allocate(LABEL.length + 32 + challenge.length).put(LABEL)
        .putLong(tenant.getMostSignificantBits()).putLong(tenant.getLeastSignificantBits())
        .putLong(device.getMostSignificantBits()).putLong(device.getLeastSignificantBits())
        .put(challenge).array();
  }

  private void challenge(Context ctx) throws SQLException {
    JsonBody b = JsonBody.parse(ctx.bodyAsBytes(), Set.of("tenant_id", "device_id"));
    UUID tenant = b.uuid("tenant_id");
    UUID device = b.uuid("device_id");
    byte[] challenge = Csprng.randomBytes(32);
    UUID id = UUID.randomUUID();
    Instant expires = rc.clock().instant().plus(rc.config().challengeLifetime());
    // An unknown tenant or device gets a challenge that was never stored: the answer does not tell
    // which devices exist; the token request then fails like any bad signature.
    if (tenantExists(tenant)) {
      rc.db().inTenant(tenant, c -> {
        try (PreparedStatement p = c.prepareStatement(
            "insert into auth_challenges (tenant_id, id, device_id, challenge, expires_at)"
                + " select ?, ?, id, ?, ? from devices where id = ?")) {
          p.setObject(1, tenant);
          p.setObject(2, id);
          p.setBytes(3, challenge);
          p.setTimestamp(4, Timestamp.from(expires));
          p.setObject(5, device);
          return p.executeUpdate();
        }
      });
    }
    Responses.json(ctx, 200, JsonBody.object()
        .put("challenge_id", id.toString())
        .put("challenge", JsonBody.b64(challenge))
        .put("expires_at", expires.toString()));
  }

  private boolean tenantExists(UUID tenant) throws SQLException {
    return rc.db().inTenant(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement("select 1 from tenants where id = ?")) {
        p.setObject(1, tenant);
        return p.executeQuery().next();
      }
    });
  }

  private void token(Context ctx) throws SQLException {
    JsonBody b = JsonBody.parse(ctx.bodyAsBytes(), Set.of("tenant_id", "device_id", "challenge_id", "signature"));
    UUID tenant = b.uuid("tenant_id");
    UUID device = b.uuid("device_id");
    UUID challengeId = b.uuid("challenge_id");
    byte[] signature = b.bytes("signature", 64);
    if (!tenantExists(tenant)) {
      throw ApiException.unauthorized("authentication failed");
    }
    Principal principal = rc.db().inTenant(tenant, c -> {
      byte[] challenge;
      try (PreparedStatement p = c.prepareStatement(
          "delete from auth_challenges where id = ? and device_id = ? returning challenge, expires_at")) {
        p.setObject(1, challengeId);
        p.setObject(2, device);
        ResultSet rs = p.executeQuery();
        if (!rs.next() || rs.getTimestamp(2).toInstant().isBefore(rc.clock().instant())) {
          return null;
        }
        challenge = rs.getBytes(1);
      }
      String state;
      String role;
      byte[] identity;
      try (PreparedStatement p = c.prepareStatement(
          "select state, role, public_identity from devices where id = ? for update")) {
        p.setObject(1, device);
        ResultSet rs = p.executeQuery();
        if (!rs.next()) {
          return null;
        }
        state = rs.getString(1);
        role = rs.getString(2);
        identity = rs.getBytes(3);
      }
      try {
        Ed25519PublicKey key = PublicIdentity.parse(identity).signingKey();
        key.verify(signedMessage(tenant, device, challenge), signature);
      } catch (java.security.SignatureException | RuntimeException e) {
        return null;
      }
      DeviceStates.requireUsable(state);
      if ("APPROVED".equals(state)) {
        try (PreparedStatement p = c.prepareStatement(
            "update devices set state = 'ACTIVE', updated_at = now() where id = ?")) {
          p.setObject(1, device);
          p.executeUpdate();
        }
      }
      return new Principal(tenant, device, role);
    });
    if (principal == null) {
      // a bad signature still consumed the challenge (that transaction committed): one try each
      throw ApiException.unauthorized("authentication failed");
    }
    Jwt.Issued issued = rc.jwt().issue(principal);
    Responses.json(ctx, 200, JsonBody.object()
        .put("token", issued.token())
        .put("expires_at", Instant.ofEpochSecond(issued.expiresAt()).toString())
        .put("device_id", device.toString())
        .put("role", principal.role()));
  }
}
