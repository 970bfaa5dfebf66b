package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.ratchet.Sessions;
import chat.agentvault.relay.fanout.Fanout;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The device state machine, approval by fingerprint, revocation and tenant isolation (docs/protocol.md, "Devices"). */
@ExtendWith(TestRelayExtension.class)
class DeviceLifecycleTest {
  static TestRelay relay;
  static Http http;
  /** What the relay asked the fan-out to do (this test's relay only: it replaces any WebSocket listener). */
  static final List<String> disconnects = new CopyOnWriteArrayList<>();
  static final List<String> frames = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    http = new Http(relay);
    relay.context().fanout().listen(new Fanout.Listener() {
      @Override
      public void frame(UUID tenant, Collection<UUID> devices, String frame) {
        frames.add(tenant + " " + devices + " " + frame);
      }

      @Override
      public void disconnect(UUID tenant, UUID device, int code, String reason) {
        disconnects.add(tenant + " " + device + " " + code + " " + reason);
      }
    });
  }

  @Test
  void approvalNeedsTheVerifiedFingerprintAndTheFirstLoginActivates() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Fixtures.Device agent = Fixtures.enroll(relay, Fixtures.invite(relay, o.token(), "agent"), "agent");
    assertThat(state(o, agent)).isEqualTo("PENDING");
    assertThatThrownBy(() -> Fixtures.login(relay, agent)).hasMessageContaining("403")
        .hasMessageContaining("device pending approval");

    String path = "/api/v1/devices/" + agent.id() + "/approve";
    String right = agent.identity().fingerprint().full();
    for (String wrong : new String[] {DeviceIdentity.generate().fingerprint().full(), right.substring(0, 19),
        agent.identity().fingerprint().shortForm(), "zz" + right.substring(2), right.substring(0, right.length() - 1) + "0"}) {
      if (wrong.equals(right)) {
        continue;
      }
      Http.Response r = http.post(path, Http.json().put("fingerprint", wrong), o.token());
      assertThat(r.status()).as(wrong).isEqualTo(400);
      assertThat(r.detail()).isEqualTo("fingerprint mismatch");
    }
    assertThat(http.post(path, Http.json(), o.token()).detail()).isEqualTo("missing field: fingerprint");
    assertThat(state(o, agent)).isEqualTo("PENDING");

    // the verified fingerprint, in any accepted spelling (here: unseparated upper case)
    Http.Response ok = http.post(path,
        Http.json().put("fingerprint", right.replace(":", "").toUpperCase(Locale.ROOT)), o.token());
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.body().path("state").asText()).isEqualTo("APPROVED");
    assertThat(ok.body().path("fingerprint").asText()).isEqualTo(right);

    String token = Fixtures.login(relay, agent);
    Http.Response me = http.get("/api/v1/devices/me", token);
    assertThat(me.status()).isEqualTo(200);
    assertThat(me.body().path("state").asText()).isEqualTo("ACTIVE");
    assertThat(me.body().path("device_id").asText()).isEqualTo(agent.id().toString());
    assertThat(me.body().path("role").asText()).isEqualTo("agent");
  }

  @Test
  void anInvitedOwnerIsApprovedLikeAnAgentAndThenActsAsOwner() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Fixtures.Device second = Fixtures.enroll(relay, Fixtures.invite(relay, o.token(), "owner"), "second owner");
    assertThat(second.role()).isEqualTo("owner");
    assertThat(state(o, second)).isEqualTo("PENDING");
    Fixtures.approve(relay, o, second);
    String token = Fixtures.login(relay, second);
    assertThat(http.get("/api/v1/devices", token).status()).isEqualTo(200);
  }

  @Test
  void everyIllegalTransitionIsA409() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Fixtures.Device d = Fixtures.enroll(relay, Fixtures.invite(relay, o.token(), "agent"), "agent");
    // PENDING
    conflict(o, d, "suspend", "illegal transition PENDING -> SUSPENDED");
    conflict(o, d, "resume", "illegal transition PENDING -> ACTIVE");
    Fixtures.approve(relay, o, d);
    // APPROVED: not approvable again, not resumable (the first login activates it)
    conflict(o, d, "approve", "illegal transition APPROVED -> APPROVED");
    conflict(o, d, "resume", "illegal transition APPROVED -> ACTIVE");
    Fixtures.login(relay, d);
    // ACTIVE
    conflict(o, d, "approve", "illegal transition ACTIVE -> APPROVED");
    conflict(o, d, "resume", "illegal transition ACTIVE -> ACTIVE");
    assertThat(act(o, d, "suspend").status()).isEqualTo(200);
    // SUSPENDED
    conflict(o, d, "suspend", "illegal transition SUSPENDED -> SUSPENDED");
    conflict(o, d, "approve", "illegal transition SUSPENDED -> APPROVED");
    assertThat(act(o, d, "revoke").body().path("state").asText()).isEqualTo("REVOKED");
    // REVOKED: nothing leaves it
    for (String[] t : new String[][] {{"approve", "APPROVED"}, {"suspend", "SUSPENDED"}, {"resume", "ACTIVE"},
        {"revoke", "REVOKED"}}) {
      conflict(o, d, t[0], "illegal transition REVOKED -> " + t[1]);
    }
    Http.Response tier = http.put("/api/v1/devices/" + d.id() + "/trust-tier", Http.json().put("trust_tier", 5), o.token());
    assertThat(tier.status()).isEqualTo(409);
    assertThat(state(o, d)).isEqualTo("REVOKED");
    assertThatThrownBy(() -> Fixtures.login(relay, d)).hasMessageContaining("device revoked");

    // a pending device can be revoked directly
    Fixtures.Device p = Fixtures.enroll(relay, Fixtures.invite(relay, o.token(), "agent"), "pending");
    assertThat(act(o, p, "revoke").body().path("state").asText()).isEqualTo("REVOKED");
    conflict(o, p, "approve", "illegal transition REVOKED -> APPROVED");
  }

  @Test
  void aSuspendedDeviceIsRefusedOnItsNextRequestAndResumeRestoresIt() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Fixtures.Device d = Fixtures.approvedAgent(relay, o, "agent");
    String token = Fixtures.login(relay, d);
    assertThat(http.get("/api/v1/devices/me", token).status()).isEqualTo(200);

    Http.Response s = act(o, d, "suspend");
    assertThat(s.status()).isEqualTo(200);
    assertThat(s.body().path("state").asText()).isEqualTo("SUSPENDED");
    assertThat(disconnects).contains(o.tenant() + " " + d.id() + " 4003 device suspended");
    Http.Response refused = http.get("/api/v1/devices/me", token); // same, unexpired token
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.detail()).isEqualTo("device suspended");
    assertThatThrownBy(() -> Fixtures.login(relay, d)).hasMessageContaining("device suspended");

    Http.Response r = act(o, d, "resume");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body().path("state").asText()).isEqualTo("ACTIVE");
    assertThat(http.get("/api/v1/devices/me", token).status()).isEqualTo(200);
  }

  @Test
  void revocationRefusesTheNextRequestStripsMembershipsAndTellsTheRooms() throws Exception {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    DeviceIdentity victimId = DeviceIdentity.generate();
    ObjectNode keys = Http.json();
    try (Sessions s = Sessions.builder(victimId).build()) {
      keys.putArray("prekey_bundles").add(JsonBody.b64(s.bundle().toBytes()));
      keys.put("fallback_prekey_bundle", JsonBody.b64(s.bundleWithoutOneTimePreKey().toBytes()));
    }
    keys.putArray("key_packages").add(JsonBody.b64(new byte[100]));
    Fixtures.Device victim = Fixtures.enroll(relay, Fixtures.invite(relay, o.token(), "agent"), "victim", victimId, keys);
    Fixtures.approve(relay, o, victim);
    assertThat(count(o, "select count(*) from prekey_bundles where tenant_id = ? and device_id = ?", victim.id())).isEqualTo(2);
    Fixtures.Device peer = Fixtures.approvedAgent(relay, o, "peer");
    Fixtures.Device invited = Fixtures.approvedAgent(relay, o, "invited");
    String token = Fixtures.login(relay, victim);
    UUID room1 = room(o, 0, new Object[][] {{victim, "joined"}, {peer, "joined"}, {o.device(), "joined"}, {invited, "invited"}});
    UUID room2 = room(o, 0, new Object[][] {{victim, "joined"}, {peer, "joined"}});
    UUID other = room(o, 0, new Object[][] {{peer, "joined"}, {o.device(), "joined"}});
    assertThat(http.get("/api/v1/devices/me", token).status()).isEqualTo(200);

    Http.Response r = act(o, victim, "revoke");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body().path("state").asText()).isEqualTo("REVOKED");

    Http.Response next = http.get("/api/v1/devices/me", token);
    assertThat(next.status()).isEqualTo(403);
    assertThat(next.detail()).isEqualTo("device revoked");
    assertThat(disconnects).contains(o.tenant() + " " + victim.id() + " 4003 device revoked");

    assertThat(count(o, "select count(*) from room_members where tenant_id = ? and device_id = ?", victim.id())).isZero();
    assertThat(count(o, "select count(*) from room_members where tenant_id = ? and room_id = ?", room1)).isEqualTo(3);
    assertThat(count(o, "select count(*) from room_members where tenant_id = ? and room_id = ?", other)).isEqualTo(2);

    List<String> events = events(o);
    String v = victim.id().toString();
    assertThat(events).containsExactlyInAnyOrder(
        "member_removed " + room1 + " " + v + " -> " + sorted(peer.id(), o.device().id()),
        "rekey_requested " + room1 + " " + v + " -> " + sorted(peer.id(), o.device().id()),
        "member_removed " + room2 + " " + v + " -> " + List.of(peer.id()),
        "rekey_requested " + room2 + " " + v + " -> " + List.of(peer.id()),
        "device_revoked null " + v + " -> " + List.of(o.device().id()));
    // pushed to open sockets after commit, once per event
    assertThat(frames.stream().filter(f -> f.startsWith(o.tenant().toString()))).hasSize(5);
    // nobody can start a session with it or add it to a group any more
    assertThat(count(o, "select count(*) from prekey_bundles where tenant_id = ? and device_id = ?", victim.id())).isZero();
    assertThat(count(o, "select count(*) from key_packages where tenant_id = ? and device_id = ?", victim.id())).isZero();
  }

  @Test
  void aTrustTierDropRemovesTheDeviceFromRoomsItNoLongerQualifiesFor() throws Exception {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Fixtures.Device d = Fixtures.approvedAgent(relay, o, "agent");
    Fixtures.Device peer = Fixtures.approvedAgent(relay, o, "peer");
    Http.Response up = http.put("/api/v1/devices/" + d.id() + "/trust-tier", Http.json().put("trust_tier", 60), o.token());
    assertThat(up.status()).isEqualTo(200);
    assertThat(up.body().path("trust_tier").asInt()).isEqualTo(60);
    UUID high = room(o, 50, new Object[][] {{d, "joined"}, {peer, "joined"}});
    UUID low = room(o, 10, new Object[][] {{d, "joined"}, {peer, "joined"}});

    Http.Response down = http.put("/api/v1/devices/" + d.id() + "/trust-tier", Http.json().put("trust_tier", 20), o.token());
    assertThat(down.status()).isEqualTo(200);
    assertThat(down.body().path("state").asText()).isEqualTo("APPROVED");
    assertThat(count(o, "select count(*) from room_members where tenant_id = ? and room_id = ?", high)).isEqualTo(1);
    assertThat(count(o, "select count(*) from room_members where tenant_id = ? and room_id = ?", low)).isEqualTo(2);
    assertThat(events(o)).containsExactlyInAnyOrder(
        "member_removed " + high + " " + d.id() + " -> " + sorted(peer.id(), d.id()),
        "rekey_requested " + high + " " + d.id() + " -> " + List.of(peer.id()));

    for (Object bad : new Object[] {-1, 101, "20"}) {
      ObjectNode body = Http.json();
      body.set("trust_tier", JsonBody.MAPPER.valueToTree(bad));
      assertThat(http.put("/api/v1/devices/" + d.id() + "/trust-tier", body, o.token()).status()).as("" + bad).isEqualTo(400);
    }
  }

  @Test
  void devicesReadTheDirectoryAndSetTheirOwnWebhook() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Fixtures.Device a = Fixtures.approvedAgent(relay, o, "a");
    Fixtures.Device b = Fixtures.approvedAgent(relay, o, "b");
    String token = Fixtures.login(relay, a);

    Http.Response peer = http.get("/api/v1/devices/" + b.id(), token);
    assertThat(peer.status()).isEqualTo(200);
    assertThat(peer.body().path("fingerprint").asText()).isEqualTo(b.identity().fingerprint().full());
    assertThat(peer.body().has("webhook_url")).isFalse();
    assertThat(fieldNames(peer.body())).containsExactlyInAnyOrder("device_id", "name", "role", "state", "fingerprint",
        "public_identity", "trust_tier", "hub_address", "created_at");
    // the public identity (PublicIdentity.encode(), base64) whose fingerprint is the one listed
    PublicIdentity listed = PublicIdentity.parse(
        java.util.Base64.getDecoder().decode(peer.body().path("public_identity").asText()));
    assertThat(listed.fingerprint()).isEqualTo(b.identity().fingerprint());
    assertThat(listed.encode()).isEqualTo(b.identity().publicIdentity().encode());
    assertThat(http.get("/api/v1/devices/" + UUID.randomUUID(), token).status()).isEqualTo(404);
    assertThat(http.get("/api/v1/devices/nope", token).status()).isEqualTo(400);

    Http.Response set = http.put("/api/v1/devices/me/webhook", Http.json().put("url", "http://127.0.0.1:9/hook"), token);
    assertThat(set.status()).isEqualTo(200);
    assertThat(set.body().path("webhook_url").asText()).isEqualTo("http://127.0.0.1:9/hook");
    assertThat(http.put("/api/v1/devices/me/webhook", Http.json().put("url", "file:///etc/passwd"), token).status())
        .isEqualTo(400);
    assertThat(http.put("/api/v1/devices/me/webhook", Http.json(), token).detail()).isEqualTo("missing field: url");
    Http.Response cleared = http.put("/api/v1/devices/me/webhook", Http.json().putNull("url"), token);
    assertThat(cleared.status()).isEqualTo(200);
    assertThat(cleared.body().path("webhook_url").isNull()).isTrue();

    Http.Response all = http.get("/api/v1/devices", o.token());
    assertThat(all.status()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    all.body().path("devices").forEach(n -> ids.add(n.path("device_id").asText()));
    assertThat(ids).containsExactlyInAnyOrder(o.device().id().toString(), a.id().toString(), b.id().toString());
  }

  @Test
  void agentsCannotCallOwnerEndpoints() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Fixtures.Device a = Fixtures.approvedAgent(relay, o, "a");
    Fixtures.Device pending = Fixtures.enroll(relay, Fixtures.invite(relay, o.token(), "agent"), "pending");
    String token = Fixtures.login(relay, a);
    String base = "/api/v1/devices/" + pending.id();
    List<Http.Response> rs = List.of(
        http.get("/api/v1/devices", token),
        http.post(base + "/approve", Http.json().put("fingerprint", pending.identity().fingerprint().full()), token),
        http.post(base + "/suspend", null, token),
        http.post(base + "/resume", null, token),
        http.post(base + "/revoke", null, token),
        http.put(base + "/trust-tier", Http.json().put("trust_tier", 1), token),
        // not even against itself
        http.post("/api/v1/devices/" + a.id() + "/revoke", null, token));
    for (Http.Response r : rs) {
      assertThat(r.status()).as(r.raw()).isEqualTo(403);
      assertThat(r.detail()).isEqualTo("owner device required");
    }
    assertThat(state(o, pending)).isEqualTo("PENDING");
    assertThat(state(o, a)).isEqualTo("ACTIVE");
  }

  @Test
  void anOwnerOfTenantACannotSeeOrTouchTheDevicesOfTenantB() {
    Fixtures.Owner a = Fixtures.bootstrapOwner(relay);
    Fixtures.Owner b = Fixtures.bootstrapOwner(relay);
    Fixtures.Device bPending = Fixtures.enroll(relay, Fixtures.invite(relay, b.token(), "agent"), "b-pending");
    Fixtures.Device bActive = Fixtures.approvedAgent(relay, b, "b-active");
    Fixtures.login(relay, bActive);

    Http.Response list = http.get("/api/v1/devices", a.token());
    assertThat(list.raw()).doesNotContain(bPending.id().toString()).doesNotContain(bActive.id().toString())
        .doesNotContain(b.device().id().toString());
    for (Fixtures.Device target : List.of(bPending, bActive, b.device())) {
      String base = "/api/v1/devices/" + target.id();
      List<Http.Response> rs = List.of(
          http.get(base, a.token()),
          http.post(base + "/approve", Http.json().put("fingerprint", target.identity().fingerprint().full()), a.token()),
          http.post(base + "/suspend", null, a.token()),
          http.post(base + "/resume", null, a.token()),
          http.post(base + "/revoke", null, a.token()),
          http.put(base + "/trust-tier", Http.json().put("trust_tier", 0), a.token()));
      for (Http.Response r : rs) {
        assertThat(r.status()).as(r.raw()).isEqualTo(404);
        assertThat(r.detail()).isEqualTo("device not found");
      }
    }
    assertThat(state(b, bPending)).isEqualTo("PENDING");
    assertThat(state(b, bActive)).isEqualTo("ACTIVE");
    assertThat(state(b, b.device())).isEqualTo("ACTIVE");
    // an agent of A cannot read B's devices either
    String agentA = Fixtures.login(relay, Fixtures.approvedAgent(relay, a, "a-agent"));
    assertThat(http.get("/api/v1/devices/" + bActive.id(), agentA).status()).isEqualTo(404);
  }

  // ------------------------------------------------------------------ helpers

  private static Http.Response act(Fixtures.Owner o, Fixtures.Device d, String action) {
    if (action.equals("approve")) {
      return http.post("/api/v1/devices/" + d.id() + "/approve",
          Http.json().put("fingerprint", d.identity().fingerprint().full()), o.token());
    }
    return http.post("/api/v1/devices/" + d.id() + "/" + action, null, o.token());
  }

  private static void conflict(Fixtures.Owner o, Fixtures.Device d, String action, String detail) {
    Http.Response r = act(o, d, action);
    assertThat(r.status()).as(action + ": " + r.raw()).isEqualTo(409);
    assertThat(r.detail()).isEqualTo(detail);
  }

  private static String state(Fixtures.Owner o, Fixtures.Device d) {
    Http.Response r = http.get("/api/v1/devices/" + d.id(), o.token());
    assertThat(r.status()).isEqualTo(200);
    return r.body().path("state").asText();
  }

  /** A room of {@code o}'s tenant (inserted as admin: rooms have their own endpoints) with these members. */
  private static UUID room(Fixtures.Owner o, int minTier, Object[][] members) throws Exception {
    UUID room = UUID.randomUUID();
    relay.database().asAdmin(o.tenant(), c -> {
      try (PreparedStatement p = c.prepareStatement(
          "insert into rooms (tenant_id, id, name, mode, min_trust_tier, created_by) values (?, ?, 'r', 'encrypted', ?, ?)")) {
        p.setObject(1, o.tenant());
        p.setObject(2, room);
        p.setInt(3, minTier);
        p.setObject(4, o.device().id());
        p.executeUpdate();
      }
      for (Object[] m : members) {
        try (PreparedStatement p = c.prepareStatement(
            "insert into room_members (tenant_id, room_id, device_id, role, status) values (?, ?, ?, 'member', ?)")) {
          p.setObject(1, o.tenant());
          p.setObject(2, room);
          p.setObject(3, ((Fixtures.Device) m[0]).id());
          p.setString(4, (String) m[1]);
          p.executeUpdate();
        }
      }
      return null;
    });
    return room;
  }

  private static long count(Fixtures.Owner o, String sql, UUID arg) throws Exception {
    return relay.database().asAdmin(o.tenant(), c -> {
      try (PreparedStatement p = c.prepareStatement(sql)) {
        p.setObject(1, o.tenant());
        p.setObject(2, arg);
        ResultSet rs = p.executeQuery();
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  /** The tenant's stored relay events as "event room device -> [recipients]". */
  private static List<String> events(Fixtures.Owner o) throws Exception {
    return relay.database().asAdmin(o.tenant(), c -> {
      List<String> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(
          "select m.payload, m.content_type, m.sender_device_id,"
              + " array(select d.recipient_device_id::text from deliveries d where d.message_id = m.id"
              + " order by 1)"
              + " from messages m where m.tenant_id = ? and m.message_type = 'event' order by m.id")) {
        p.setObject(1, o.tenant());
        ResultSet rs = p.executeQuery();
        while (rs.next()) {
          JsonNode e = JsonBody.MAPPER.readTree(new String(rs.getBytes(1), StandardCharsets.UTF_8));
          assertThat(rs.getString(2)).isEqualTo("application/vnd.agentvault.event+json");
          assertThat(rs.getObject(3, UUID.class)).isEqualTo(o.device().id());
          out.add(e.path("event").asText() + " " + (e.path("room_id").isNull() ? "null" : e.path("room_id").asText())
              + " " + e.path("device_id").asText() + " -> " + List.of((String[]) rs.getArray(4).getArray()));
        }
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
      return out;
    });
  }

  private static List<String> sorted(UUID... ids) {
    List<String> l = new ArrayList<>();
    for (UUID u : ids) {
      l.add(u.toString());
    }
    l.sort(null);
    return l;
  }

  private static Set<String> fieldNames(JsonNode n) {
    Set<String> s = new java.util.HashSet<>();
    n.fieldNames().forEachRemaining(s::add);
    return s;
  }
}
