package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.message.MessageApi;
import chat.agentvault.relay.message.Store;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The group commit of sends and acknowledgements: many concurrent requests share transactions, and
 * each still gets exactly its own answer (stored, duplicate, 404, 400, 409), every accepted message
 * is stored once and delivered in id order, and acknowledged deliveries never come back.
 */
@ExtendWith(TestRelayExtension.class)
class GroupCommitTest {
  static TestRelay relay;

  private static MessageApi api() {
    return relay.context().messages();
  }

  private static Principal principal(Fixtures.Device d) {
    return new Principal(d.tenant(), d.id(), d.role());
  }

  private static JsonBody send(UUID room, String type, String clientId, Long epoch) {
    ObjectNode m = JsonBody.object().put("room_id", room.toString()).put("message_type", type)
        .put("content_type", "application/octet-stream").put("client_message_id", clientId)
        .put("payload", JsonBody.b64(clientId.getBytes(StandardCharsets.UTF_8)));
    if (epoch != null) {
      m.put("epoch", epoch);
    }
    return JsonBody.of(m, chat.agentvault.relay.message.MessageService.SEND_FIELDS);
  }

  private static void encrypt(UUID tenant, UUID room) throws Exception {
    relay.database().asAdmin(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement("update rooms set mode = 'encrypted' where id = ?")) {
        p.setObject(1, room);
        return p.executeUpdate();
      }
    });
  }

  /** One request and what it must get. */
  private record Req(String label, Fixtures.Device from, JsonBody body) {}

  /** The answer of a request or its error status. */
  private record Answer(ObjectNode body, int status, JsonNode error) {}

  private static Answer run(Req r) {
    try {
      return new Answer(api().submit(principal(r.from), r.body), 0, null);
    } catch (ApiException e) {
      return new Answer(null, e.status(), e.body());
    } catch (CompletionException e) {
      throw e;
    }
  }

  @Test
  void concurrentSendsEachGetTheirOwnAnswer() throws Exception {
    UUID tenant = Fixtures.tenant(relay);
    Fixtures.Device a = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device b = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device c = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device outsider = Fixtures.active(relay, tenant, "agent");
    UUID plain = RealtimeFixtures.room(relay, tenant, List.of(a, b, c));
    UUID secret = RealtimeFixtures.room(relay, tenant, List.of(a, b, c));
    encrypt(tenant, secret);
    UUID elsewhere = RealtimeFixtures.room(relay, tenant, List.of(outsider));

    try (WsClient wsB = WsClient.connect(relay, relay.context().jwt().issue(principal(b)).token())) {
      List<Req> reqs = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        reqs.add(new Req("plain", a, send(plain, "application", "m-" + i, null)));
        if (i % 10 == 0) { // 15 duplicates, sent concurrently with their originals
          reqs.add(new Req("dup", a, send(plain, "application", "m-" + i, null)));
        }
      }
      for (int i = 0; i < 10; i++) {
        reqs.add(new Req("not-member", outsider, send(plain, "application", "x-" + i, null)));
      }
      for (int i = 0; i < 10; i++) {
        reqs.add(new Req("secret", a, send(secret, "application", "s-" + i, null)));
      }
      for (int i = 0; i < 5; i++) {
        reqs.add(new Req("stale-epoch", a, send(secret, "application", "e-" + i, 7L)));
      }
      for (int i = 0; i < 5; i++) {
        reqs.add(new Req("mls-in-plaintext", a, send(plain, "mls_application", "p-" + i, null)));
      }
      reqs.add(new Req("commit", b, send(secret, "mls_commit", "commit-b", 0L)));
      reqs.add(new Req("conflicting-commit", c, send(secret, "mls_commit", "commit-c", 3L)));
      reqs.add(new Req("other-room", outsider, send(elsewhere, "application", "o-1", null)));
      assertThat(reqs).hasSize(198);

      ExecutorService pool = Executors.newFixedThreadPool(reqs.size());
      CountDownLatch go = new CountDownLatch(1);
      List<CompletableFuture<Answer>> futures = new ArrayList<>();
      for (Req r : reqs) {
        futures.add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          return run(r);
        }, pool));
      }
      go.countDown();
      List<Answer> answers = new ArrayList<>();
      for (CompletableFuture<Answer> f : futures) {
        answers.add(f.get(60, TimeUnit.SECONDS));
      }
      pool.shutdown();

      Map<String, Long> idOf = new HashMap<>();
      Map<String, Integer> firsts = new HashMap<>();
      Set<Long> acceptedForB = new HashSet<>();
      for (int i = 0; i < reqs.size(); i++) {
        Req r = reqs.get(i);
        Answer an = answers.get(i);
        String cmid = r.body.string("client_message_id");
        switch (r.label) {
          case "plain", "dup", "secret", "other-room" -> {
            assertThat(an.status).as(r.label + " " + cmid + " " + an.error).isZero();
            assertThat(an.body.path("client_message_id").asText()).isEqualTo(cmid);
            long id = an.body.path("message_id").asLong();
            Long before = idOf.putIfAbsent(cmid, id);
            if (before != null) {
              assertThat(id).as("both copies of " + cmid + " answer one id").isEqualTo(before);
            }
            if (!an.body.path("duplicate").asBoolean()) {
              firsts.merge(cmid, 1, Integer::sum);
            }
            if (!r.label.equals("other-room")) {
              acceptedForB.add(id);
            }
          }
          case "not-member" -> assertThat(an.status).as(cmid).isEqualTo(404);
          case "mls-in-plaintext" -> assertThat(an.status).as(cmid).isEqualTo(400);
          case "stale-epoch" -> {
            assertThat(an.status).as(cmid).isEqualTo(409);
            assertThat(an.error.path("current_epoch").asLong()).isBetween(0L, 1L);
          }
          case "commit" -> {
            assertThat(an.status).as("" + an.error).isZero();
            acceptedForB.remove(an.body.path("message_id").asLong()); // a sender gets no copy
          }
          case "conflicting-commit" -> {
            assertThat(an.status).isEqualTo(409);
            assertThat(an.error.path("current_epoch").asLong()).isBetween(0L, 1L);
          }
          default -> throw new AssertionError(r.label);
        }
      }
      // exactly one copy of each accepted client id was stored (and answered as not a duplicate)
      assertThat(firsts).hasSize(161).allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
      Map<String, Integer> rows = new HashMap<>();
      relay.database().inTenant(tenant, conn -> {
        try (PreparedStatement p = conn.prepareStatement(
            "select client_message_id, count(*) from messages where sender_device_id = any(?) group by 1")) {
          p.setArray(1, conn.createArrayOf("uuid", new Object[] {a.id(), outsider.id()}));
          ResultSet rs = p.executeQuery();
          while (rs.next()) {
            rows.put(rs.getString(1), rs.getInt(2));
          }
        }
        return null;
      });
      assertThat(rows.keySet()).isEqualTo(idOf.keySet());
      assertThat(rows.values()).containsOnly(1);

      // b: everything accepted for it (a's messages to both rooms), once, in id order, over the socket
      List<Long> live = new ArrayList<>();
      while (live.size() < acceptedForB.size()) {
        JsonNode f = wsB.next("message", 20);
        assertThat(f).as("frames so far " + live.size()).isNotNull();
        if (!f.path("message").path("message_type").asText().equals("event")) {
          live.add(f.path("message").path("message_id").asLong());
        }
      }
      assertThat(new HashSet<>(live)).isEqualTo(acceptedForB);
      assertThat(live).isSorted().doesNotHaveDuplicates();
      // and as pending deliveries, in the same order
      List<Long> pending = new ArrayList<>();
      for (Store.Stored s : relay.database().inTenant(tenant, conn -> Store.pending(conn, tenant, b.id(), 0, 1000))) {
        if (!s.messageType().equals("event")) {
          pending.add(s.id());
        }
      }
      assertThat(pending).isEqualTo(live);
      // a's messages to the plaintext room were stored in the order their first copies arrived at the writer:
      // ids are unique and the epoch moved exactly once
      relay.database().inTenant(tenant, conn -> {
        try (PreparedStatement p = conn.prepareStatement("select epoch from rooms where id = ?")) {
          p.setObject(1, secret);
          ResultSet rs = p.executeQuery();
          assertThat(rs.next()).isTrue();
          assertThat(rs.getLong(1)).isEqualTo(1);
        }
        return null;
      });
    }
  }

  @Test
  void concurrentAcksCountEachDeliveryOnceAndNeverReturnIt() throws Exception {
    UUID tenant = Fixtures.tenant(relay);
    Fixtures.Device a = Fixtures.active(relay, tenant, "agent");
    List<Fixtures.Device> rs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      rs.add(Fixtures.active(relay, tenant, "agent"));
    }
    List<Fixtures.Device> members = new ArrayList<>(rs);
    members.add(0, a);
    UUID room = RealtimeFixtures.room(relay, tenant, members);
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ids.add(api().submit(principal(a), send(room, "application", "k-" + i, null)).path("message_id").asLong());
    }
    // each recipient acknowledges every id twice (overlapping halves), all at once; plus a stranger's ids
    ExecutorService pool = Executors.newFixedThreadPool(64);
    CountDownLatch go = new CountDownLatch(1);
    Map<UUID, List<CompletableFuture<Integer>>> answers = new HashMap<>();
    for (Fixtures.Device r : rs) {
      List<List<Long>> parts = List.of(ids.subList(0, 30), ids.subList(10, 40), ids.subList(0, 40), List.of(-1L, 999_999_999L));
      for (List<Long> part : parts) {
        answers.computeIfAbsent(r.id(), k -> new ArrayList<>()).add(CompletableFuture.supplyAsync(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          return api().ack(principal(r), part);
        }, pool));
      }
    }
    go.countDown();
    for (Fixtures.Device r : rs) {
      int total = 0;
      for (CompletableFuture<Integer> f : answers.get(r.id())) {
        total += f.get(60, TimeUnit.SECONDS);
      }
      assertThat(total).as("deliveries of " + r.id() + " counted once across its acks").isEqualTo(40);
      List<Store.Stored> left = relay.database().inTenant(tenant, c -> Store.pending(c, tenant, r.id(), 0, 1000));
      assertThat(left).as("acknowledged deliveries are not returned again")
          .allMatch(s -> s.messageType().equals("event"));
    }
    pool.shutdown();
    // the sender acknowledging ids it was never sent changes nothing
    assertThat(api().ack(principal(a), ids)).isZero();
  }

  /** The client ids of {@code d}'s pending deliveries. */
  private static List<String> pendingIds(Fixtures.Device d) throws Exception {
    return RealtimeFixtures.pendingClientIds(relay, d);
  }

  private static long sql(UUID tenant, String statement, Object... args) throws Exception {
    return RealtimeFixtures.update(relay, tenant, statement, args); // as the relay's role, under RLS, as the routes do
  }

  private static long membersVersion(UUID tenant, UUID room) throws Exception {
    return RealtimeFixtures.scalar(relay, tenant, Long.class, "select members_version from rooms where id = ?", room);
  }

  @Test
  void batchedSendsFollowEveryMembershipChangeAtOnce() throws Exception {
    // the send batch keeps each room's recipient list in memory, checked against rooms.members_version
    UUID tenant = Fixtures.tenant(relay);
    Fixtures.Device a = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device b = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device c = Fixtures.active(relay, tenant, "agent");
    Fixtures.Device d = Fixtures.active(relay, tenant, "agent");
    UUID room = RealtimeFixtures.room(relay, tenant, List.of(a, b, c));
    api().submit(principal(a), send(room, "app", "m1", null));
    assertThat(pendingIds(b)).containsExactly("m1");
    assertThat(pendingIds(c)).containsExactly("m1");

    long v = membersVersion(tenant, room);
    assertThat(sql(tenant, "delete from room_members where room_id = ? and device_id = ?", room, c.id())).isEqualTo(1);
    assertThat(membersVersion(tenant, room)).isGreaterThan(v);
    api().submit(principal(a), send(room, "app", "m2", null));
    assertThat(pendingIds(c)).as("removed: nothing after the removal").containsExactly("m1");
    assertThat(pendingIds(b)).containsExactly("m1", "m2");
    assertThatThrownBy(() -> api().submit(principal(c), send(room, "app", "c1", null)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(404));

    sql(tenant, "insert into room_members (tenant_id, room_id, device_id, role, status, joined_at)"
        + " values (?, ?, ?, 'member', 'invited', now())", tenant, room, d.id());
    api().submit(principal(a), send(room, "app", "m3", null));
    assertThat(pendingIds(d)).as("invited, not joined").isEmpty();
    assertThatThrownBy(() -> api().submit(principal(d), send(room, "app", "d1", null)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(403));
    sql(tenant, "update room_members set status = 'joined' where room_id = ? and device_id = ?", room, d.id());
    api().submit(principal(a), send(room, "app", "m4", null));
    assertThat(pendingIds(d)).as("joined: from then on").containsExactly("m4");
    api().submit(principal(d), send(room, "app", "d2", null));
    assertThat(pendingIds(a)).containsExactly("d2");

    // a member's webhook decides who is told: its change is a new version of the room's list too
    v = membersVersion(tenant, room);
    sql(tenant, "update devices set webhook_url = 'https://hooks.example/b' where id = ?", b.id());
    assertThat(membersVersion(tenant, room)).isGreaterThan(v);
    v = membersVersion(tenant, room);
    sql(tenant, "update devices set name = 'renamed' where id = ?", b.id());
    assertThat(membersVersion(tenant, room)).as("other device changes leave it").isEqualTo(v);
  }
}
