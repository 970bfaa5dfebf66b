package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The middleware's limits: per device on authenticated requests, per address on public ones. */
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
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
