package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.relay.Agents.Agent;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Messages: store and forward, offline retrieval, ACK, idempotency, the MLS delivery service, push. */
@ExtendWith(TestRelayExtension.class)
class MessagesTest {
  static TestRelay relay;
  static Http http;

  @BeforeAll
  static void start() {
    http = new Http(relay);
  }

  /** A room of {@code owner} with {@code joined} members who joined and {@code invited} who did not. */
  static String room(Agent owner, String mode, List<Agent> joined, List<Agent> invited) {
    var members = Http.json().arrayNode();
    joined.forEach(a -> members.add(a.id().toString()));
    invited.forEach(a -> members.add(a.id().toString()));
    Http.Response r = http.post("/api/v1/rooms", Http.json().put("name", "room").put("mode", mode).set("members", members),
        owner.token());
    assertThat(r.status()).as(r.raw()).isEqualTo(201);
    String id = r.body().path("room_id").asText();
    for (Agent a : joined) {
      assertThat(http.post("/api/v1/rooms/" + id + "/join", null, a.token()).status()).isEqualTo(200);
    }
    return id;
  }

  static ObjectNode msg(String roomId, String type, String clientId, String payload) {
    return Http.json().put("room_id", roomId).put("message_type", type).put("content_type", "application/octet-stream")
        .put("client_message_id", clientId).put("payload", JsonBody.b64(payload.getBytes(StandardCharsets.UTF_8)));
  }

  static Http.Response send(Agent from, ObjectNode m) {
    return http.post("/api/v1/messages", m, from.token());
  }

  /**
   * Schema V5 dropped messages' foreign key to rooms: a send batch must still never store a message
   * into a room that is being deleted. Its read of the room (FOR KEY SHARE) waits for the deleting
   * transaction; once that commits the room is gone, the send is refused and nothing is stored.
   * Without that lock the send would read the room as it was, store the message and answer at once.
   */
  @Test
  void aSendWaitsForARoomBeingDeletedAndStoresNothingInIt() throws Exception {
    UUID tenant = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, tenant);
    Agent bob = Agents.agent(relay, tenant);
    String roomId = room(alice, "plaintext", List.of(alice, bob), List.of());
    assertThat(send(alice, msg(roomId, "text", "before", "warm the recipient cache")).status()).isEqualTo(201);
    var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      List<Future<Http.Response>> sent = new ArrayList<>();
      relay.database().asAdmin(tenant, c -> {
        try (java.sql.PreparedStatement p = c.prepareStatement("delete from rooms where id = ?")) {
          p.setObject(1, UUID.fromString(roomId));
          assertThat(p.executeUpdate()).isEqualTo(1);
        }
        sent.add(pool.submit(() -> send(alice, msg(roomId, "text", "during", "into a room being deleted"))));
        assertThatThrownBy(() -> sent.get(0).get(700, TimeUnit.MILLISECONDS))
            .isInstanceOf(java.util.concurrent.TimeoutException.class);
        return null; // commits the deletion
      });
      Http.Response r = sent.get(0).get(10, TimeUnit.SECONDS);
      assertThat(r.status()).as(r.raw()).isEqualTo(404);
      long stored = relay.database().asAdmin(tenant, c -> {
        try (java.sql.PreparedStatement p = c.prepareStatement(
            "select count(*) from messages where room_id = ? or client_message_id = 'during'")) {
          p.setObject(1, UUID.fromString(roomId));
          java.sql.ResultSet rs = p.executeQuery();
          rs.next();
          return rs.getLong(1);
        }
      });
      assertThat(stored).isZero();
    } finally {
      pool.shutdownNow();
    }
  }

  /** Every pending non-event message of {@code a}, paged by cursor with {@code page}, not acknowledged. */
  static List<JsonNode> fetchAll(Agent a, int page) {
    List<JsonNode> out = new ArrayList<>();
    String cursor = "0";
    while (true) {
      Http.Response r = http.get("/api/v1/messages?after=" + cursor + "&limit=" + page, a.token());
      assertThat(r.status()).as(r.raw()).isEqualTo(200);
      JsonNode ms = r.body().path("messages");
      ms.forEach(m -> {
        if (!m.path("message_type").asText().equals("event")) {
          out.add(m);
        }
      });
      if (ms.size() < page) {
        return out;
      }
      cursor = r.body().path("next_cursor").asText();
    }
  }

  static String text(JsonNode m) {
    return new String(Base64.getDecoder().decode(m.path("payload").asText()), StandardCharsets.UTF_8);
  }

  static int ackAll(Agent a) {
    var ids = Http.json().arrayNode();
    Http.Response r = http.get("/api/v1/messages?limit=1000", a.token());
    r.body().path("messages").forEach(m -> ids.add(m.path("message_id").asLong()));
    return http.post("/api/v1/messages/ack", Http.json().set("message_ids", ids), a.token()).body()
        .path("acknowledged").asInt();
  }

  @Test
  void roomMessagesReachEveryOtherJoinedMemberOnceInOrderAndNotAgainAfterAck() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    Agent carol = Agents.agent(relay, t);
    Agent dave = Agents.agent(relay, t);
    String room = room(alice, "encrypted", List.of(bob, carol), List.of(dave));
    ackAll(alice);
    ackAll(bob);
    ackAll(carol);
    ackAll(dave);
    for (int i = 0; i < 25; i++) {
      Agent from = i % 2 == 0 ? alice : bob;
      Http.Response r = send(from, msg(room, "mls_application", "c-" + i, "m" + i));
      assertThat(r.status()).as(r.raw()).isEqualTo(201);
      assertThat(r.body().path("duplicate").asBoolean()).isFalse();
    }
    List<JsonNode> atCarol = fetchAll(carol, 7);
    assertThat(atCarol).extracting(MessagesTest::text)
        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 25).mapToObj(i -> "m" + i).toList());
    assertThat(atCarol.get(0).path("room_id").asText()).isEqualTo(room);
    assertThat(atCarol.get(0).path("sender_device_id").asText()).isEqualTo(alice.id().toString());
    assertThat(atCarol.get(0).path("client_message_id").asText()).isEqualTo("c-0");
    // the sender never receives its own messages; an invited member none
    assertThat(fetchAll(alice, 100)).extracting(MessagesTest::text).hasSize(12).allMatch(s -> Integer.parseInt(s.substring(1)) % 2 == 1);
    assertThat(fetchAll(bob, 100)).hasSize(13);
    assertThat(fetchAll(dave, 100)).isEmpty();
    // fetching again without ACK returns the same; after ACK nothing
    assertThat(fetchAll(carol, 100)).hasSize(25);
    var ids = Http.json().arrayNode();
    atCarol.subList(0, 10).forEach(m -> ids.add(m.path("message_id").asLong()));
    Http.Response ack = http.post("/api/v1/messages/ack", Http.json().set("message_ids", ids), carol.token());
    assertThat(ack.body().path("acknowledged").asInt()).isEqualTo(10);
    assertThat(http.post("/api/v1/messages/ack", Http.json().set("message_ids", ids), carol.token()).body()
        .path("acknowledged").asInt()).isZero();
    assertThat(fetchAll(carol, 100)).extracting(MessagesTest::text).first().isEqualTo("m10");
    assertThat(ackAll(carol)).isEqualTo(15);
    assertThat(fetchAll(carol, 100)).isEmpty();
  }

  @Test
  void aResentMessageIsStoredOnce() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    Http.Response conv = http.post("/api/v1/conversations", Http.json().put("peer_device_id", bob.id().toString()),
        alice.token());
    ObjectNode m = Http.json().put("conversation_id", conv.body().path("conversation_id").asText())
        .put("message_type", "ratchet").put("content_type", "application/octet-stream")
        .put("client_message_id", "same").put("payload", "AQID");
    Http.Response first = http.post("/api/v1/messages", m, alice.token());
    assertThat(first.status()).isEqualTo(201);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<Http.Response>> fs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      fs.add(pool.submit(() -> http.post("/api/v1/messages", m, alice.token())));
    }
    for (Future<Http.Response> f : fs) {
      Http.Response again = f.get();
      assertThat(again.status()).isEqualTo(200);
      assertThat(again.body().path("duplicate").asBoolean()).isTrue();
      assertThat(again.body().path("message_id").asLong()).isEqualTo(first.body().path("message_id").asLong());
    }
    pool.shutdown();
    List<JsonNode> atBob = fetchAll(bob, 100);
    assertThat(atBob).hasSize(1);
    assertThat(atBob.get(0).path("conversation_id").asText()).isEqualTo(conv.body().path("conversation_id").asText());
    assertThat(atBob.get(0).path("room_id").isNull()).isTrue();
    // a stranger is not in the conversation
    Agent carol = Agents.agent(relay, t);
    assertThat(http.post("/api/v1/messages", m.put("client_message_id", "x"), carol.token()).status()).isEqualTo(404);
  }

  /**
   * Batched sends to a room whose recipients the relay has cached: after a commit moved the epoch
   * (through the non-batched path, which does not touch that cache), a send with the old epoch is
   * refused with the current one and a send with the new epoch is stored (the batch reads the
   * room's epoch in its own transaction).
   */
  @Test
  void aBatchedSendWithTheEpochBeforeACommitIsRefusedWithTheCurrentOne() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    String room = room(alice, "encrypted", List.of(bob), List.of());
    assertThat(send(bob, msg(room, "mls_application", "warm-1", "x").put("epoch", 0)).status()).isEqualTo(201);
    assertThat(send(bob, msg(room, "mls_application", "warm-2", "x").put("epoch", 0)).status()).isEqualTo(201);
    assertThat(send(alice, msg(room, "mls_commit", "commit-0", "c").put("epoch", 0)).status()).isEqualTo(201);
    Http.Response stale = send(bob, msg(room, "mls_application", "stale", "x").put("epoch", 0));
    assertThat(stale.status()).as(stale.raw()).isEqualTo(409);
    assertThat(stale.body().path("current_epoch").asLong()).isEqualTo(1);
    assertThat(send(bob, msg(room, "mls_application", "fresh", "x").put("epoch", 1)).status()).isEqualTo(201);
    assertThat(send(bob, msg(room, "mls_application", "fresh-2", "x").put("epoch", 1)).status()).isEqualTo(201);
    List<JsonNode> got = fetchAll(alice, 100);
    assertThat(got).extracting(m -> m.path("client_message_id").asText())
        .containsExactly("warm-1", "warm-2", "fresh", "fresh-2");
  }

  @Test
  void theDeliveryServiceAcceptsExactlyOneCommitPerEpoch() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    Agent carol = Agents.agent(relay, t);
    String room = room(alice, "encrypted", List.of(bob, carol), List.of());
    ackAll(carol);
    for (int round = 0; round < 5; round++) {
      final long epoch = round;
      final int r0 = round;
      ExecutorService pool = Executors.newFixedThreadPool(2);
      CountDownLatch go = new CountDownLatch(1);
      Future<Http.Response> a = pool.submit(() -> {
        go.await();
        return send(alice, msg(room, "mls_commit", "a-" + r0, "commit-a-" + r0).put("epoch", epoch));
      });
      Future<Http.Response> b = pool.submit(() -> {
        go.await();
        return send(bob, msg(room, "mls_commit", "b-" + r0, "commit-b-" + r0).put("epoch", epoch));
      });
      go.countDown();
      List<Integer> statuses = List.of(a.get().status(), b.get().status());
      pool.shutdown();
      assertThat(statuses).containsExactlyInAnyOrder(201, 409);
      Http.Response lost = a.get().status() == 409 ? a.get() : b.get();
      assertThat(lost.detail()).isEqualTo("epoch conflict");
      assertThat(lost.body().path("current_epoch").asLong()).isEqualTo(epoch + 1);
    }
    assertThat(http.get("/api/v1/rooms/" + room, alice.token()).body().path("epoch").asLong()).isEqualTo(5);
    // carol saw exactly one commit per epoch, in epoch order
    List<JsonNode> commits = fetchAll(carol, 100);
    assertThat(commits).extracting(m -> m.path("epoch").asLong()).containsExactly(0L, 1L, 2L, 3L, 4L);
    // a stale proposal or application message is refused too; the current epoch is accepted
    Http.Response p = send(bob, msg(room, "mls_proposal", "p-old", "x").put("epoch", 3));
    assertThat(p.status()).isEqualTo(409);
    assertThat(p.body().path("current_epoch").asLong()).isEqualTo(5);
    assertThat(send(bob, msg(room, "mls_application", "app-old", "x").put("epoch", 4)).status()).isEqualTo(409);
    assertThat(send(bob, msg(room, "mls_proposal", "p-new", "x").put("epoch", 5)).status()).isEqualTo(201);
    assertThat(send(bob, msg(room, "mls_commit", "c-new", "x").put("epoch", 5)).status()).isEqualTo(201);
    // the resend of an accepted commit is a duplicate, not a conflict
    Http.Response again = send(bob, msg(room, "mls_commit", "c-new", "x").put("epoch", 5));
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.body().path("duplicate").asBoolean()).isTrue();
    assertThat(send(bob, msg(room, "mls_commit", "no-epoch", "x")).detail()).isEqualTo("missing field: epoch");
  }

  @Test
  void aWelcomeGoesOnlyToItsListedRecipients() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    Agent carol = Agents.agent(relay, t);
    Agent dave = Agents.agent(relay, t);
    Agent stranger = Agents.agent(relay, t);
    String room = room(alice, "encrypted", List.of(bob), List.of(carol, dave));
    ObjectNode w = msg(room, "mls_welcome", "w1", "welcome");
    w.putArray("recipients").add(carol.id().toString());
    assertThat(send(alice, w).status()).isEqualTo(201);
    assertThat(fetchAll(carol, 100)).extracting(MessagesTest::text).containsExactly("welcome");
    assertThat(fetchAll(dave, 100)).isEmpty();
    assertThat(fetchAll(bob, 100)).isEmpty();
    ObjectNode bad = msg(room, "mls_welcome", "w2", "welcome");
    bad.putArray("recipients").add(stranger.id().toString());
    Http.Response r = send(alice, bad);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.detail()).isEqualTo("recipients must be other members of the room");
    ObjectNode none = msg(room, "text", "w3", "x");
    none.putArray("recipients").add(carol.id().toString());
    assertThat(send(alice, none).detail()).isEqualTo("field recipients is only for mls_welcome");
    assertThat(fetchAll(stranger, 100)).isEmpty();
    // an invited member must join before sending
    assertThat(send(carol, msg(room, "text", "c1", "x")).status()).isEqualTo(403);
  }

  @Test
  void plaintextRoomsStoreTheBodyInThePayloadAndHaveNoMlsGroup() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    String room = room(alice, "plaintext", List.of(bob), List.of());
    assertThat(send(alice, msg(room, "text", "1", "hello in the clear").put("content_type", "text/plain")).status())
        .isEqualTo(201);
    List<JsonNode> got = fetchAll(bob, 10);
    assertThat(got).extracting(MessagesTest::text).containsExactly("hello in the clear");
    assertThat(got.get(0).path("content_type").asText()).isEqualTo("text/plain");
    assertThat(send(alice, msg(room, "mls_commit", "2", "x").put("epoch", 0)).status()).isEqualTo(400);
  }

  @Test
  void malformedOversizedUnknownAndWrongTypedRequestsAreClear4xxAndTheServerSurvives() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t, "owner");
    Agent bob = Agents.agent(relay, t);
    String room = room(alice, "encrypted", List.of(bob), List.of());
    String tok = alice.token();
    Http.Response r = http.postRaw("/api/v1/messages", "{\"room_id\": ", tok);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.detail()).isEqualTo("malformed JSON");
    assertThat(http.postRaw("/api/v1/messages", "[1,2]", tok).detail()).isEqualTo("expected a JSON object");
    assertThat(http.postRaw("/api/v1/messages", "", tok).status()).isEqualTo(400);
    assertThat(send(alice, msg(room, "text", "u", "x").put("color", "red")).detail()).isEqualTo("unknown field: color");
    assertThat(send(alice, msg(room, "text", "w", "x").put("epoch", "one")).detail()).isEqualTo("field epoch must be an integer");
    assertThat(send(alice, msg(room, "text", "w", "x").put("payload", 12)).detail()).isEqualTo("field payload must be a string");
    assertThat(send(alice, msg(room, "text", "w", "x").put("payload", "***")).detail()).isEqualTo("field payload must be base64");
    assertThat(send(alice, msg(room, "text", "w", "x").put("room_id", "123")).detail()).isEqualTo("room_id must be a UUID");
    assertThat(send(alice, msg(room, "event", "w", "x")).status()).isEqualTo(400);
    assertThat(send(alice, msg(room, "Bad Type", "w", "x")).status()).isEqualTo(400);
    assertThat(send(alice, msg(room, "text", "w", "x").put("conversation_id", UUID.randomUUID().toString())).detail())
        .isEqualTo("exactly one of room_id, conversation_id is required");
    // oversized payload field and oversized body
    byte[] big = new byte[relay.config().maxPayloadBytes() + 1];
    assertThat(send(alice, msg(room, "text", "big", "x").put("payload", JsonBody.b64(big))).status()).isEqualTo(413);
    String huge = "{\"room_id\":\"" + room + "\",\"payload\":\"" + "A".repeat((int) relay.config().maxBodyBytes() + 10) + "\"}";
    assertThat(http.postRaw("/api/v1/messages", huge, tok).status()).isEqualTo(413);
    // fetch and ack
    assertThat(http.get("/api/v1/messages?after=abc", tok).status()).isEqualTo(400);
    assertThat(http.get("/api/v1/messages?limit=0", tok).status()).isEqualTo(400);
    assertThat(http.get("/api/v1/messages?limit=100000", tok).status()).isEqualTo(400);
    assertThat(http.post("/api/v1/messages/ack", Http.json().put("message_ids", "1"), tok).detail())
        .isEqualTo("field message_ids must be an array");
    assertThat(http.post("/api/v1/messages/ack", Http.json().set("message_ids", Http.json().arrayNode().add("x")), tok)
        .detail()).isEqualTo("field message_ids[0] must be an integer");
    assertThat(http.post("/api/v1/messages/ack", Http.json(), tok).detail()).isEqualTo("missing field: message_ids");
    // nothing of it was stored; the server still answers
    assertThat(fetchAll(bob, 100)).isEmpty();
    assertThat(http.get("/health", null).status()).isEqualTo(200);
    assertThat(send(alice, msg(room, "text", "ok", "fine")).status()).isEqualTo(201);
  }

  @Test
  void aDeviceOfAnotherTenantCanNeitherSeeNorTouchMessages() throws Exception {
    UUID ta = Fixtures.tenant(relay);
    UUID tb = Fixtures.tenant(relay);
    Agent eve = Agents.agent(relay, ta, "owner");
    Agent alice = Agents.agent(relay, tb, "owner");
    Agent bob = Agents.agent(relay, tb);
    String room = room(alice, "encrypted", List.of(bob), List.of());
    String conv = http.post("/api/v1/conversations", Http.json().put("peer_device_id", bob.id().toString()),
        alice.token()).body().path("conversation_id").asText();
    long id = send(alice, msg(room, "text", "1", "for bob")).body().path("message_id").asLong();
    assertThat(send(eve, msg(room, "text", "e1", "x")).status()).isEqualTo(404);
    ObjectNode m = msg(room, "text", "e2", "x");
    m.remove("room_id");
    m.put("conversation_id", conv);
    assertThat(send(eve, m).status()).isEqualTo(404);
    ObjectNode w = msg(room, "mls_welcome", "e3", "x");
    w.putArray("recipients").add(bob.id().toString());
    assertThat(send(eve, w).status()).isEqualTo(404);
    assertThat(http.get("/api/v1/messages", eve.token()).body().path("messages")).isEmpty();
    assertThat(http.post("/api/v1/messages/ack", Http.json().set("message_ids", Http.json().arrayNode().add(id)),
        eve.token()).body().path("acknowledged").asInt()).isZero();
    // the same client message id in another tenant is another message
    assertThat(fetchAll(bob, 100)).extracting(MessagesTest::text).containsExactly("for bob");
  }

  @Test
  void aWebhookReceivesMetadataOnlyNeverContent() throws Exception {
    List<String> bodies = new CopyOnWriteArrayList<>();
    CountDownLatch got = new CountDownLatch(2);
    HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hook.createContext("/hook", ex -> {
      bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)
          + " " + ex.getRequestHeaders().entrySet());
      ex.sendResponseHeaders(204, -1);
      ex.close();
      got.countDown();
    });
    hook.start();
    try {
      UUID t = Fixtures.tenant(relay);
      Agent alice = Agents.agent(relay, t, "owner");
      Agent bob = Agents.agent(relay, t);
      Agents.set(relay, bob, "webhook_url", "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook");
      String room = room(alice, "encrypted", List.of(bob), List.of());
      String canary = "CANARY-" + UUID.randomUUID();
      long id = send(alice, msg(room, "text", "1", canary)).body().path("message_id").asLong();
      String conv = http.post("/api/v1/conversations", Http.json().put("peer_device_id", bob.id().toString()),
          alice.token()).body().path("conversation_id").asText();
      ObjectNode m = msg(room, "text", "2", canary);
      m.remove("room_id");
      m.put("conversation_id", conv);
      long id2 = send(alice, m).body().path("message_id").asLong();
      assertThat(got.await(10, TimeUnit.SECONDS)).isTrue();
      String b64 = JsonBody.b64(canary.getBytes(StandardCharsets.UTF_8));
      for (String b : bodies) {
        assertThat(b).doesNotContain(canary).doesNotContain(b64).doesNotContain("payload")
            .contains("\"sender_name\":\"owner-" + alice.id().toString().substring(0, 8) + "\"");
      }
      assertThat(String.join("\n", bodies)).contains("\"room_id\":\"" + room + "\"").contains("\"message_id\":" + id)
          .contains("\"conversation_id\":\"" + conv + "\"").contains("\"message_id\":" + id2);
    } finally {
      hook.stop(0);
    }
  }
}
