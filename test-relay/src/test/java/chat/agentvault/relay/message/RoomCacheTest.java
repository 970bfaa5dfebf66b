package chat.agentvault.relay.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.relay.Fixtures;
import chat.agentvault.relay.RealtimeFixtures;
import chat.agentvault.relay.TestRelay;
import chat.agentvault.relay.TestRelayExtension;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Send batches from the relay's copy of a room (one round trip: the statement checks the copy and
 * writes only if it holds) and from a read of the room (when the copy is missing or out of date).
 * Each send here is a batch of its own, so the service's counters say which way each one went; the
 * answers and the stored deliveries say that both ways obey the same rules.
 */
@ExtendWith(TestRelayExtension.class)
class RoomCacheTest {
  static TestRelay relay;

  private static MessageService service() {
    return (MessageService) RealtimeFixtures.messages(relay);
  }

  /** What the next sends did: {batches from the cache, batches that found the cache out of date}. */
  private static final class Counts {
    long[] last = service().cacheCounts();

    long[] since() {
      long[] now = service().cacheCounts();
      long[] d = {now[0] - last[0], now[1] - last[1]};
      last = now;
      return d;
    }
  }

  private static ObjectNode send(Fixtures.Device from, UUID room, String clientId, Long epoch) {
    ObjectNode m = JsonBody.object().put("room_id", room.toString()).put("message_type", "app")
        .put("content_type", "text/plain").put("client_message_id", clientId)
        .put("payload", JsonBody.b64(clientId.getBytes(StandardCharsets.UTF_8)));
    if (epoch != null) {
      m.put("epoch", epoch);
    }
    Principal p = new Principal(from.tenant(), from.id(), from.role());
    return service().submit(p, JsonBody.of(m, MessageService.SEND_FIELDS));
  }

  private static ObjectNode commit(Fixtures.Device from, UUID room, long epoch) {
    ObjectNode m = JsonBody.object().put("room_id", room.toString()).put("message_type", MessageService.MLS_COMMIT)
        .put("content_type", "message/mls").put("client_message_id", "commit-" + epoch).put("epoch", epoch)
        .put("payload", JsonBody.b64(new byte[] {1, 2, 3}));
    Principal p = new Principal(from.tenant(), from.id(), from.role());
    return service().submit(p, JsonBody.of(m, MessageService.SEND_FIELDS));
  }

  private static int status(Runnable r) {
    try {
      r.run();
      return 0;
    } catch (ApiException e) {
      return e.status();
    }
  }

  private static List<String> pending(Fixtures.Device d) throws Exception {
    return RealtimeFixtures.pendingClientIds(relay, d);
  }

  private static void sql(UUID tenant, String statement, Object... args) throws Exception {
    RealtimeFixtures.update(relay, tenant, statement, args);
  }

  private static long storedCopies(UUID tenant, Fixtures.Device sender, String clientId) throws Exception {
    return RealtimeFixtures.scalar(relay, tenant, Long.class,
        "select count(*) from messages where sender_device_id = ? and client_message_id = ?", sender.id(), clientId);
  }

  @Test
  void aCachedRoomIsUsedUntilItsMembersChangeAndAChangeIsNeverMissed() throws Exception {
    UUID tenant = Fixtures.tenant(relay);
    Fixtures.Device a = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device b = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device c = Fixtures.active(relay, tenant, "agent");
    UUID room = RealtimeFixtures.room(relay, tenant, List.of(a, b, c));
    Counts n = new Counts();

    long m1 = send(a, room, "m1", null).path("message_id").asLong();
    assertThat(n.since()).as("first send: the room is read").containsExactly(0, 0);
    long m2 = send(a, room, "m2", null).path("message_id").asLong();
    send(b, room, "b1", null);
    assertThat(n.since()).as("then from the copy").containsExactly(2, 0);
    assertThat(m2).isGreaterThan(m1);
    assertThat(pending(b)).containsExactly("m1", "m2");
    assertThat(pending(c)).containsExactly("m1", "m2", "b1");
    assertThat(pending(a)).containsExactly("b1");

    // a resend of a stored message, from the copy: answered with the stored id, stored once
    ObjectNode again = send(a, room, "m2", null);
    assertThat(again.path("duplicate").asBoolean()).isTrue();
    assertThat(again.path("message_id").asLong()).isEqualTo(m2);
    assertThat(n.since()).containsExactly(1, 0);
    assertThat(storedCopies(tenant, a, "m2")).isEqualTo(1);
    assertThat(pending(b)).containsExactly("m1", "m2");

    // c leaves behind the copy's back: the statement finds the room changed, stores nothing, and the
    // batch reads the room again: c gets nothing more, and cannot send
    sql(tenant, "delete from room_members where room_id = ? and device_id = ?", room, c.id());
    send(a, room, "m3", null);
    assertThat(n.since()).containsExactly(0, 1);
    assertThat(storedCopies(tenant, a, "m3")).isEqualTo(1);
    assertThat(pending(c)).containsExactly("m1", "m2", "b1");
    assertThat(pending(b)).containsExactly("m1", "m2", "m3");
    assertThat(status(() -> send(c, room, "c1", null))).isEqualTo(404);
    assertThat(n.since()).as("c has no route in the copy: the batch reads the room").containsExactly(0, 0);
    send(a, room, "m4", null);
    assertThat(n.since()).as("the copy is current again").containsExactly(1, 0);
    assertThat(pending(b)).containsExactly("m1", "m2", "m3", "m4");
    assertThat(pending(c)).containsExactly("m1", "m2", "b1");

    // the room is deleted: the copy's statement finds it gone, the send is refused, the copy forgotten
    sql(tenant, "delete from rooms where id = ?", room);
    assertThat(status(() -> send(a, room, "m5", null))).isEqualTo(404);
    assertThat(n.since()).containsExactly(0, 1);
    assertThat(status(() -> send(a, room, "m6", null))).isEqualTo(404);
    assertThat(n.since()).as("no copy any more").containsExactly(0, 0);
    assertThat(storedCopies(tenant, a, "m5") + storedCopies(tenant, a, "m6")).isZero();
  }

  @Test
  void anEpochMovedBehindTheCopyIsCheckedByTheStatement() throws Exception {
    UUID tenant = Fixtures.tenant(relay);
    Fixtures.Device a = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device b = Fixtures.active(relay, tenant, "agent");
    UUID room = RealtimeFixtures.room(relay, tenant, List.of(a, b));
    sql(tenant, "update rooms set mode = 'encrypted' where id = ?", room);
    Counts n = new Counts();

    send(b, room, "e0-1", 0L);
    send(b, room, "e0-2", 0L);
    assertThat(n.since()).containsExactly(1, 0);
    commit(a, room, 0); // not batched: the copy still says epoch 0
    assertThat(n.since()).containsExactly(0, 0);

    // the copy agrees with the request; the statement does not: nothing stored, the batch reads the
    // room and answers 409 with the epoch the room has
    assertThatThrownBy(() -> send(b, room, "stale", 0L)).isInstanceOfSatisfying(ApiException.class, e -> {
      assertThat(e.status()).isEqualTo(409);
      assertThat(e.body().path("current_epoch").asLong()).isEqualTo(1);
    });
    assertThat(n.since()).containsExactly(0, 1);
    assertThat(storedCopies(tenant, b, "stale")).isZero();

    send(b, room, "e1-1", 1L);
    assertThat(n.since()).as("that read brought the copy to epoch 1").containsExactly(1, 0);
    // a request for an epoch the copy does not have is decided by a read of the room
    assertThat(status(() -> send(b, room, "e5", 5L))).isEqualTo(409);
    assertThat(n.since()).containsExactly(0, 0);
    assertThat(pending(a)).containsExactly("e0-1", "e0-2", "e1-1");
  }

  private static String roomName(UUID tenant, UUID room) throws Exception {
    return RealtimeFixtures.scalar(relay, tenant, String.class, "select name from rooms where id = ?", room);
  }

  private static long oneRoundTrip(UUID tenant, String statement, UUID room) throws Exception {
    return relay.database().inTenantInOneRoundTrip(tenant, statement, (c, p) -> {
      p.setObject(2, room);
      try (ResultSet rs = chat.agentvault.relay.db.Database.resultOf(p)) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  /** What the batch from the copy relies on: tenant, statement and commit are one transaction. */
  @Test
  void oneRoundTripIsOneTransactionUnderTheTenant() throws Exception {
    UUID tenant = Fixtures.tenant(relay);
    UUID other = Fixtures.tenant(relay);
    Fixtures.Device a = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device z = Fixtures.active(relay, other, "agent");
    UUID room = RealtimeFixtures.room(relay, tenant, List.of(a));
    UUID theirs = RealtimeFixtures.room(relay, other, List.of(z));
    String rename = "with x as (update rooms set name = 'renamed' where id = ? returning id) select count(*) from x";

    assertThat(oneRoundTrip(tenant, rename, room)).isEqualTo(1);
    assertThat(roomName(tenant, room)).as("committed when it returns").isEqualTo("renamed");
    assertThat(oneRoundTrip(tenant, rename, theirs)).as("row-level security, tenant set").isZero();
    assertThat(roomName(other, theirs)).isNotEqualTo("renamed");

    // a failure after the write: nothing of it is committed
    String failing = "with x as (update rooms set name = 'lost' where id = ? returning id)"
        + " select 1 / (count(*) - 1)::int from x";
    assertThatThrownBy(() -> oneRoundTrip(tenant, failing, room)).isInstanceOf(java.sql.SQLException.class)
        .hasMessageContaining("division by zero");
    assertThat(roomName(tenant, room)).isEqualTo("renamed");

    // the pool's connections are transactional again afterwards: a failed transaction is rolled back
    for (int i = 0; i < 10; i++) {
      assertThatThrownBy(() -> relay.database().inTenant(tenant, c -> {
        try (PreparedStatement p = c.prepareStatement("update rooms set name = 'rolled back' where id = ?")) {
          p.setObject(1, room);
          assertThat(p.executeUpdate()).isEqualTo(1);
        }
        throw new IllegalStateException("fail the transaction");
      })).isInstanceOf(IllegalStateException.class);
    }
    assertThat(roomName(tenant, room)).isEqualTo("renamed");
  }
}
