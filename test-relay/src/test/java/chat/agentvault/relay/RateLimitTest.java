package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.ws.WebSocketEndpoint;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The middleware's limits: per device on authenticated requests and on each send and ack frame of
 * its WebSockets, per address on public ones; and the bound on a socket's unanswered frames.
 */
class RateLimitTest {

  @Test
  void devicesAndAnonymousClientsAreLimitedWith429AndTheServerKeepsAnswering() throws Exception {
    var dir = Files.createTempDirectory("rl-relay-");
    try (TestRelay relay = TestRelay.start(RelayConfig.builder().dataDir(dir)
        .requestsPerSecond(5).publicRequestsPerSecond(5).build())) {
      Http http = new Http(relay);
      UUID t = Fixtures.tenant(relay);
      Fixtures.Device d = Fixtures.active(relay, t, "agent");
      String token = Fixtures.login(relay, d); // 2 public requests
      int limited = 0;
      for (int i = 0; i < 30; i++) {
        Http.Response r = http.get("/api/v1/devices/me", token);
        if (r.status() == 429) {
          assertThat(r.detail()).isEqualTo("rate limit exceeded");
          limited++;
        } else {
          assertThat(r.status()).isEqualTo(200);
        }
      }
      assertThat(limited).isGreaterThanOrEqualTo(10);
      int publicLimited = 0;
      for (int i = 0; i < 30; i++) {
        Http.Response r = http.post("/api/v1/auth/challenge", Http.json().put("tenant_id", t.toString())
            .put("device_id", d.id().toString()), null);
        publicLimited += r.status() == 429 ? 1 : 0;
      }
      assertThat(publicLimited).isGreaterThanOrEqualTo(10);
      assertThat(http.get("/health", null).status()).isEqualTo(200);
    } finally {
      delete(dir);
    }
  }

  @Test
  void sendFramesShareTheDevicesBudgetAndAreRefusedWith429ByName() throws Exception {
    Path dir = Files.createTempDirectory("rl-ws-relay-");
    try (TestRelay relay = TestRelay.start(RelayConfig.builder().dataDir(dir).requestsPerSecond(5).build())) {
      Sender x = senderInRoom(relay);
      UUID t = x.tenant();
      Fixtures.Device sender = x.device();
      UUID room = x.room();
      try (WsClient ws = WsClient.connect(relay, Fixtures.login(relay, sender))) {
        int frames = 30;
        for (int i = 0; i < frames; i++) {
          ws.send(send(room, "rl-" + i));
        }
        Set<String> sent = new HashSet<>();
        Set<String> refused = new HashSet<>();
        for (int i = 0; i < frames; i++) {
          JsonNode f = ws.next(10);
          String id = f.path("client_message_id").asText();
          if (f.path("type").asText().equals("sent")) {
            sent.add(id);
          } else {
            assertThat(f.path("type").asText()).as(f.toString()).isEqualTo("error");
            assertThat(f.path("status").asInt()).isEqualTo(429);
            assertThat(f.path("detail").asText()).isEqualTo("rate limit exceeded");
            refused.add(id);
          }
        }
        // every frame answered once, by name; a burst of 2 x 5 (less the upgrade) got through
        assertThat(sent.size() + refused.size()).isEqualTo(frames);
        assertThat(refused).hasSizeGreaterThanOrEqualTo(15);
        assertThat(stored(relay, t, sender.id())).isEqualTo(sent.size());
        // the socket is still open, and takes sends again once the budget refills
        Thread.sleep(1_000);
        ws.send(send(room, "after"));
        assertThat(ws.next("sent", 10).path("client_message_id").asText()).isEqualTo("after");
      }
    } finally {
      delete(dir);
    }
  }

  /**
   * While the room is locked by another transaction no send batch can commit, so every send stays
   * unanswered: the socket takes {@link WebSocketEndpoint#MAX_UNANSWERED} of them and refuses the
   * rest at once with 429; once the lock goes, each taken send is stored and answered.
   */
  @Test
  void aSocketHasAtMostMaxUnansweredSendsInFlight() throws Exception {
    Path dir = Files.createTempDirectory("rl-inflight-relay-");
    try (TestRelay relay = TestRelay.start(RelayConfig.builder().dataDir(dir).requestsPerSecond(0).build())) {
      Sender x = senderInRoom(relay);
      UUID t = x.tenant();
      Fixtures.Device sender = x.device();
      UUID room = x.room();
      int extra = 50;
      try (WsClient ws = WsClient.connect(relay, Fixtures.login(relay, sender))) {
        List<JsonNode> early = new ArrayList<>();
        relay.database().asAdmin(t, c -> {
          try (PreparedStatement p = c.prepareStatement("select 1 from rooms where id = ? for update")) {
            p.setObject(1, room);
            p.executeQuery();
          }
          for (int i = 0; i < WebSocketEndpoint.MAX_UNANSWERED + extra; i++) {
            ws.send(send(room, "f-" + i));
          }
          for (int i = 0; i < extra; i++) {
            early.add(ws.next(10));
          }
          try {
            assertThat(ws.frames.poll(300, java.util.concurrent.TimeUnit.MILLISECONDS)).isNull();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          return null; // commits: the room is free
        });
        for (int i = 0; i < extra; i++) {
          JsonNode f = early.get(i);
          assertThat(f.path("type").asText()).as(f.toString()).isEqualTo("error");
          assertThat(f.path("status").asInt()).isEqualTo(429);
          assertThat(f.path("detail").asText()).isEqualTo("too many frames awaiting an answer");
          assertThat(f.path("client_message_id").asText()).isEqualTo("f-" + (WebSocketEndpoint.MAX_UNANSWERED + i));
        }
        for (int i = 0; i < WebSocketEndpoint.MAX_UNANSWERED; i++) {
          JsonNode f = ws.next(30);
          assertThat(f.path("type").asText()).as(f.toString()).isEqualTo("sent");
          assertThat(f.path("client_message_id").asText()).isEqualTo("f-" + i);
        }
        assertThat(stored(relay, t, sender.id())).isEqualTo(WebSocketEndpoint.MAX_UNANSWERED);
        // answered: the socket takes sends again
        ws.send(send(room, "after"));
        assertThat(ws.next("sent", 10).path("client_message_id").asText()).isEqualTo("after");
      }
    } finally {
      delete(dir);
    }
  }

  /** A sending device of a new tenant, in a room with one other member. */
  private record Sender(UUID tenant, Fixtures.Device device, UUID room) {}

  private static Sender senderInRoom(TestRelay relay) throws Exception {
    UUID t = Fixtures.tenant(relay);
    Fixtures.Device sender = Fixtures.active(relay, t, "agent");
    Fixtures.Device reader = Fixtures.active(relay, t, "agent");
    return new Sender(t, sender, RealtimeFixtures.room(relay, t, List.of(sender, reader)));
  }

  private static JsonNode send(UUID room, String clientId) {
    return JsonBody.object().put("type", "send").put("room_id", room.toString()).put("message_type", "application")
        .put("content_type", "text/plain").put("client_message_id", clientId)
        .put("payload", JsonBody.b64(clientId.getBytes(StandardCharsets.UTF_8)));
  }

  private static long stored(TestRelay relay, UUID tenant, UUID sender) throws Exception {
    return relay.database().asAdmin(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement("select count(*) from messages where sender_device_id = ?")) {
        p.setObject(1, sender);
        ResultSet rs = p.executeQuery();
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  private static void delete(Path dir) throws Exception {
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
