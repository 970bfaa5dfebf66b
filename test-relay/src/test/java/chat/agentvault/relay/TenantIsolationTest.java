package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.ratchet.Sessions;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 6, "Tenant isolation": two fully populated tenants (owners, agents, invites, challenges,
 * prekey bundles, KeyPackages, a room with members, GroupInfo, conversations, messages and
 * deliveries). Tenant A's devices call every endpoint with B's ids and get 404 (or nothing done);
 * B's state is unchanged afterwards; and as the relay's database role with A's tenant set, every
 * tenant table holds 0 rows of B.
 */
@ExtendWith(TestRelayExtension.class)
class TenantIsolationTest {
  static TestRelay relay;
  static Http http;

  /** What one tenant has, by id. */
  record World(Fixtures.Owner owner, Fixtures.Device a1, String t1, Fixtures.Device a2, String t2,
      String roomId, String conversationId, String inviteId, List<Long> messageIds) {}

  static World a;
  static World b;

  @BeforeAll
  static void start() throws Exception {
    http = new Http(relay);
    a = populate();
    b = populate();
  }

  static World populate() throws Exception {
    Fixtures.Owner owner = Fixtures.bootstrapOwner(relay);
    Fixtures.Device a1 = Fixtures.approvedAgent(relay, owner, "agent-1");
    Fixtures.Device a2 = Fixtures.approvedAgent(relay, owner, "agent-2");
    String t1 = Fixtures.login(relay, a1);
    String t2 = Fixtures.login(relay, a2);
    try (Sessions s = Sessions.builder(a2.identity()).build()) {
      ObjectNode up = Http.json();
      up.putArray("bundles").add(JsonBody.b64(s.bundle().toBytes())).add(JsonBody.b64(s.bundle().toBytes()));
      up.put("fallback", JsonBody.b64(s.bundleWithoutOneTimePreKey().toBytes()));
      assertThat(http.post("/api/v1/keys/prekey-bundles", up, t2).status()).isEqualTo(200);
    }
    ObjectNode kp = Http.json();
    kp.putArray("key_packages").add(JsonBody.b64(new byte[] {1, 2, 3})).add(JsonBody.b64(new byte[] {4, 5}));
    kp.put("last_resort", JsonBody.b64(new byte[] {9}));
    assertThat(http.post("/api/v1/keys/key-packages", kp, t2).status()).isEqualTo(200);
    Http.Response inv = http.post("/api/v1/invites", Http.json().put("role", "agent"), owner.token());
    // an outstanding login challenge
    http.post("/api/v1/auth/challenge", Http.json().put("tenant_id", a1.tenant().toString())
        .put("device_id", a1.id().toString()), null);
    Http.Response room = http.post("/api/v1/rooms", Http.json().put("name", "ops")
        .set("members", Http.json().arrayNode().add(a2.id().toString())), t1);
    assertThat(room.status()).as(room.raw()).isEqualTo(201);
    String roomId = room.body().path("room_id").asText();
    assertThat(http.post("/api/v1/rooms/" + roomId + "/join", null, t2).status()).isEqualTo(200);
    assertThat(http.put("/api/v1/rooms/" + roomId + "/group-info",
        Http.json().put("epoch", 0).put("group_info", JsonBody.b64(new byte[] {7})), t1).status()).isEqualTo(200);
    Http.Response conv = http.post("/api/v1/conversations", Http.json().put("peer_device_id", a2.id().toString()), t1);
    assertThat(conv.status()).isIn(200, 201);
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Http.Response m = http.post("/api/v1/messages", Http.json().put("room_id", roomId)
          .put("message_type", "application").put("content_type", "application/octet-stream")
          .put("client_message_id", "c" + i).put("payload", JsonBody.b64(new byte[] {(byte) i})), t1);
      assertThat(m.status()).as(m.raw()).isEqualTo(201);
      ids.add(m.body().path("message_id").asLong());
    }
    return new World(owner, a1, t1, a2, t2, roomId, conv.body().path("conversation_id").asText(),
        inv.body().path("invite_id").asText(), ids);
  }

  @Test
  void everyEndpointWithAnotherTenantsIdsAnswers404AndChangesNothing() {
    Map<String, Http.Response> calls = new LinkedHashMap<>();
    String ot = a.owner().token();
    String dev = "/api/v1/devices/" + b.a2().id();
    calls.put("GET device", http.get(dev, ot));
    calls.put("approve", http.post(dev + "/approve", Http.json().put("fingerprint",
        b.a2().identity().fingerprint().full()), ot));
    calls.put("suspend", http.post(dev + "/suspend", null, ot));
    calls.put("resume", http.post(dev + "/resume", null, ot));
    calls.put("revoke", http.post(dev + "/revoke", null, ot));
    calls.put("trust-tier", http.put(dev + "/trust-tier", Http.json().put("trust_tier", 0), ot));
    calls.put("prekey-bundle", http.get(dev + "/prekey-bundle", a.t1()));
    calls.put("key-package", http.get(dev + "/key-package", a.t1()));
    calls.put("revoke invite", http.delete("/api/v1/invites/" + b.inviteId(), ot));
    String room = "/api/v1/rooms/" + b.roomId();
    calls.put("GET room", http.get(room, a.t1()));
    calls.put("invite to room", http.post(room + "/invite", Http.json().put("device_id", a.a2().id().toString()), a.t1()));
    calls.put("join room", http.post(room + "/join", null, a.t1()));
    calls.put("leave room", http.post(room + "/leave", null, a.t1()));
    calls.put("remove from room", http.post(room + "/remove", Http.json().put("device_id", b.a2().id().toString()), a.t1()));
    calls.put("rekey", http.post(room + "/rekey", Http.json(), a.t1()));
    calls.put("GET group-info", http.get(room + "/group-info", a.t1()));
    calls.put("PUT group-info", http.put(room + "/group-info",
        Http.json().put("epoch", 5).put("group_info", JsonBody.b64(new byte[] {1})), a.t1()));
    calls.put("conversation with B's device", http.post("/api/v1/conversations",
        Http.json().put("peer_device_id", b.a2().id().toString()), a.t1()));
    calls.put("send to B's room", http.post("/api/v1/messages", Http.json().put("room_id", b.roomId())
        .put("message_type", "application").put("content_type", "x").put("client_message_id", "evil")
        .put("payload", JsonBody.b64(new byte[] {1})), a.t1()));
    calls.put("send to B's conversation", http.post("/api/v1/messages", Http.json()
        .put("conversation_id", b.conversationId()).put("message_type", "application").put("content_type", "x")
        .put("client_message_id", "evil2").put("payload", JsonBody.b64(new byte[] {1})), a.t1()));
    calls.forEach((what, r) -> assertThat(r.status()).as(what + ": " + r.raw()).isEqualTo(404));

    // acknowledging B's message ids as A's device acknowledges nothing
    ObjectNode ack = Http.json();
    b.messageIds().forEach(ack.putArray("message_ids")::add);
    Http.Response acked = http.post("/api/v1/messages/ack", ack, a.t2());
    assertThat(acked.status()).isEqualTo(200);
    assertThat(acked.body().path("acknowledged").asInt()).isZero();

    // A's listings show nothing of B
    assertThat(http.get("/api/v1/devices", ot).raw()).doesNotContain(b.a1().id().toString(), b.a2().id().toString());
    assertThat(http.get("/api/v1/rooms", a.t1()).raw()).doesNotContain(b.roomId());
    assertThat(http.get("/api/v1/invites", ot).raw()).doesNotContain(b.inviteId());

    // B is untouched: its agent still has its 3 pending messages, its room and its state
    JsonNode pending = http.get("/api/v1/messages?limit=100", b.t2()).body().path("messages");
    List<Long> ids = new ArrayList<>();
    pending.forEach(m -> ids.add(m.path("message_id").asLong()));
    assertThat(ids).containsAll(b.messageIds());
    assertThat(http.get("/api/v1/devices/me", b.t2()).body().path("state").asText()).isEqualTo("ACTIVE");
    assertThat(http.get("/api/v1/rooms/" + b.roomId(), b.t1()).body().path("members")).hasSize(2);
  }

  @Test
  void asTheRelaysRoleWithTenantASetEveryTableHoldsZeroRowsOfB() throws Exception {
    List<String> tables = new ArrayList<>();
    relay.database().asAdmin(null, c -> {
      try (ResultSet rs = c.createStatement().executeQuery(
          "select table_name from information_schema.columns where table_schema = 'public'"
              + " and column_name = 'tenant_id' order by 1")) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
      return null;
    });
    assertThat(tables).contains("devices", "invites", "auth_challenges", "prekey_bundles", "key_packages", "rooms",
        "room_members", "conversations", "messages", "deliveries");
    try (Connection c = relay.database().rawAppConnection()) {
      try (PreparedStatement p = c.prepareStatement("select set_config('app.current_tenant_id', ?, true)")) {
        p.setString(1, a.owner().tenant().toString());
        p.execute();
      }
      for (String t : tables) {
        long ofB = count(c, "select count(*) from " + t + " where tenant_id = ?", b.owner().tenant());
        long all = count(c, "select count(*) from " + t, null);
        long ofA = count(c, "select count(*) from " + t + " where tenant_id = ?", a.owner().tenant());
        assertThat(ofB).as("rows of B in " + t).isZero();
        assertThat(all).as("every visible row of " + t + " is A's").isEqualTo(ofA);
      }
      // and the tables that tenant B populated are populated (so 0 means hidden, not empty)
      assertThat(count(c, "select count(*) from messages", null)).isPositive();
      c.rollback();
    }
    relay.database().asAdmin(b.owner().tenant(), c -> {
      assertThat(count(c, "select count(*) from messages where tenant_id = ?", b.owner().tenant())).isPositive();
      assertThat(count(c, "select count(*) from prekey_bundles where tenant_id = ?", b.owner().tenant())).isPositive();
      return null;
    });
  }

  private static long count(Connection c, String sql, UUID tenant) throws java.sql.SQLException {
    try (PreparedStatement p = c.prepareStatement(sql)) {
      if (tenant != null) {
        p.setObject(1, tenant);
      }
      ResultSet rs = p.executeQuery();
      rs.next();
      return rs.getLong(1);
    }
  }
}
