package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.relay.auth.AuthRoutes;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A message acknowledged to its sender survives a crash of the relay: {@link RelayMain} runs in a
 * child JVM on a data directory, is killed with SIGKILL right after the {@code sent} frame (its
 * embedded PostgreSQL is orphaned, as after a real crash), restarts on the same directory
 * (EmbeddedDatabase stops the orphan first) and delivers the message exactly once.
 */
class CrashDurabilityTest {
  private Path dir;
  private Process child;

  @AfterEach
  void cleanUp() throws Exception {
    if (child != null && child.isAlive()) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (dir != null) {
      postgresPid(dir.resolve("pg")).flatMap(ProcessHandle::of).ifPresent(h -> {
        h.destroy();
        h.onExit().orTimeout(30, TimeUnit.SECONDS).join();
      });
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void anAcknowledgedMessageSurvivesKillDashNineAndIsDeliveredOnceAfterRestart() throws Exception {
    dir = Files.createTempDirectory("agentvault-crash-");
    // tenant, devices and a room, prepared in this JVM on the same data directory
    Fixtures.Device sender;
    Fixtures.Device reader;
    UUID room;
    try (TestRelay setup = TestRelay.start(RelayConfig.builder().dataDir(dir).build())) {
      UUID tenant = Fixtures.tenant(setup);
      sender = Fixtures.active(setup, tenant, "agent");
      reader = Fixtures.active(setup, tenant, "agent");
      room = RealtimeFixtures.room(setup, tenant, List.of(sender, reader));
    }

    String base = startChild();
    String clientId = "durable-" + UUID.randomUUID();
    try (WsClient ws = WsClient.connect(wsUrl(base), login(base, sender), false)) {
      ws.send(JsonBody.object().put("type", "send").put("room_id", room.toString())
          .put("message_type", "application").put("content_type", "text/plain")
          .put("client_message_id", clientId)
          .put("payload", JsonBody.b64("survives".getBytes(StandardCharsets.UTF_8))).toString());
      JsonNode answer = ws.next(10);
      assertThat(answer.path("type").asText()).as(answer.toString()).isEqualTo("sent");
      assertThat(answer.path("duplicate").asBoolean()).isFalse();
      long id = answer.path("message_id").asLong();

      child.destroyForcibly(); // SIGKILL: no shutdown hook, PostgreSQL left running
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      Optional<ProcessHandle> orphan = postgresPid(dir.resolve("pg")).flatMap(ProcessHandle::of);
      assertThat(orphan).as("the crash leaves PostgreSQL orphaned").isPresent();

      String base2 = startChild();
      assertThat(orphan.get().isAlive()).as("the restart stopped the orphan").isFalse();
      try (WsClient r = WsClient.connect(wsUrl(base2), login(base2, reader), false)) {
        List<JsonNode> got = new ArrayList<>();
        JsonNode f;
        while ((f = r.frames.poll(1500, TimeUnit.MILLISECONDS)) != null) {
          got.add(f);
        }
        assertThat(got).hasSize(1);
        JsonNode m = got.get(0).path("message");
        assertThat(m.path("message_id").asLong()).isEqualTo(id);
        assertThat(m.path("client_message_id").asText()).isEqualTo(clientId);
        assertThat(new String(Base64.getDecoder().decode(m.path("payload").asText()), StandardCharsets.UTF_8))
            .isEqualTo("survives");
      }
      child.destroy(); // SIGTERM: orderly shutdown this time
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
  }

  /** Starts RelayMain serve on {@link #dir} in a child JVM; returns its base URL. */
  private String startChild() throws Exception {
    Path out = Files.createTempFile(dir, "relay-out-", ".log");
    Path err = Files.createTempFile(dir, "relay-err-", ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    child = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        RelayMain.class.getName(), "serve", "--data-dir", dir.toString(), "--port", "0")
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < end) {
      for (String line : Files.readAllLines(out)) {
        int i = line.indexOf("listening on ");
        if (i >= 0) {
          return line.substring(i + "listening on ".length()).trim();
        }
      }
      if (!child.isAlive()) {
        throw new AssertionError("relay exited: " + Files.readString(err));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("relay did not start: " + Files.readString(err));
  }

  private static String wsUrl(String base) {
    return base.replaceFirst("^http", "ws") + "/ws";
  }

  private static Optional<Long> postgresPid(Path pgDir) {
    try {
      Path f = pgDir.resolve("postmaster.pid");
      if (!Files.exists(f)) {
        return Optional.empty();
      }
      return Optional.of(Long.parseLong(Files.readAllLines(f).get(0).trim()));
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  private static String login(String base, Fixtures.Device d) {
    Http http = new Http(base);
    Http.Response ch = http.post("/api/v1/auth/challenge",
        Http.json().put("tenant_id", d.tenant().toString()).put("device_id", d.id().toString()), null);
    byte[] challenge = Base64.getDecoder().decode(ch.body().path("challenge").asText());
    byte[] sig = d.identity().sign(AuthRoutes.signedMessage(d.tenant(), d.id(), challenge));
    Http.Response t = http.post("/api/v1/auth/token", Http.json()
        .put("tenant_id", d.tenant().toString()).put("device_id", d.id().toString())
        .put("challenge_id", ch.body().path("challenge_id").asText())
        .put("signature", JsonBody.b64(sig)), null);
    assertThat(t.status()).as(t.raw()).isEqualTo(200);
    return t.body().path("token").asText();
  }
}
