package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.relay.db.EmbeddedDatabase;
import chat.agentvault.relay.message.Store;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two relay instances on one PostgreSQL and one Redis: a device connected to one receives what is
 * sent through the other, and a disconnect on one closes the device's socket on the other. Redis
 * comes from {@code AGENTVAULT_REDIS_URL} or {@code scripts/start-redis.sh} (which installs
 * redis-server when it is missing); without one the test is skipped, unless
 * {@code -Dagentvault.vectors.required=true} (CI), where it fails.
 */
class TwoInstancesTest {
  static Path dir;
  static EmbeddedDatabase pg;
  static Process redisStarter;
  static Long redisPid;
  static TestRelay a;
  static TestRelay b;

  @BeforeAll
  static void start() throws Exception {
    String redis = redisUrl();
    dir = Files.createTempDirectory("agentvault-two-");
    pg = EmbeddedDatabase.start(dir.resolve("pg"));
    byte[] secret = Csprng.randomBytes(32);
    RelayConfig.Builder cfg = RelayConfig.builder()
        .jdbcUrl("jdbc:postgresql://localhost:" + pg.port() + "/postgres")
        .adminCredentials("postgres", "")
        .appCredentials("agentvault_app", "two-instances-" + UUID.randomUUID())
        .jwtSecret(secret)
        .redisUrl(redis);
    a = TestRelay.start(cfg.build());
    b = TestRelay.start(cfg.build());
  }

  private static String redisUrl() throws Exception {
    boolean required = Boolean.getBoolean("agentvault.vectors.required");
    String env = System.getenv("AGENTVAULT_REDIS_URL");
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    Path script = Paths.get("..", "scripts", "start-redis.sh").toAbsolutePath().normalize();
    Path pidFile = Files.createTempFile("agentvault-redis-", ".pid");
    Files.delete(pidFile);
    String out = "";
    int rc = -1;
    try {
      Process p = new ProcessBuilder("bash", script.toString(), pidFile.toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      rc = p.waitFor(120, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (java.io.IOException e) {
      out = e.toString();
    }
    if (rc != 0 || !out.startsWith("redis://")) {
      String why = "no Redis: set AGENTVAULT_REDIS_URL or let " + script + " start one (" + out + ")";
      if (required) {
        throw new AssertionError(why);
      }
      Assumptions.abort(why);
    }
    if (Files.exists(pidFile)) {
      redisPid = Long.parseLong(Files.readString(pidFile).trim());
      Files.delete(pidFile);
    }
    return out.lines().reduce((x, y) -> y).orElseThrow();
  }

  @AfterAll
  static void stop() throws Exception {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
    if (pg != null) {
      pg.close();
    }
    if (redisPid != null) {
      ProcessHandle.of(redisPid).ifPresent(ProcessHandle::destroy);
    }
    if (dir != null) {
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void aMemberOnOneInstanceReceivesWhatIsSentThroughTheOther() throws Exception {
    UUID tenant = Fixtures.tenant(a);
    Fixtures.Device sender = Fixtures.active(a, tenant, "agent");
    Fixtures.Device onB = Fixtures.active(a, tenant, "agent");
    Fixtures.Device onA = Fixtures.active(a, tenant, "agent");
    UUID room = RealtimeFixtures.room(a, tenant, List.of(sender, onB, onA));
    try (WsClient wsB = WsClient.connect(b, Fixtures.login(b, onB));
        WsClient wsA = WsClient.connect(a, Fixtures.login(a, onA))) {
      Thread.sleep(300); // both backlogs (empty) written
      for (int i = 0; i < 20; i++) {
        Store.Stored s = RealtimeFixtures.message(a, sender, room, List.of(onB, onA), "via A " + i);
        for (WsClient ws : List.of(wsB, wsA)) {
          JsonNode f = ws.next(5);
          assertThat(f.path("message").path("message_id").asLong()).isEqualTo(s.id());
        }
      }
      assertThat(wsB.frames.poll(300, TimeUnit.MILLISECONDS)).isNull(); // no echo, no duplicate
      assertThat(wsA.frames.poll(10, TimeUnit.MILLISECONDS)).isNull();
    }
  }

  @Test
  void aDisconnectOnOneInstanceClosesTheSocketOnTheOtherWithinOneSecond() throws Exception {
    UUID tenant = Fixtures.tenant(a);
    Fixtures.Device d = Fixtures.active(a, tenant, "agent");
    try (WsClient ws = WsClient.connect(b, Fixtures.login(b, d))) {
      long t0 = System.nanoTime();
      a.context().fanout().disconnect(tenant, d.id(), 4003, "device revoked");
      assertThat(ws.closeCode(1)).isEqualTo(4003);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
    }
  }
}
