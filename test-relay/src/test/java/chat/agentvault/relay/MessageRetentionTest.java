package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.relay.message.MessageRetention;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A message every recipient acknowledged is deleted once older than the retention; a message some
 * recipient has not acknowledged is kept, in every tenant; the sweep walks the ids range by range.
 */
class MessageRetentionTest {

  @Test
  void deliveredMessagesGoAfterTheRetentionAndPendingOnesStay() throws Exception {
    Path dir = Files.createTempDirectory("retention-relay-");
    try (TestRelay relay = TestRelay.start(RelayConfig.builder().dataDir(dir)
        .messageRetention(Duration.ZERO).retentionSweepInterval(Duration.ZERO).build())) {
      Http http = new Http(relay);
      UUID t = Fixtures.tenant(relay);
      Fixtures.Device a = Fixtures.active(relay, t, "agent");
      Fixtures.Device b = Fixtures.active(relay, t, "agent");
      String ta = Fixtures.login(relay, a);
      String tb = Fixtures.login(relay, b);
      String conv = Fixtures.conversation(relay, b, ta);
      long[] ids = new long[5];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = Fixtures.directMessage(relay, conv, "m" + i, ta);
      }
      // another tenant's pending message
      UUID t2 = Fixtures.tenant(relay);
      Fixtures.Device c = Fixtures.active(relay, t2, "agent");
      Fixtures.Device d = Fixtures.active(relay, t2, "agent");
      String tc = Fixtures.login(relay, c);
      long other = Fixtures.directMessage(relay, Fixtures.conversation(relay, d, tc), "x", tc);

      assertThat(Fixtures.ack(relay, tb, ids[0], ids[1], ids[3])).isEqualTo(3);

      // a retention of one hour deletes nothing yet
      try (MessageRetention hour = new MessageRetention(relay.database(), Duration.ofHours(1), Duration.ZERO)) {
        assertThat(hour.sweep()).isZero();
      }
      assertThat(stored(relay, t, ids)).containsExactly(ids[0], ids[1], ids[2], ids[3], ids[4]);

      // retention zero, two messages per range: the acknowledged ones go, across ranges that also hold kept ones
      Thread.sleep(20);
      try (MessageRetention zero = new MessageRetention(relay.database(), Duration.ZERO, Duration.ZERO, 2)) {
        assertThat(zero.sweep()).isGreaterThanOrEqualTo(3);
        assertThat(stored(relay, t, ids)).containsExactly(ids[2], ids[4]);
        assertThat(stored(relay, t2, other)).containsExactly(other);
        Http.Response pending = http.get("/api/v1/messages?limit=10", tb);
        assertThat(pending.body().path("messages")).extracting(m -> m.path("message_id").asLong())
            .containsExactly(ids[2], ids[4]);

        // the rest once acknowledged (the relay's own sweeper, same retention)
        assertThat(Fixtures.ack(relay, tb, ids[2], ids[4])).isEqualTo(2);
        Thread.sleep(20);
        assertThat(relay.context().retention().sweep()).isGreaterThanOrEqualTo(2);
        assertThat(stored(relay, t, ids)).isEmpty();
        assertThat(stored(relay, t2, other)).containsExactly(other);
        assertThat(zero.sweep()).isZero();
      }

      // past the retention a resend is no longer recognized: it is a new message (the documented trade-off)
      long again = Fixtures.directMessage(relay, conv, "m0", ta);
      assertThat(again).isGreaterThan(ids[4]);
    } finally {
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void theRetentionIsTwentyFourHoursUnlessTheOperatorSetsIt() {
    assertThat(RelayConfig.builder().dataDir(Path.of("x")).build().messageRetention()).isEqualTo(Duration.ofHours(24));
    assertThat(RelayMain.config(Map.of("data-dir", "x", "message-retention-hours", "48"), 0).messageRetention())
        .isEqualTo(Duration.ofHours(48));
    for (String bad : List.of("-1", "1.5", "day", "876001", "9223372036854775807")) {
      assertThatThrownBy(() -> RelayMain.config(Map.of("data-dir", "x", "message-retention-hours", bad), 0))
          .isInstanceOf(RelayMain.Usage.class).hasMessageContaining("--message-retention-hours");
    }
    assertThatThrownBy(() -> RelayConfig.builder().messageRetention(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** Which of these message ids are still stored, read by the administrative role. */
  private static List<Long> stored(TestRelay relay, UUID tenant, long... ids) throws Exception {
    return relay.database().asAdmin(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement("select id from messages where id = any(?) order by id")) {
        Long[] boxed = new Long[ids.length];
        for (int i = 0; i < ids.length; i++) {
          boxed[i] = ids[i];
        }
        p.setArray(1, c.createArrayOf("bigint", boxed));
        ResultSet rs = p.executeQuery();
        List<Long> out = new ArrayList<>();
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
        return out;
      }
    });
  }
}
