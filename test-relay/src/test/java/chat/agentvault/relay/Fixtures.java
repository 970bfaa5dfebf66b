package chat.agentvault.relay;

import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.relay.auth.AuthRoutes;
import chat.agentvault.relay.enroll.EnrollRoutes;
import chat.agentvault.relay.enroll.InviteToken;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.PreparedStatement;
import java.util.Base64;
import java.util.UUID;

/**
 * Test fixtures: a device inserted as the administrative role in a given state, a login through
 * the real challenge-response endpoints, and enrollment through the real invite and enrollment
 * endpoints ({@link #bootstrapOwner}, {@link #invite}, {@link #enroll}, {@link #approvedAgent}).
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

  // ------------------------------------------------------------------ enrollment (real endpoints)

  /** An owner device enrolled with a new tenant's bootstrap token (ACTIVE at once) and its access token. */
  public record Owner(Device device, String token) {
    public UUID tenant() {
      return device.tenant();
    }
  }

  /** A new tenant whose first owner enrolled with the bootstrap token and logged in. */
  public static Owner bootstrapOwner(TestRelay relay) {
    TestRelay.TenantBootstrap b = relay.createTenant("t-" + UUID.randomUUID());
    Device owner = enroll(relay, b.ownerToken(), "owner");
    return new Owner(owner, login(relay, owner));
  }

  /** A new invite token of {@code role} created by the owner holding {@code ownerToken}. */
  public static String invite(TestRelay relay, String ownerToken, String role) {
    Http.Response r = new Http(relay).post("/api/v1/invites", Http.json().put("role", role), ownerToken);
    if (r.status() != 201) {
      throw new AssertionError("invite: " + r.status() + " " + r.raw());
    }
    return r.body().path("token").asText();
  }

  /** Enrolls a fresh identity with {@code invite} (PENDING, or ACTIVE for a bootstrap token). */
  public static Device enroll(TestRelay relay, String invite, String name) {
    return enroll(relay, invite, name, DeviceIdentity.generate(), Http.json());
  }

  /**
   * Enrolls {@code identity} with {@code invite}; {@code extra} adds fields to the request
   * ({@code hub_address}, {@code prekey_bundles}, ...). Fails unless the relay answers 201.
   */
  public static Device enroll(TestRelay relay, String invite, String name, DeviceIdentity identity, ObjectNode extra) {
    Http.Response r = enrollRequest(relay, invite, name, identity, extra);
    if (r.status() != 201) {
      throw new AssertionError("enroll: " + r.status() + " " + r.raw());
    }
    return new Device(UUID.fromString(r.body().path("tenant_id").asText()),
        UUID.fromString(r.body().path("device_id").asText()), r.body().path("role").asText(), identity);
  }

  /** POST /enroll/challenge then a correctly signed POST /enroll; returns the enrollment answer as is. */
  public static Http.Response enrollRequest(TestRelay relay, String invite, String name, DeviceIdentity identity,
      ObjectNode extra) {
    Http http = new Http(relay);
    Http.Response ch = http.post("/api/v1/enroll/challenge", Http.json().put("invite", invite), null);
    if (ch.status() != 200) {
      return ch;
    }
    byte[] challenge = Base64.getDecoder().decode(ch.body().path("challenge").asText());
    ObjectNode body = enrollBody(invite, ch.body().path("challenge_id").asText(), challenge, name, identity);
    body.setAll(extra);
    return http.post("/api/v1/enroll", body, null);
  }

  /** The body of POST /enroll with the proof of possession over {@code challenge} by {@code identity}. */
  public static ObjectNode enrollBody(String invite, String challengeId, byte[] challenge, String name,
      DeviceIdentity identity) {
    byte[] pub = identity.publicIdentity().encode();
    byte[] sig = identity.sign(EnrollRoutes.signedMessage(InviteToken.hash(invite), challenge, pub));
    return Http.json().put("invite", invite).put("challenge_id", challengeId).put("name", name)
        .put("public_identity", JsonBody.b64(pub)).put("signature", JsonBody.b64(sig));
  }

  /** Approves {@code d} with its true fingerprint as {@code owner}. */
  public static void approve(TestRelay relay, Owner owner, Device d) {
    Http.Response r = new Http(relay).post("/api/v1/devices/" + d.id() + "/approve",
        Http.json().put("fingerprint", d.identity().fingerprint().full()), owner.token());
    if (r.status() != 200) {
      throw new AssertionError("approve: " + r.status() + " " + r.raw());
    }
  }

  /** An agent of {@code owner}'s tenant: invited, enrolled and approved (APPROVED; ACTIVE after its first login). */
  public static Device approvedAgent(TestRelay relay, Owner owner, String name) {
    Device d = enroll(relay, invite(relay, owner.token(), "agent"), name);
    approve(relay, owner, d);
    return d;
  }

  /** The conversation id between the holder of {@code token} and {@code peer} (created or existing). */
  public static String conversation(TestRelay relay, Device peer, String token) {
    Http.Response r = new Http(relay).post("/api/v1/conversations",
        Http.json().put("peer_device_id", peer.id().toString()), token);
    if (r.status() != 200 && r.status() != 201) {
      throw new AssertionError("conversation: " + r.status() + " " + r.raw());
    }
    return r.body().path("conversation_id").asText();
  }

  /** Sends a new direct message (payload: the client id's bytes) over HTTP; returns its message id. */
  public static long directMessage(TestRelay relay, String conversation, String clientId, String token) {
    Http.Response r = new Http(relay).post("/api/v1/messages", Http.json().put("conversation_id", conversation)
        .put("message_type", "ratchet").put("content_type", "application/octet-stream")
        .put("client_message_id", clientId)
        .put("payload", JsonBody.b64(clientId.getBytes(java.nio.charset.StandardCharsets.UTF_8))), token);
    if (r.status() != 201 || r.body().path("duplicate").asBoolean()) {
      throw new AssertionError("direct message: " + r.status() + " " + r.raw());
    }
    return r.body().path("message_id").asLong();
  }

  /** Acknowledges {@code ids} for the holder of {@code token}; returns how many were pending. */
  public static int ack(TestRelay relay, String token, long... ids) {
    ObjectNode body = Http.json();
    var arr = body.putArray("message_ids");
    for (long id : ids) {
      arr.add(id);
    }
    Http.Response r = new Http(relay).post("/api/v1/messages/ack", body, token);
    if (r.status() != 200) {
      throw new AssertionError("ack: " + r.status() + " " + r.raw());
    }
    return r.body().path("acknowledged").asInt();
  }
}
