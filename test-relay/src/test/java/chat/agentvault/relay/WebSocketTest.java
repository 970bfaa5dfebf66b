package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.message.Store;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** /ws: authentication at upgrade, backlog then live, client frames, close codes. */
@ExtendWith(TestRelayExtension.class)
class WebSocketTest {
  static TestRelay relay;
  static UUID tenant;

  @BeforeAll
  static void start() {
    tenant = Fixtures.tenant(relay);
  }

  @Test
  void theUpgradeNeedsAValidTokenInTheHeaderOrTheQuery() throws Exception {
    Fixtures.Device d = Fixtures.active(relay, tenant, "agent");
    String token = Fixtures.login(relay, d);
    assertThatThrownBy(() -> WsClient.connect(relay, null))
        .isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(401));
    assertThatThrownBy(() -> WsClient.connect(relay, token + "x"))
        .isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(401));
    try (WsClient a = WsClient.connect(relay, token); WsClient b = WsClient.connect(relay.webSocketUrl(), token, true)) {
      a.send("{\"type\":\"ping\"}");
      b.send("{\"type\":\"ping\"}");
      assertThat(a.next(5).path("type").asText()).isEqualTo("pong");
      assertThat(b.next(5).path("type").asText()).isEqualTo("pong");
    }
    // a suspended device is refused at the upgrade like over HTTP
    relay.database().asAdmin(tenant, c -> {
      try (var p = c.prepareStatement("update devices set state = 'SUSPENDED' where id = ?")) {
        p.setObject(1, d.id());
        return p.executeUpdate();
      }
    });
    assertThatThrownBy(() -> WsClient.connect(relay, token))
        .isInstanceOfSatisfying(WsClient.Refused.class, r -> assertThat(r.status).isEqualTo(403));
  }

  @Test
  void backlogThenLiveInOrderWithoutDuplicatesOrGaps() throws Exception {
    Fixtures.Device sender = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device reader = Fixtures.active(relay, tenant, "agent");
    UUID room = RealtimeFixtures.room(relay, tenant, List.of(sender, reader));
    String token = Fixtures.login(relay, reader);
    List<Long> sent = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      sent.add(RealtimeFixtures.message(relay, sender, room, List.of(reader), "backlog " + i).id());
    }
    // more messages while the reader connects and reads its backlog
    CompletableFuture<List<Long>> during = CompletableFuture.supplyAsync(() -> {
      List<Long> ids = new ArrayList<>();
      try {
        for (int i = 0; i < 300; i++) {
          ids.add(RealtimeFixtures.message(relay, sender, room, List.of(reader), "live " + i).id());
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return ids;
    });
    try (WsClient ws = WsClient.connect(relay, token)) {
      sent.addAll(during.join());
      List<Long> got = new ArrayList<>();
      while (got.size() < sent.size()) {
        JsonNode f = ws.next(10);
        assertThat(f.path("type").asText()).isEqualTo("message");
        JsonNode m = f.path("message");
        assertThat(m.path("sender_device_id").asText()).isEqualTo(sender.id().toString());
        assertThat(m.path("room_id").asText()).isEqualTo(room.toString());
        got.add(m.path("message_id").asLong());
      }
      assertThat(got).isEqualTo(sent); // every one, once, in id order
      assertThat(ws.frames.poll(300, java.util.concurrent.TimeUnit.MILLISECONDS)).isNull();
      // and afterwards live only
      Store.Stored s = RealtimeFixtures.message(relay, sender, room, List.of(reader), "after");
      JsonNode f = ws.next(5);
      assertThat(f.path("message").path("message_id").asLong()).isEqualTo(s.id());
      assertThat(new String(Base64.getDecoder().decode(f.path("message").path("payload").asText()),
          StandardCharsets.UTF_8)).isEqualTo("after");
    }
  }

  /**
   * Sends pipelined over one socket form batches of several messages, each fanned out to more
   * sockets than {@link chat.agentvault.relay.ws.WebSocketEndpoint#PARALLEL_FLUSH_MIN}, so two
   * threads write the sockets of a batch: every reader still gets every message once, in id order,
   * and the sender one answer per send.
   */
  @Test
  void batchesWrittenToManySocketsByTwoThreadsArriveCompleteAndInOrder() throws Exception {
    int readers = chat.agentvault.relay.ws.WebSocketEndpoint.PARALLEL_FLUSH_MIN + 8;
    int messages = 120;
    Fixtures.Device sender = Fixtures.active(relay, tenant, "agent");
    List<Fixtures.Device> members = new ArrayList<>(List.of(sender));
    for (int i = 0; i < readers; i++) {
      members.add(Fixtures.active(relay, tenant, "agent"));
    }
    UUID room = RealtimeFixtures.room(relay, tenant, members);
    List<WsClient> sockets = new ArrayList<>();
    try (WsClient s = WsClient.connect(relay, Fixtures.login(relay, sender))) {
      for (Fixtures.Device d : members.subList(1, members.size())) {
        sockets.add(WsClient.connect(relay, Fixtures.login(relay, d)));
      }
      for (int i = 0; i < messages; i++) {
        s.send(JsonBody.object().put("type", "send").put("room_id", room.toString()).put("message_type", "application")
            .put("content_type", "text/plain").put("client_message_id", "burst-" + i)
            .put("payload", JsonBody.b64(("burst " + i).getBytes(StandardCharsets.UTF_8))));
      }
      List<Long> ids = new ArrayList<>();
      for (int i = 0; i < messages; i++) {
        JsonNode sent = s.next("sent", 10);
        assertThat(sent.path("client_message_id").asText()).isEqualTo("burst-" + i);
        ids.add(sent.path("message_id").asLong());
      }
      assertThat(ids).isSorted().doesNotHaveDuplicates();
      for (WsClient r : sockets) {
        List<Long> got = new ArrayList<>();
        while (got.size() < messages) {
          got.add(r.next("message", 10).path("message").path("message_id").asLong());
        }
        assertThat(got).isEqualTo(ids);
      }
    } finally {
      for (WsClient r : sockets) {
        r.close();
      }
    }
  }

  @Test
  void aBadFrameGetsAnErrorFrameAndTheConnectionSurvives() throws Exception {
    Fixtures.Device d = Fixtures.active(relay, tenant, "agent");
    try (WsClient ws = WsClient.connect(relay, Fixtures.login(relay, d))) {
      ws.send("{\"type\": \"ping\"");
      JsonNode e = ws.next(5);
      assertThat(e.path("type").asText()).isEqualTo("error");
      assertThat(e.path("status").asInt()).isEqualTo(400);
      assertThat(e.path("detail").asText()).isEqualTo("malformed JSON");
      ws.send("[1,2]");
      assertThat(ws.next(5).path("detail").asText()).isEqualTo("expected a JSON object");
      ws.send("{\"type\":\"dance\"}");
      assertThat(ws.next(5).path("detail").asText()).isEqualTo("unknown frame type");
      ws.send("{\"type\":\"ack\",\"message_ids\":[1],\"evil\":1}");
      assertThat(ws.next(5).path("detail").asText()).isEqualTo("unknown field: evil");
      ws.send("{\"type\":\"ack\",\"message_ids\":\"x\"}");
      assertThat(ws.next(5).path("detail").asText()).isEqualTo("field message_ids must be an array");
      ws.send("{\"type\":\"ping\"}");
      assertThat(ws.next(5).path("type").asText()).isEqualTo("pong");
      assertThat(ws.isOpen()).isTrue();
    }
  }

  @Test
  void repeatedGarbageClosesWith4000() throws Exception {
    Fixtures.Device d = Fixtures.active(relay, tenant, "agent");
    try (WsClient ws = WsClient.connect(relay, Fixtures.login(relay, d))) {
      for (int i = 0; i < 20 && !ws.closed.isDone(); i++) {
        ws.send("garbage " + i);
      }
      assertThat(ws.closeCode(5)).isEqualTo(4000);
      long errors = ws.frames.stream().filter(f -> f.path("type").asText().equals("error")).count();
      assertThat(errors).isEqualTo(9); // the tenth bad frame in a row closes
    }
  }

  @Test
  void anOversizedFrameCloses1009AndTheServerCarriesOn() throws Exception {
    Fixtures.Device d = Fixtures.active(relay, tenant, "agent");
    String token = Fixtures.login(relay, d);
    try (WsClient ws = WsClient.connect(relay, token)) {
      char[] big = new char[relay.config().maxFrameBytes() + 1024];
      java.util.Arrays.fill(big, 'a');
      try {
        ws.send("{\"type\":\"ping\",\"x\":\"" + new String(big) + "\"}");
      } catch (java.util.concurrent.CompletionException ignored) {
        // the server may close while the client still writes
      }
      assertThat(ws.closeCode(5)).isEqualTo(1009);
    }
    assertThat(new Http(relay).get("/health", null).status()).isEqualTo(200);
    try (WsClient ws = WsClient.connect(relay, token)) {
      ws.send("{\"type\":\"ping\"}");
      assertThat(ws.next(5).path("type").asText()).isEqualTo("pong");
    }
  }

  @Test
  void pingGetsPong() throws Exception {
    Fixtures.Device d = Fixtures.active(relay, tenant, "agent");
    try (WsClient ws = WsClient.connect(relay, Fixtures.login(relay, d))) {
      for (int i = 0; i < 3; i++) {
        ws.send("{\"type\":\"ping\"}");
        assertThat(ws.next(5).toString()).isEqualTo("{\"type\":\"pong\"}");
      }
    }
  }

  @Test
  void disconnectingADeviceClosesEachOfItsSocketsWith4003WithinOneSecond() throws Exception {
    Fixtures.Device d = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device other = Fixtures.active(relay, tenant, "agent");
    String token = Fixtures.login(relay, d);
    try (WsClient a = WsClient.connect(relay, token); WsClient b = WsClient.connect(relay, token);
        WsClient c = WsClient.connect(relay, Fixtures.login(relay, other))) {
      long t0 = System.nanoTime();
      relay.context().fanout().disconnect(tenant, d.id(), 4003, "device revoked");
      assertThat(a.closeCode(1)).isEqualTo(4003);
      assertThat(b.closeCode(1)).isEqualTo(4003);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
      c.send("{\"type\":\"ping\"}");
      assertThat(c.next(5).path("type").asText()).isEqualTo("pong");
    }
  }

  @Test
  void revocationByTheOwnerClosesTheDevicesSocketWith4003WithinOneSecond() throws Exception {
    Fixtures.Device owner = Fixtures.active(relay, tenant, "owner");
    Fixtures.Device d = Fixtures.active(relay, tenant, "agent");
    String ownerToken = Fixtures.login(relay, owner);
    String token = Fixtures.login(relay, d);
    try (WsClient ws = WsClient.connect(relay, token)) {
      ws.send("{\"type\":\"ping\"}");
      ws.next("pong", 5);
      long t0 = System.nanoTime();
      Http.Response r = new Http(relay).post("/api/v1/devices/" + d.id() + "/revoke", Http.json(), ownerToken);
      assertThat(r.status()).as(r.raw()).isEqualTo(200);
      assertThat(ws.closeCode(1)).isEqualTo(4003);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
    }
    assertThatThrownBy(() -> WsClient.connect(relay, token))
        .isInstanceOfSatisfying(WsClient.Refused.class, x -> assertThat(x.status).isEqualTo(403));
  }

  @Test
  void stoppingTheRelayClosesSocketsWith1001() throws Exception {
    TestRelay r = TestRelay.start();
    WsClient ws;
    try {
      Fixtures.Device d = Fixtures.active(r, Fixtures.tenant(r), "agent");
      ws = WsClient.connect(r, Fixtures.login(r, d));
    } finally {
      r.close();
    }
    assertThat(ws.closeCode(5)).isEqualTo(1001);
  }

  @Test
  void anExpiringTokenClosesItsSocketWith4001() throws Exception {
    Path dir = Files.createTempDirectory("agentvault-ws-exp-");
    try (TestRelay r = TestRelay.start(RelayConfig.builder().dataDir(dir).tokenLifetime(Duration.ofSeconds(2)).build())) {
      UUID t = Fixtures.tenant(r);
      Fixtures.Device d = Fixtures.active(r, t, "agent");
      String token = Fixtures.login(r, d);
      try (WsClient ws = WsClient.connect(r, token)) {
        long t0 = System.nanoTime();
        assertThat(ws.closeCode(5)).isEqualTo(4001);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(3500));
      }
      assertThatThrownBy(() -> WsClient.connect(r, token))
          .isInstanceOfSatisfying(WsClient.Refused.class, x -> assertThat(x.status).isEqualTo(401));
    } finally {
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void sendAndAckFramesGoThroughTheMessageService() throws Exception {
    Fixtures.Device sender = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device reader = Fixtures.active(relay, tenant, "agent");
    UUID room = RealtimeFixtures.room(relay, tenant, List.of(sender, reader));
    try (WsClient s = WsClient.connect(relay, Fixtures.login(relay, sender));
        WsClient r = WsClient.connect(relay, Fixtures.login(relay, reader))) {
      var send = JsonBody.object().put("type", "send").put("room_id", room.toString())
          .put("message_type", "application").put("content_type", "text/plain").put("client_message_id", "c-1")
          .put("payload", JsonBody.b64("hello".getBytes(StandardCharsets.UTF_8)));
      s.send(send);
      JsonNode sent = s.next(5);
      assertThat(sent.path("type").asText()).as(sent.toString()).isEqualTo("sent");
      assertThat(sent.path("client_message_id").asText()).isEqualTo("c-1");
      assertThat(sent.path("duplicate").asBoolean()).isFalse();
      long id = sent.path("message_id").asLong();
      JsonNode m = r.next("message", 5).path("message");
      assertThat(m.path("message_id").asLong()).isEqualTo(id);
      assertThat(m.path("client_message_id").asText()).isEqualTo("c-1");
      // a resend is stored once
      s.send(send);
      JsonNode again = s.next(5);
      assertThat(again.path("duplicate").asBoolean()).isTrue();
      assertThat(again.path("message_id").asLong()).isEqualTo(id);
      // a refused send names its client_message_id and the status
      s.send(send.deepCopy().put("client_message_id", "c-2").put("room_id", UUID.randomUUID().toString()));
      JsonNode refused = s.next(5);
      assertThat(refused.path("type").asText()).isEqualTo("error");
      assertThat(refused.path("client_message_id").asText()).isEqualTo("c-2");
      assertThat(refused.path("status").asInt()).isEqualTo(404);
      r.send("{\"type\":\"ack\",\"message_ids\":[" + id + "," + (id + 999) + "]}");
      JsonNode acked = r.next("acked", 5);
      assertThat(acked.path("acknowledged").asInt()).isEqualTo(1);
    }
    try (WsClient r = WsClient.connect(relay, Fixtures.login(relay, reader))) {
      assertThat(r.frames.poll(1, java.util.concurrent.TimeUnit.SECONDS)).as("acknowledged: no backlog").isNull();
    }
  }
}
