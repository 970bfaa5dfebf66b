package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.message.Retention;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Acknowledged deliveries are deleted after the retention; pending ones never. */
class RetentionTest {

  @Test
  void theSweepDeletesAcknowledgedDeliveriesOlderThanTheRetentionAndKeepsPendingOnes() throws Exception {
    Path dir = Files.createTempDirectory("retention-relay-");
    try (TestRelay relay = TestRelay.start(RelayConfig.builder().dataDir(dir)
        .deliveredRetention(Duration.ZERO).retentionSweepInterval(Duration.ZERO).build())) {
      Http http = new Http(relay);
      UUID t = Fixtures.tenant(relay);
      Fixtures.Device a = Fixtures.active(relay, t, "agent");
      Fixtures.Device b = Fixtures.active(relay, t, "agent");
      String ta = Fixtures.login(relay, a);
      String tb = Fixtures.login(relay, b);
      String conv = http.post("/api/v1/conversations", Http.json().put("peer_device_id", b.id().toString()), ta)
          .body().path("conversation_id").asText();
      long[] ids = new long[3];
      for (int i = 0; i < 3; i++) {
        Http.Response r = http.post("/api/v1/messages", Http.json().put("conversation_id", conv)
            .put("message_type", "ratchet").put("content_type", "application/octet-stream")
            .put("client_message_id", "m" + i).put("payload", JsonBody.b64(new byte[] {(byte) i})), ta);
        assertThat(r.status()).as(r.raw()).isEqualTo(201);
        ids[i] = r.body().path("message_id").asLong();
      }
      var ack = Http.json();
      ack.putArray("message_ids").add(ids[0]).add(ids[1]);
      assertThat(http.post("/api/v1/messages/ack", ack, tb).body().path("acknowledged").asInt()).isEqualTo(2);

      // a retention of one hour keeps them
      try (Retention hour = new Retention(relay.database(), Duration.ofHours(1), Duration.ZERO)) {
        assertThat(hour.sweep()).isZero();
      }
      assertThat(rows(relay, t, "delivered")).isEqualTo(2);
      // retention zero: the two acknowledged rows go, the pending one stays and is still fetched
      Thread.sleep(20);
      assertThat(relay.context().retention().sweep()).isEqualTo(2);
      assertThat(rows(relay, t, "delivered")).isZero();
      assertThat(rows(relay, t, "pending")).isEqualTo(1);
      Http.Response pending = http.get("/api/v1/messages?limit=10", tb);
      assertThat(pending.body().path("messages")).hasSize(1);
      assertThat(pending.body().path("messages").get(0).path("message_id").asLong()).isEqualTo(ids[2]);
      assertThat(relay.context().retention().sweep()).isZero();
    } finally {
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static long rows(TestRelay relay, UUID tenant, String status) throws Exception {
    return relay.database().asAdmin(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement(
          "select count(*) from deliveries where tenant_id = ? and status = ?")) {
        p.setObject(1, tenant);
        p.setString(2, status);
        ResultSet rs = p.executeQuery();
        rs.next();
        return rs.getLong(1);
      }
    });
  }
}
