package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.crypto.Blake2b;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.ratchet.Sessions;
import chat.agentvault.relay.enroll.InviteToken;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Tenants' bootstrap owners, invites and enrollment (docs/protocol.md, sections of the same names). */
@ExtendWith(TestRelayExtension.class)
class EnrollmentTest {
  static TestRelay relay;
  static Http http;

  @BeforeAll
  static void start() {
    http = new Http(relay);
  }

  // ------------------------------------------------------------------ bootstrap

  @Test
  void theBootstrapOwnerEnrollsAndIsActiveAtOnce() {
    TestRelay.TenantBootstrap b = relay.createTenant("acme");
    DeviceIdentity id = DeviceIdentity.generate();
    Http.Response r = Fixtures.enrollRequest(relay, b.ownerToken(), "first owner", id, Http.json());
    assertThat(r.status()).isEqualTo(201);
    assertThat(r.body().path("tenant_id").asText()).isEqualTo(b.tenantId().toString());
    assertThat(r.body().path("state").asText()).isEqualTo("ACTIVE");
    assertThat(r.body().path("role").asText()).isEqualTo("owner");
    assertThat(r.body().path("fingerprint").asText()).isEqualTo(id.fingerprint().full());
    Fixtures.Device owner = new Fixtures.Device(b.tenantId(), UUID.fromString(r.body().path("device_id").asText()),
        "owner", id);
    String token = Fixtures.login(relay, owner);
    Http.Response me = http.get("/api/v1/devices/me", token);
    assertThat(me.status()).isEqualTo(200);
    assertThat(me.body().path("state").asText()).isEqualTo("ACTIVE");
    assertThat(me.body().path("role").asText()).isEqualTo("owner");
    // the bootstrap token is single use
    assertInvalid(Fixtures.enrollRequest(relay, b.ownerToken(), "second", DeviceIdentity.generate(), Http.json()));
  }

  // ------------------------------------------------------------------ invites

  @Test
  void anOwnerCreatesListsAndRevokesInvites() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Instant before = Instant.now();
    Http.Response created = http.post("/api/v1/invites", Http.json(), o.token());
    assertThat(created.status()).isEqualTo(201);
    String token = created.body().path("token").asText();
    assertThat(token).startsWith("avi1_").hasSize(5 + 64);
    assertThat(InviteToken.tenantOf(token)).contains(o.tenant());
    assertThat(created.body().path("role").asText()).isEqualTo("agent");
    Instant expires = Instant.parse(created.body().path("expires_at").asText());
    assertThat(expires).isBetween(before.plus(Duration.ofMinutes(10)).minusSeconds(5),
        Instant.now().plus(Duration.ofMinutes(10)).plusSeconds(5));
    String id = created.body().path("invite_id").asText();

    Http.Response ownerInvite = http.post("/api/v1/invites",
        Http.json().put("role", "owner").put("ttl_seconds", 3600), o.token());
    assertThat(ownerInvite.status()).isEqualTo(201);
    assertThat(ownerInvite.body().path("role").asText()).isEqualTo("owner");

    Map<String, JsonNode> listed = invites(o.token());
    assertThat(listed.get(id).path("status").asText()).isEqualTo("active");
    assertThat(listed.get(id).path("role").asText()).isEqualTo("agent");
    assertThat(listed.get(ownerInvite.body().path("invite_id").asText()).path("role").asText()).isEqualTo("owner");
    // the bootstrap invite is listed as consumed; no token anywhere in the list
    assertThat(listed.values()).anyMatch(i -> i.path("status").asText().equals("consumed"));
    assertThat(http.get("/api/v1/invites", o.token()).raw()).doesNotContain("avi1_").doesNotContain("token");

    assertThat(http.delete("/api/v1/invites/" + id, o.token()).status()).isEqualTo(204);
    assertThat(invites(o.token()).get(id).path("status").asText()).isEqualTo("revoked");
    assertThat(http.delete("/api/v1/invites/" + id, o.token()).status()).isEqualTo(204); // idempotent
    assertInvalid(Fixtures.enrollRequest(relay, token, "late", DeviceIdentity.generate(), Http.json()));

    Http.Response unknown = http.delete("/api/v1/invites/" + UUID.randomUUID(), o.token());
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(http.delete("/api/v1/invites/not-a-uuid", o.token()).status()).isEqualTo(400);

    // a consumed invite cannot be revoked any more
    String used = Fixtures.invite(relay, o.token(), "agent");
    Fixtures.enroll(relay, used, "agent");
    String usedId = invites(o.token()).entrySet().stream()
        .filter(e -> e.getValue().path("status").asText().equals("consumed")
            && e.getValue().path("role").asText().equals("agent"))
        .map(Map.Entry::getKey).findFirst().orElseThrow();
    Http.Response consumed = http.delete("/api/v1/invites/" + usedId, o.token());
    assertThat(consumed.status()).isEqualTo(409);
    assertThat(consumed.detail()).isEqualTo("invite already consumed");
  }

  @Test
  void invitesAreValidated() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    assertThat(http.post("/api/v1/invites", Http.json().put("role", "admin"), o.token()).status()).isEqualTo(400);
    assertThat(http.post("/api/v1/invites", Http.json().put("ttl_seconds", 0), o.token()).status()).isEqualTo(400);
    assertThat(http.post("/api/v1/invites", Http.json().put("ttl_seconds", 86401), o.token()).status()).isEqualTo(400);
    assertThat(http.post("/api/v1/invites", Http.json().put("ttl_seconds", "60"), o.token()).status()).isEqualTo(400);
    assertThat(http.post("/api/v1/invites", Http.json().put("uses", 2), o.token()).detail())
        .isEqualTo("unknown field: uses");
    assertThat(http.post("/api/v1/invites", Http.json(), null).status()).isEqualTo(401);
  }

  @Test
  void theTokenIsShownOnceAndTheDatabaseHoldsOnlyItsBlake2bHash() throws Exception {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Http.Response created = http.post("/api/v1/invites", Http.json(), o.token());
    String token = created.body().path("token").asText();
    UUID id = UUID.fromString(created.body().path("invite_id").asText());
    String row = relay.database().asAdmin(o.tenant(), c -> {
      try (PreparedStatement p = c.prepareStatement(
          "select token_hash, row_to_json(i)::text from invites i where id = ?")) {
        p.setObject(1, id);
        ResultSet rs = p.executeQuery();
        assertThat(rs.next()).isTrue();
        byte[] hash = rs.getBytes(1);
        assertThat(hash).hasSize(32)
            .isEqualTo(Blake2b.hash(token.getBytes(StandardCharsets.US_ASCII), 32))
            .isEqualTo(InviteToken.hash(token));
        return rs.getString(2);
      }
    });
    String secret = token.substring(5);
    assertThat(row).doesNotContain(token).doesNotContain(secret)
        .doesNotContain(JsonBody.b64(Base64.getUrlDecoder().decode(secret)));
    // nowhere else either: no other column of any table holds the token
    long hits = relay.database().asAdmin(o.tenant(), c -> {
      long n = 0;
      for (String table : new String[] {"invites", "enrollment_challenges", "devices"}) {
        try (PreparedStatement p = c.prepareStatement(
            "select count(*) from " + table + " t where position(? in row_to_json(t)::text) > 0")) {
          p.setString(1, secret);
          ResultSet rs = p.executeQuery();
          rs.next();
          n += rs.getLong(1);
        }
      }
      return n;
    });
    assertThat(hits).isZero();
  }

  // ------------------------------------------------------------------ enrollment

  @Test
  void fiftyConcurrentEnrollmentsWithOneInviteExactlyOneSucceeds() throws Exception {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    String invite = Fixtures.invite(relay, o.token(), "agent");
    int n = 50;
    List<ObjectNode> bodies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Http.Response ch = http.post("/api/v1/enroll/challenge", Http.json().put("invite", invite), null);
      assertThat(ch.status()).isEqualTo(200);
      bodies.add(Fixtures.enrollBody(invite, ch.body().path("challenge_id").asText(),
          Base64.getDecoder().decode(ch.body().path("challenge").asText()), "racer-" + i, DeviceIdentity.generate()));
    }
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Http.Response>> fs = new ArrayList<>();
      for (ObjectNode body : bodies) {
        fs.add(pool.submit(() -> {
          go.await();
          return http.post("/api/v1/enroll", body, null);
        }));
      }
      go.countDown();
      List<Http.Response> rs = new ArrayList<>();
      for (Future<Http.Response> f : fs) {
        rs.add(f.get());
      }
      Map<Integer, Long> byStatus = rs.stream().collect(Collectors.groupingBy(Http.Response::status, Collectors.counting()));
      assertThat(byStatus).containsOnlyKeys(201, 400).containsEntry(201, 1L).containsEntry(400, 49L);
      assertThat(rs.stream().filter(r -> r.status() == 400).map(Http.Response::detail)).containsOnly("invalid invite");
    } finally {
      pool.shutdownNow();
    }
    long agents = relay.database().asAdmin(o.tenant(), c -> {
      // the admin role is a superuser here (RLS does not apply to it): filter by tenant explicitly
      try (PreparedStatement p = c.prepareStatement(
          "select count(*) from devices where tenant_id = ? and role = 'agent'")) {
        p.setObject(1, o.tenant());
        ResultSet rs = p.executeQuery();
        rs.next();
        return rs.getLong(1);
      }
    });
    assertThat(agents).isEqualTo(1);
  }

  @Test
  void expiredRevokedReusedUnknownAndMalformedInvitesAllAnswerTheSame400() throws Exception {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);

    // expired: a challenge taken while it was valid does not help after expiry
    Http.Response shortLived = http.post("/api/v1/invites", Http.json().put("ttl_seconds", 1), o.token());
    String expired = shortLived.body().path("token").asText();
    DeviceIdentity late = DeviceIdentity.generate();
    Http.Response ch = http.post("/api/v1/enroll/challenge", Http.json().put("invite", expired), null);
    assertThat(ch.status()).isEqualTo(200);
    Thread.sleep(1200);
    assertInvalid(http.post("/api/v1/enroll", Fixtures.enrollBody(expired, ch.body().path("challenge_id").asText(),
        Base64.getDecoder().decode(ch.body().path("challenge").asText()), "late", late), null));
    assertInvalid(Fixtures.enrollRequest(relay, expired, "late", late, Http.json()));
    assertThat(invites(o.token()).get(shortLived.body().path("invite_id").asText()).path("status").asText())
        .isEqualTo("expired");

    // revoked, with a challenge taken before the revocation
    String revoked = Fixtures.invite(relay, o.token(), "agent");
    Http.Response ch2 = http.post("/api/v1/enroll/challenge", Http.json().put("invite", revoked), null);
    String revokedId = invites(o.token()).entrySet().stream()
        .filter(e -> e.getValue().path("status").asText().equals("active")).map(Map.Entry::getKey)
        .findFirst().orElseThrow();
    assertThat(http.delete("/api/v1/invites/" + revokedId, o.token()).status()).isEqualTo(204);
    assertInvalid(http.post("/api/v1/enroll", Fixtures.enrollBody(revoked, ch2.body().path("challenge_id").asText(),
        Base64.getDecoder().decode(ch2.body().path("challenge").asText()), "x", DeviceIdentity.generate()), null));
    assertInvalid(Fixtures.enrollRequest(relay, revoked, "x", DeviceIdentity.generate(), Http.json()));

    // reused
    String once = Fixtures.invite(relay, o.token(), "agent");
    Fixtures.enroll(relay, once, "first");
    assertInvalid(Fixtures.enrollRequest(relay, once, "second", DeviceIdentity.generate(), Http.json()));

    // unknown: well-formed, in this tenant or in none
    assertInvalid(Fixtures.enrollRequest(relay, InviteToken.generate(o.tenant()), "x", DeviceIdentity.generate(), Http.json()));
    assertInvalid(Fixtures.enrollRequest(relay, InviteToken.generate(UUID.randomUUID()), "x", DeviceIdentity.generate(), Http.json()));

    // malformed
    for (String bad : new String[] {"", "hello", "avi1_", "avi1_" + "A".repeat(64), "avi2_" + once.substring(5),
        once + "=", once.substring(0, once.length() - 1) + "*"}) {
      assertInvalid(http.post("/api/v1/enroll/challenge", Http.json().put("invite", bad), null));
      ObjectNode body = Fixtures.enrollBody(bad, UUID.randomUUID().toString(), new byte[32], "x", DeviceIdentity.generate());
      assertInvalid(http.post("/api/v1/enroll", body, null));
    }
  }

  @Test
  void forgedProofsAreRefusedWithTheSame400AndLeaveTheInviteUsable() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    String invite = Fixtures.invite(relay, o.token(), "agent");
    String other = Fixtures.invite(relay, o.token(), "agent");
    DeviceIdentity me = DeviceIdentity.generate();

    // signed with another key than the identity presented
    Challenge c1 = challenge(invite);
    ObjectNode wrongKey = Fixtures.enrollBody(invite, c1.id, c1.bytes, "x", DeviceIdentity.generate());
    wrongKey.put("public_identity", JsonBody.b64(me.publicIdentity().encode()));
    assertInvalid(http.post("/api/v1/enroll", wrongKey, null));
    // the challenge was consumed by that attempt: the right proof over it fails now
    assertInvalid(http.post("/api/v1/enroll", Fixtures.enrollBody(invite, c1.id, c1.bytes, "x", me), null));

    // a signature over another challenge of the same invite
    Challenge c2 = challenge(invite);
    Challenge c3 = challenge(invite);
    assertInvalid(http.post("/api/v1/enroll", Fixtures.enrollBody(invite, c2.id, c3.bytes, "x", me), null));

    // the challenge of another invite, correctly signed over this invite
    Challenge c4 = challenge(other);
    assertInvalid(http.post("/api/v1/enroll", Fixtures.enrollBody(invite, c4.id, c4.bytes, "x", me), null));

    // a signature over another invite's hash
    Challenge c5 = challenge(invite);
    ObjectNode otherHash = Fixtures.enrollBody(other, c5.id, c5.bytes, "x", me);
    otherHash.put("invite", invite);
    assertInvalid(http.post("/api/v1/enroll", otherHash, null));

    // zero signature, unknown challenge id
    Challenge c6 = challenge(invite);
    ObjectNode zero = Fixtures.enrollBody(invite, c6.id, c6.bytes, "x", me);
    zero.put("signature", JsonBody.b64(new byte[64]));
    assertInvalid(http.post("/api/v1/enroll", zero, null));
    assertInvalid(http.post("/api/v1/enroll", Fixtures.enrollBody(invite, UUID.randomUUID().toString(),
        Csprng.randomBytes(32), "x", me), null));

    // none of it consumed the invite: the honest enrollment (c3, still unused) succeeds
    Http.Response ok = http.post("/api/v1/enroll", Fixtures.enrollBody(invite, c3.id, c3.bytes, "honest", me), null);
    assertThat(ok.status()).isEqualTo(201);
    assertThat(ok.body().path("state").asText()).isEqualTo("PENDING");
    assertThat(ok.body().path("role").asText()).isEqualTo("agent");
    // the other invite, whose challenge was misused above, is untouched
    assertThat(Fixtures.enrollRequest(relay, other, "other", DeviceIdentity.generate(), Http.json()).status())
        .isEqualTo(201);
  }

  @Test
  void enrollmentStoresThePublicKeysItIsGiven() throws Exception {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    DeviceIdentity id = DeviceIdentity.generate();
    ObjectNode extra = Http.json().put("hub_address", "agent-" + UUID.randomUUID() + "@hub.example")
        .put("webhook_url", "https://hooks.example.com/agentvault?x=1");
    try (Sessions s = Sessions.builder(id).build()) {
      var bundles = extra.putArray("prekey_bundles");
      for (int i = 0; i < 3; i++) {
        bundles.add(JsonBody.b64(s.bundle().toBytes()));
      }
      extra.put("fallback_prekey_bundle", JsonBody.b64(s.bundleWithoutOneTimePreKey().toBytes()));
    }
    extra.putArray("key_packages").add(JsonBody.b64(Csprng.randomBytes(300))).add(JsonBody.b64(Csprng.randomBytes(400)));
    extra.put("last_resort_key_package", JsonBody.b64(Csprng.randomBytes(350)));
    Fixtures.Device d = Fixtures.enroll(relay, Fixtures.invite(relay, o.token(), "agent"), "keyed", id, extra);

    String summary = relay.database().asAdmin(o.tenant(), c -> {
      StringBuilder b = new StringBuilder();
      try (PreparedStatement p = c.prepareStatement(
          "select one_time, count(*) from prekey_bundles where device_id = ? group by one_time order by one_time")) {
        p.setObject(1, d.id());
        ResultSet rs = p.executeQuery();
        while (rs.next()) {
          b.append("pk ").append(rs.getBoolean(1)).append('=').append(rs.getLong(2)).append(';');
        }
      }
      try (PreparedStatement p = c.prepareStatement(
          "select last_resort, count(*) from key_packages where device_id = ? group by last_resort order by last_resort")) {
        p.setObject(1, d.id());
        ResultSet rs = p.executeQuery();
        while (rs.next()) {
          b.append("kp ").append(rs.getBoolean(1)).append('=').append(rs.getLong(2)).append(';');
        }
      }
      try (PreparedStatement p = c.prepareStatement(
          "select webhook_url, public_identity, fingerprint, state from devices where id = ?")) {
        p.setObject(1, d.id());
        ResultSet rs = p.executeQuery();
        rs.next();
        assertThat(rs.getBytes(2)).isEqualTo(id.publicIdentity().encode());
        assertThat(rs.getString(3)).isEqualTo(id.fingerprint().full());
        b.append(rs.getString(1)).append(';').append(rs.getString(4));
      }
      return b.toString();
    });
    assertThat(summary).isEqualTo("pk false=1;pk true=3;kp false=2;kp true=1;https://hooks.example.com/agentvault?x=1;PENDING");
    Fixtures.approve(relay, o, d);
    String agentToken = Fixtures.login(relay, d);
    Http.Response me = http.get("/api/v1/devices/me", agentToken);
    assertThat(me.body().path("hub_address").asText()).isEqualTo(extra.path("hub_address").asText());
    assertThat(me.body().path("webhook_url").asText()).isEqualTo("https://hooks.example.com/agentvault?x=1");
  }

  @Test
  void badKeysAndUrlsAreRefusedWithoutConsumingTheInvite() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    String invite = Fixtures.invite(relay, o.token(), "agent");
    DeviceIdentity id = DeviceIdentity.generate();
    DeviceIdentity stranger = DeviceIdentity.generate();
    String strangerBundle;
    String ownBundle;
    String ownFallback;
    try (Sessions s = Sessions.builder(stranger).build(); Sessions mine = Sessions.builder(id).build()) {
      strangerBundle = JsonBody.b64(s.bundle().toBytes());
      ownBundle = JsonBody.b64(mine.bundle().toBytes());
      ownFallback = JsonBody.b64(mine.bundleWithoutOneTimePreKey().toBytes());
    }
    ObjectNode foreign = Http.json();
    foreign.putArray("prekey_bundles").add(strangerBundle);
    assertThat(detail(invite, id, foreign)).isEqualTo("prekey_bundles[0] is not of the enrolling identity");

    byte[] tampered = Base64.getDecoder().decode(ownBundle);
    tampered[tampered.length - 40] ^= 1; // inside the signature
    ObjectNode forged = Http.json();
    forged.putArray("prekey_bundles").add(JsonBody.b64(tampered));
    assertThat(detail(invite, id, forged)).isEqualTo("invalid prekey_bundles[0]");

    ObjectNode fallbackAsOneTime = Http.json();
    fallbackAsOneTime.putArray("prekey_bundles").add(ownFallback);
    assertThat(detail(invite, id, fallbackAsOneTime)).isEqualTo("prekey_bundles[0] has no one-time prekey");
    assertThat(detail(invite, id, Http.json().put("fallback_prekey_bundle", ownBundle)))
        .isEqualTo("fallback_prekey_bundle must not have a one-time prekey");

    ObjectNode notBase64 = Http.json();
    notBase64.putArray("key_packages").add("!!");
    assertThat(detail(invite, id, notBase64)).isEqualTo("key_packages[0] must be base64");
    ObjectNode huge = Http.json();
    huge.putArray("key_packages").add(JsonBody.b64(new byte[64 * 1024 + 1]));
    assertThat(status(invite, id, huge)).isEqualTo(413);

    for (String url : new String[] {"ftp://example.com/x", "example.com", "https://", "https://user:pw@example.com/",
        "javascript:alert(1)"}) {
      assertThat(status(invite, id, Http.json().put("webhook_url", url))).as(url).isEqualTo(400);
    }
    assertThat(status(invite, id, Http.json().put("hub_address", "has space"))).isEqualTo(400);

    // a public identity whose binding does not verify
    Challenge c = challenge(invite);
    byte[] pub = id.publicIdentity().encode();
    pub[pub.length - 1] ^= 1;
    ObjectNode badIdentity = Fixtures.enrollBody(invite, c.id, c.bytes, "x", id);
    badIdentity.put("public_identity", JsonBody.b64(pub));
    Http.Response r = http.post("/api/v1/enroll", badIdentity, null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.detail()).isEqualTo("invalid public_identity");

    // after all that the invite still works, with good keys
    ObjectNode good = Http.json();
    good.putArray("prekey_bundles").add(ownBundle);
    good.put("fallback_prekey_bundle", ownFallback);
    assertThat(status(invite, id, good)).isEqualTo(201);
  }

  @Test
  void anIdentityOrHubAddressEnrollsOncePerTenant() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    DeviceIdentity id = DeviceIdentity.generate();
    String hub = "hub-" + UUID.randomUUID();
    Fixtures.enroll(relay, Fixtures.invite(relay, o.token(), "agent"), "a", id, Http.json().put("hub_address", hub));
    String invite = Fixtures.invite(relay, o.token(), "agent");
    Http.Response again = Fixtures.enrollRequest(relay, invite, "a again", id, Http.json());
    assertThat(again.status()).isEqualTo(409);
    Http.Response sameHub = Fixtures.enrollRequest(relay, invite, "b", DeviceIdentity.generate(),
        Http.json().put("hub_address", hub));
    assertThat(sameHub.status()).isEqualTo(409);
    // the invite survived both refusals
    assertThat(Fixtures.enrollRequest(relay, invite, "c", DeviceIdentity.generate(), Http.json()).status()).isEqualTo(201);
  }

  @Test
  void agentsCannotManageInvites() {
    Fixtures.Owner o = Fixtures.bootstrapOwner(relay);
    Fixtures.Device agent = Fixtures.approvedAgent(relay, o, "agent");
    String token = Fixtures.login(relay, agent);
    for (Http.Response r : List.of(http.post("/api/v1/invites", Http.json(), token), http.get("/api/v1/invites", token),
        http.delete("/api/v1/invites/" + UUID.randomUUID(), token))) {
      assertThat(r.status()).isEqualTo(403);
      assertThat(r.detail()).isEqualTo("owner device required");
    }
  }

  @Test
  void anOwnerSeesAndTouchesOnlyTheInvitesOfItsTenant() {
    Fixtures.Owner a = Fixtures.bootstrapOwner(relay);
    Fixtures.Owner b = Fixtures.bootstrapOwner(relay);
    Http.Response bInvite = http.post("/api/v1/invites", Http.json(), b.token());
    String bId = bInvite.body().path("invite_id").asText();
    assertThat(invites(a.token())).doesNotContainKey(bId);
    Http.Response del = http.delete("/api/v1/invites/" + bId, a.token());
    assertThat(del.status()).isEqualTo(404);
    assertThat(invites(b.token()).get(bId).path("status").asText()).isEqualTo("active");
    // an invite of B enrolls into B, never into A, whoever presents it
    Http.Response r = Fixtures.enrollRequest(relay, bInvite.body().path("token").asText(), "x",
        DeviceIdentity.generate(), Http.json());
    assertThat(r.body().path("tenant_id").asText()).isEqualTo(b.tenant().toString());
  }

  // ------------------------------------------------------------------ helpers

  private record Challenge(String id, byte[] bytes) {}

  private static Challenge challenge(String invite) {
    Http.Response r = http.post("/api/v1/enroll/challenge", Http.json().put("invite", invite), null);
    assertThat(r.status()).isEqualTo(200);
    return new Challenge(r.body().path("challenge_id").asText(),
        Base64.getDecoder().decode(r.body().path("challenge").asText()));
  }

  private static String detail(String invite, DeviceIdentity id, ObjectNode extra) {
    Http.Response r = Fixtures.enrollRequest(relay, invite, "x", id, extra);
    assertThat(r.status()).as(r.raw()).isEqualTo(400);
    return r.detail();
  }

  private static int status(String invite, DeviceIdentity id, ObjectNode extra) {
    return Fixtures.enrollRequest(relay, invite, "x", id, extra).status();
  }

  private static void assertInvalid(Http.Response r) {
    assertThat(r.status()).as(r.raw()).isEqualTo(400);
    assertThat(r.detail()).isEqualTo("invalid invite");
  }

  private static Map<String, JsonNode> invites(String ownerToken) {
    Http.Response r = http.get("/api/v1/invites", ownerToken);
    assertThat(r.status()).isEqualTo(200);
    Map<String, JsonNode> m = new java.util.LinkedHashMap<>();
    r.body().path("invites").forEach(i -> m.put(i.path("invite_id").asText(), i));
    return m;
  }
}
