package chat.agentvault.relay;

import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.relay.auth.AuthRoutes;
import chat.agentvault.relay.http.JsonBody;
import java.sql.PreparedStatement;
import java.util.Base64;
import java.util.UUID;

/**
 * Test fixtures that need no enrollment flow: a device inserted as the administrative role in a
 * given state, and a login through the real challenge-response endpoints.
 */
public final class Fixtures {
  private Fixtures() {}

  /** A device of the relay's tenant: its identity (keys stay here), id and role. */
  public record Device(UUID tenant, UUID id, String role, DeviceIdentity identity) {
    @Override
    public String toString() {
      return "Device[" + role + " " + id + "]";
    }
  }

  /** A new tenant (without using its bootstrap token). */
  public static UUID tenant(TestRelay relay) {
    return relay.createTenant("t-" + UUID.randomUUID()).tenantId();
  }

  /** Inserts a device directly (admin role) in {@code state}. */
  public static Device device(TestRelay relay, UUID tenant, String role, String state) throws Exception {
    DeviceIdentity id = DeviceIdentity.generate();
    UUID deviceId = UUID.randomUUID();
    relay.database().asAdmin(tenant, c -> {
      UUID invite = UUID.randomUUID();
      try (PreparedStatement p = c.prepareStatement(
          "insert into invites (tenant_id, id, token_hash, role, expires_at, consumed_at, consumed_by)"
              + " values (?, ?, ?, ?, now() + interval '1 hour', now(), ?)")) {
        p.setObject(1, tenant);
        p.setObject(2, invite);
        p.setBytes(3, chat.agentvault.crypto.Csprng.randomBytes(32));
        p.setString(4, role);
        p.setObject(5, deviceId);
        p.executeUpdate();
      }
      try (PreparedStatement p = c.prepareStatement(
          "insert into devices (tenant_id, id, role, name, public_identity, fingerprint, state, invite_id)"
              + " values (?, ?, ?, ?, ?, ?, ?, ?)")) {
        p.setObject(1, tenant);
        p.setObject(2, deviceId);
        p.setString(3, role);
        p.setString(4, role + "-" + deviceId.toString().substring(0, 8));
        p.setBytes(5, id.publicIdentity().encode());
        p.setString(6, id.fingerprint().full());
        p.setString(7, state);
        p.setObject(8, invite);
        p.executeUpdate();
      }
      return null;
    });
    return new Device(tenant, deviceId, role, id);
  }

  /** An ACTIVE device. */
  public static Device active(TestRelay relay, UUID tenant, String role) throws Exception {
    return device(relay, tenant, role, "ACTIVE");
  }

  /** Logs in through POST /auth/challenge and /auth/token; returns the access token. */
  public static String login(TestRelay relay, Device d) {
    Http http = new Http(relay);
    Http.Response ch = http.post("/api/v1/auth/challenge",
        Http.json().put("tenant_id", d.tenant().toString()).put("device_id", d.id().toString()), null);
    if (ch.status() != 200) {
      throw new AssertionError("challenge: " + ch.status() + " " + ch.raw());
    }
    byte[] challenge = Base64.getDecoder().decode(ch.body().path("challenge").asText());
    byte[] sig = d.identity().sign(AuthRoutes.signedMessage(d.tenant(), d.id(), challenge));
    Http.Response t = http.post("/api/v1/auth/token", Http.json()
        .put("tenant_id", d.tenant().toString()).put("device_id", d.id().toString())
        .put("challenge_id", ch.body().path("challenge_id").asText())
        .put("signature", JsonBody.b64(sig)), null);
    if (t.status() != 200) {
      throw new AssertionError("token: " + t.status() + " " + t.raw());
    }
    return t.body().path("token").asText();
  }
}
