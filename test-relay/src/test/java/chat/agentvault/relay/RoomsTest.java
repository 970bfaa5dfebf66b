package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.relay.Agents.Agent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Rooms and conversations: metadata, membership lifecycle and its events, tenant isolation. */
@ExtendWith(TestRelayExtension.class)
class RoomsTest {
  static TestRelay relay;
  static Http http;

  @BeforeAll
  static void start() {
    http = new Http(relay);
  }

  static JsonNode create(Agent owner, ObjectNode body) {
    Http.Response r = http.post("/api/v1/rooms", body, owner.token());
    assertThat(r.status()).as(r.raw()).isEqualTo(201);
    return r.body();
  }

  /** The relay events pending for {@code a} (acknowledged, so each is seen once). */
  static List<JsonNode> events(Agent a) {
    Http.Response r = http.get("/api/v1/messages?limit=1000", a.token());
    assertThat(r.status()).isEqualTo(200);
    List<JsonNode> out = new ArrayList<>();
    var ack = Http.json();
    var ids = ack.putArray("message_ids");
    for (JsonNode m : r.body().path("messages")) {
      ids.add(m.path("message_id").asLong());
      if (m.path("message_type").asText().equals("event")) {
        assertThat(m.path("content_type").asText()).isEqualTo("application/vnd.agentvault.event+json");
        try {
          out.add(Http.json().objectNode().setAll((ObjectNode) chat.agentvault.relay.http.JsonBody.MAPPER.readTree(
              new String(Base64.getDecoder().decode(m.path("payload").asText()), StandardCharsets.UTF_8))));
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }
    }
    http.post("/api/v1/messages/ack", ack, a.token());
    return out;
  }

  static List<String> names(List<JsonNode> events) {
    return events.stream().map(e -> e.path("event").asText()).toList();
  }

  @Test
  void aRoomCarriesTheSeedMetadataAndOnlyMembersSeeIt() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent owner = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    Agent carol = Agents.agent(relay, t);
    Agent dave = Agents.agent(relay, t);
    Agents.set(relay, carol, "hub_address", "carol@hub.example");
    JsonNode room = create(owner, Http.json().put("name", "Project Alpha").put("min_trust_tier", 0)
        .set("members", Http.json().arrayNode().add(bob.id().toString()).add("carol@hub.example")));
    assertThat(room.path("name").asText()).isEqualTo("Project Alpha");
    assertThat(room.path("mode").asText()).isEqualTo("encrypted");
    assertThat(room.path("min_trust_tier").asInt()).isZero();
    assertThat(room.path("created_by").asText()).isEqualTo(owner.id().toString());
    assertThat(room.path("created_at").asText()).endsWith("Z");
    assertThat(room.path("epoch").asLong()).isZero();
    assertThat(room.path("conversations")).hasSize(1);
    assertThat(room.path("members")).hasSize(3);
    assertThat(room.path("members").get(0).path("device_id").asText()).isEqualTo(owner.id().toString());
    assertThat(room.path("members").get(0).path("role").asText()).isEqualTo("owner");
    assertThat(room.path("members").get(0).path("status").asText()).isEqualTo("joined");
    List<String> invited = new ArrayList<>();
    room.path("members").forEach(m -> {
      if (m.path("status").asText().equals("invited")) {
        assertThat(m.path("role").asText()).isEqualTo("member");
        invited.add(m.path("device_id").asText());
      }
    });
    assertThat(invited).containsExactlyInAnyOrder(bob.id().toString(), carol.id().toString());
    String id = room.path("room_id").asText();

    assertThat(http.get("/api/v1/rooms/" + id, bob.token()).body()).isEqualTo(room);
    assertThat(http.get("/api/v1/rooms/" + id, dave.token()).status()).isEqualTo(404);
    assertThat(http.get("/api/v1/rooms", dave.token()).body().path("rooms")).isEmpty();
    assertThat(http.get("/api/v1/rooms", carol.token()).body().path("rooms")).hasSize(1);
    assertThat(names(events(bob))).containsExactly("member_invited");

    JsonNode plain = create(owner, Http.json().put("name", "Lobby").put("mode", "plaintext"));
    assertThat(plain.path("mode").asText()).isEqualTo("plaintext");
    assertThat(http.get("/api/v1/rooms", owner.token()).body().path("rooms")).hasSize(2);
    // the mode is fixed at creation: no endpoint changes it
    String p = plain.path("room_id").asText();
    assertThat(http.patch("/api/v1/rooms/" + p, Http.json().put("mode", "encrypted"), owner.token()).status())
        .isIn(404, 405);
    assertThat(http.put("/api/v1/rooms/" + p, Http.json().put("mode", "encrypted"), owner.token()).status())
        .isIn(404, 405);
    assertThat(http.post("/api/v1/rooms/" + p + "/rekey", Http.json().put("mode", "encrypted"), owner.token()).status())
        .isEqualTo(400);
    assertThat(http.get("/api/v1/rooms/" + p, owner.token()).body().path("mode").asText()).isEqualTo("plaintext");

    Http.Response bad = http.post("/api/v1/rooms", Http.json().put("name", "x").put("mode", "open"), owner.token());
    assertThat(bad.status()).isEqualTo(400);
    bad = http.post("/api/v1/rooms", Http.json().put("name", 5), owner.token());
    assertThat(bad.detail()).isEqualTo("field name must be a string");
    bad = http.post("/api/v1/rooms", Http.json().put("name", "x").put("members", "y"), owner.token());
    assertThat(bad.detail()).isEqualTo("field members must be an array");
    bad = http.post("/api/v1/rooms", Http.json().put("name", "x")
        .set("members", Http.json().arrayNode().add("nobody@nowhere")), owner.token());
    assertThat(bad.status()).isEqualTo(404);
  }

  @Test
  void inviteJoinLeaveRemoveAndRekeyStoreEventsForTheMembers() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent owner = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    Agent carol = Agents.agent(relay, t);
    Agent dave = Agents.agent(relay, t);
    Agents.set(relay, dave, "hub_address", "dave@hub.example");
    String id = create(owner, Http.json().put("name", "r")).path("room_id").asText();
    String base = "/api/v1/rooms/" + id;

    assertThat(http.post(base + "/invite", Http.json().put("device_id", bob.id().toString()), owner.token()).status())
        .isEqualTo(200);
    assertThat(http.post(base + "/invite", Http.json().put("hub_address", "dave@hub.example"), owner.token()).status())
        .isEqualTo(200);
    Http.Response r = http.post(base + "/invite", Http.json().put("device_id", bob.id().toString()), owner.token());
    assertThat(r.status()).isEqualTo(409);
    // an invited member is not yet joined: may not invite, may not send
    r = http.post(base + "/invite", Http.json().put("device_id", carol.id().toString()), bob.token());
    assertThat(r.status()).isEqualTo(403);
    assertThat(http.post(base + "/join", null, bob.token()).status()).isEqualTo(200);
    assertThat(http.post(base + "/join", null, dave.token()).status()).isEqualTo(200);
    // an ordinary member may not invite
    r = http.post(base + "/invite", Http.json().put("device_id", carol.id().toString()), bob.token());
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.detail()).isEqualTo("room owner or admin required");
    // a stranger cannot join
    assertThat(http.post(base + "/join", null, carol.token()).status()).isEqualTo(404);

    assertThat(names(events(owner))).containsExactly("room_joined", "room_joined");
    List<JsonNode> bobs = events(bob);
    assertThat(names(bobs)).containsExactly("member_invited", "member_invited", "room_joined");
    events(dave);

    assertThat(http.post(base + "/rekey", Http.json().put("reason", "scheduled"), bob.token()).status()).isEqualTo(202);
    List<JsonNode> ownerEvents = events(owner);
    assertThat(names(ownerEvents)).containsExactly("rekey_requested");
    assertThat(ownerEvents.get(0).path("reason").asText()).isEqualTo("scheduled");
    assertThat(ownerEvents.get(0).path("room_id").asText()).isEqualTo(id);
    assertThat(names(events(dave))).containsExactly("rekey_requested");

    assertThat(http.post(base + "/remove", Http.json().put("device_id", owner.id().toString()), bob.token()).status())
        .isEqualTo(403);
    r = http.post(base + "/remove", Http.json().put("device_id", dave.id().toString()), owner.token());
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body().path("members")).hasSize(2);
    assertThat(names(events(dave))).containsExactly("member_removed");
    List<JsonNode> be = events(bob);
    assertThat(names(be)).containsExactly("member_removed", "rekey_requested");
    assertThat(be.get(0).path("device_id").asText()).isEqualTo(dave.id().toString());
    assertThat(http.get(base, dave.token()).status()).isEqualTo(404);

    assertThat(http.post(base + "/leave", null, bob.token()).status()).isEqualTo(204);
    assertThat(names(events(owner))).containsExactly("member_removed", "rekey_requested");
    assertThat(http.get(base, bob.token()).status()).isEqualTo(404);
    assertThat(http.get(base, owner.token()).body().path("members")).hasSize(1);
  }

  @Test
  void minTrustTierIsEnforcedOnInvite() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent owner = Agents.agent(relay, t, "owner");
    Agents.set(relay, owner, "trust_tier", 3);
    Agent low = Agents.agent(relay, t);
    Agent high = Agents.agent(relay, t);
    Agents.set(relay, high, "trust_tier", 2);
    String id = create(owner, Http.json().put("name", "vault").put("min_trust_tier", 2)).path("room_id").asText();
    Http.Response r = http.post("/api/v1/rooms/" + id + "/invite", Http.json().put("device_id", low.id().toString()),
        owner.token());
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.detail()).isEqualTo("device below min_trust_tier");
    r = http.post("/api/v1/rooms/" + id + "/invite", Http.json().put("device_id", high.id().toString()), owner.token());
    assertThat(r.status()).isEqualTo(200);
    r = http.post("/api/v1/rooms", Http.json().put("name", "x").put("min_trust_tier", 5), owner.token());
    assertThat(r.status()).isEqualTo(403);
  }

  @Test
  void groupInfoKeepsTheLatest() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent owner = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    String id = create(owner, Http.json().put("name", "r")
        .set("members", Http.json().arrayNode().add(bob.id().toString()))).path("room_id").asText();
    String gi = "/api/v1/rooms/" + id + "/group-info";
    assertThat(http.get(gi, bob.token()).status()).isEqualTo(404);
    assertThat(http.put(gi, Http.json().put("epoch", 1).put("group_info", "AQID"), owner.token()).status()).isEqualTo(200);
    assertThat(http.put(gi, Http.json().put("epoch", 2).put("group_info", "BAUG"), owner.token()).status()).isEqualTo(200);
    Http.Response stale = http.put(gi, Http.json().put("epoch", 1).put("group_info", "AQID"), owner.token());
    assertThat(stale.status()).isEqualTo(409);
    assertThat(stale.body().path("current_epoch").asLong()).isEqualTo(2);
    Http.Response r = http.get(gi, bob.token());
    assertThat(r.body().path("epoch").asLong()).isEqualTo(2);
    assertThat(r.body().path("group_info").asText()).isEqualTo("BAUG");
    // only joined members publish
    assertThat(http.put(gi, Http.json().put("epoch", 3).put("group_info", "AQID"), bob.token()).status()).isEqualTo(403);
  }

  @Test
  void oneConversationPerPair() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent a = Agents.agent(relay, t);
    Agent b = Agents.agent(relay, t);
    Http.Response r1 = http.post("/api/v1/conversations", Http.json().put("peer_device_id", b.id().toString()), a.token());
    assertThat(r1.status()).isEqualTo(201);
    Http.Response r2 = http.post("/api/v1/conversations", Http.json().put("peer_device_id", a.id().toString()), b.token());
    assertThat(r2.status()).isEqualTo(200);
    assertThat(r2.body().path("conversation_id")).isEqualTo(r1.body().path("conversation_id"));
    assertThat(http.post("/api/v1/conversations", Http.json().put("peer_device_id", a.id().toString()), a.token())
        .status()).isEqualTo(400);
  }

  @Test
  void anotherTenantCanNeitherSeeNorTouchARoom() throws Exception {
    UUID ta = Fixtures.tenant(relay);
    UUID tb = Fixtures.tenant(relay);
    Agent eve = Agents.agent(relay, ta, "owner");
    Agent owner = Agents.agent(relay, tb, "owner");
    Agent bob = Agents.agent(relay, tb);
    Agents.set(relay, bob, "hub_address", "bob@hub.example");
    String id = create(owner, Http.json().put("name", "secret")
        .set("members", Http.json().arrayNode().add(bob.id().toString()))).path("room_id").asText();
    String base = "/api/v1/rooms/" + id;
    assertThat(http.get(base, eve.token()).status()).isEqualTo(404);
    assertThat(http.post(base + "/join", null, eve.token()).status()).isEqualTo(404);
    assertThat(http.post(base + "/leave", null, eve.token()).status()).isEqualTo(404);
    assertThat(http.post(base + "/rekey", null, eve.token()).status()).isEqualTo(404);
    assertThat(http.post(base + "/invite", Http.json().put("device_id", eve.id().toString()), eve.token()).status())
        .isEqualTo(404);
    assertThat(http.post(base + "/remove", Http.json().put("device_id", bob.id().toString()), eve.token()).status())
        .isEqualTo(404);
    assertThat(http.get(base + "/group-info", eve.token()).status()).isEqualTo(404);
    assertThat(http.put(base + "/group-info", Http.json().put("epoch", 0).put("group_info", "AA=="), eve.token())
        .status()).isEqualTo(404);
    // B's devices are unknown to A: by id, by hub address, as a conversation peer
    String eveRoom = create(eve, Http.json().put("name", "mine")).path("room_id").asText();
    assertThat(http.post("/api/v1/rooms/" + eveRoom + "/invite", Http.json().put("device_id", bob.id().toString()),
        eve.token()).status()).isEqualTo(404);
    assertThat(http.post("/api/v1/rooms/" + eveRoom + "/invite", Http.json().put("hub_address", "bob@hub.example"),
        eve.token()).status()).isEqualTo(404);
    assertThat(http.post("/api/v1/rooms", Http.json().put("name", "x")
        .set("members", Http.json().arrayNode().add(bob.id().toString())), eve.token()).status()).isEqualTo(404);
    assertThat(http.post("/api/v1/conversations", Http.json().put("peer_device_id", bob.id().toString()),
        eve.token()).status()).isEqualTo(404);
    assertThat(http.get(base, bob.token()).body().path("members")).hasSize(2);
  }
}
