package chat.agentvault.channel;

import chat.agentvault.transport.RelayHttp;
import chat.agentvault.transport.RelaySession;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Owner operations of an owner device ({@link AgentClient#owner()}): invites, the tenant's
 * devices, approval by fingerprint, suspension and revocation. Every call goes to the relay and
 * throws {@link chat.agentvault.transport.RelayException} when it refuses.
 */
public final class Owner {
  private final RelaySession session;

  Owner(RelaySession session) {
    this.session = session;
  }

  /** A one-time invite: the token is shown only here (never in {@link #toString()}). */
  public record Invite(String inviteId, String role, String token, Instant expiresAt) {
    @Override
    public String toString() {
      return "Invite[" + inviteId + ", " + role + ", expires " + expiresAt + "]";
    }
  }

  /** A device of the tenant, as the relay knows it (public data only). */
  public record Device(String deviceId, String name, String role, String state, String fingerprint, int trustTier) {}

  /** A new invite for an agent ({@code role} {@code "agent"}) or another owner device ({@code "owner"}). */
  public Invite createInvite(String role, Duration ttl) {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(ttl, "ttl");
    JsonNode r = session.post("/api/v1/invites",
        RelayHttp.object().put("role", role).put("ttl_seconds", Math.max(1, ttl.toSeconds())));
    return new Invite(r.path("invite_id").asText(), r.path("role").asText(), r.path("token").asText(),
        Instant.parse(r.path("expires_at").asText()));
  }

  /** The tenant's devices, oldest first. */
  public List<Device> devices() {
    List<Device> out = new ArrayList<>();
    for (JsonNode d : session.get("/api/v1/devices").path("devices")) {
      out.add(device(d));
    }
    return List.copyOf(out);
  }

  /**
   * Approves a pending device after the fingerprint was compared out of band: the full
   * fingerprint (64 hex digits); the relay refuses a mismatch (400 {@code fingerprint mismatch}).
   */
  public Device approve(String deviceId, String fingerprint) {
    Objects.requireNonNull(fingerprint, "fingerprint");
    return device(session.post("/api/v1/devices/" + uuid(deviceId) + "/approve",
        RelayHttp.object().put("fingerprint", fingerprint)));
  }

  /** Revokes a device: final; it leaves every room and can no longer log in. */
  public Device revoke(String deviceId) {
    return device(session.post("/api/v1/devices/" + uuid(deviceId) + "/revoke", null));
  }

  public Device suspend(String deviceId) {
    return device(session.post("/api/v1/devices/" + uuid(deviceId) + "/suspend", null));
  }

  public Device resume(String deviceId) {
    return device(session.post("/api/v1/devices/" + uuid(deviceId) + "/resume", null));
  }

  static Device device(JsonNode d) {
    return new Device(d.path("device_id").asText(), d.path("name").asText(), d.path("role").asText(),
        d.path("state").asText(), d.path("fingerprint").asText(), d.path("trust_tier").asInt());
  }

  static String uuid(String id) {
    return UUID.fromString(Objects.requireNonNull(id, "deviceId")).toString();
  }

  @Override
  public String toString() {
    return "Owner[" + session.deviceId() + "]";
  }
}
