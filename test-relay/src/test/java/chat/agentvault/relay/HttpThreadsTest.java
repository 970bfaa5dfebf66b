package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP server's thread pool is the config's ({@link RelayConfig#httpThreads()}), not Javalin's
 * 250 threads: a burst of concurrent requests is served in full by that many threads, and the
 * WebSocket still answers.
 */
class HttpThreadsTest {
  private static final String POOL = "relay-http-";

  @Test
  void aBurstOfConcurrentRequestsIsServedByAtMostTheConfiguredThreads(@TempDir Path dir) throws Exception {
    Set<Thread> before = poolThreads(); // another relay's, still stopping: not counted below
    int burst = 64;
    ExecutorService clients = Executors.newFixedThreadPool(burst);
    try (TestRelay relay = TestRelay.start(RelayConfig.builder().dataDir(dir).httpThreads(8)
        .requestsPerSecond(10_000).build())) {
      Http http = new Http(relay);
      UUID t = Fixtures.tenant(relay);
      Fixtures.Device d = Fixtures.active(relay, t, "agent");
      String token = Fixtures.login(relay, d);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Integer>> statuses = new ArrayList<>();
      for (int i = 0; i < burst; i++) {
        statuses.add(clients.submit(() -> {
          go.await();
          int worst = 200;
          for (int k = 0; k < 5; k++) { // authenticated: the JWT check and a database read each
            int s = http.get("/api/v1/devices/me", token).status();
            worst = s != 200 ? s : worst;
          }
          return worst;
        }));
      }
      go.countDown();
      for (Future<Integer> s : statuses) {
        assertThat(s.get(60, TimeUnit.SECONDS)).isEqualTo(200);
      }
      // with a maximum of 250 this burst grew the pool to 47-49 threads
      Set<Thread> ours = poolThreads();
      ours.removeAll(before);
      assertThat(ours).hasSizeBetween(1, 8);

      try (WsClient ws = WsClient.connect(relay, token)) {
        ws.send("{\"type\":\"ping\"}");
        JsonNode pong = ws.frames.poll(10, TimeUnit.SECONDS);
        assertThat(pong).isNotNull();
        assertThat(pong.path("type").asText()).isEqualTo("pong");
      }
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void theDefaultIsThirtyTwoOrEightPerCoreAndTheBoundsAreEnforced() {
    int expected = Math.max(32, 8 * Runtime.getRuntime().availableProcessors());
    assertThat(RelayConfig.defaultHttpThreads()).isEqualTo(expected);
    assertThat(RelayConfig.builder().dataDir(Path.of("x")).build().httpThreads()).isEqualTo(expected);
    assertThat(RelayConfig.builder().dataDir(Path.of("x")).httpThreads(8).build().httpThreads()).isEqualTo(8);
    assertThat(RelayConfig.builder().dataDir(Path.of("x")).httpThreads(12).build().newBuilder().build().httpThreads()).isEqualTo(12);
    for (int bad : new int[] {7, 0, -1, 10_001}) {
      assertThatThrownBy(() -> RelayConfig.builder().httpThreads(bad))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("httpThreads");
    }
  }

  @Test
  void theCommandLineSetsTheThreads() {
    assertThat(RelayMain.config(Map.of("data-dir", "x", "http-threads", "24"), 0).httpThreads()).isEqualTo(24);
    assertThat(RelayMain.config(Map.of("data-dir", "x"), 0).httpThreads()).isEqualTo(RelayConfig.defaultHttpThreads());
    for (String bad : new String[] {"7", "10001", "many", "", "8.5"}) {
      assertThatThrownBy(() -> RelayMain.config(Map.of("data-dir", "x", "http-threads", bad), 0))
          .isInstanceOf(RelayMain.Usage.class).hasMessageContaining("--http-threads");
    }
  }

  private static Set<Thread> poolThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(th -> th.isAlive() && th.getName().startsWith(POOL))
        .collect(Collectors.toCollection(HashSet::new));
  }
}
