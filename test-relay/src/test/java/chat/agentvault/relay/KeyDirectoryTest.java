package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.ratchet.PreKeyBundle;
import chat.agentvault.ratchet.Sessions;
import chat.agentvault.relay.Agents.Agent;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The key directory: prekey bundles and KeyPackages, consumed once each, replenished. */
@ExtendWith(TestRelayExtension.class)
class KeyDirectoryTest {
  static TestRelay relay;
  static Http http;

  @BeforeAll
  static void start() {
    http = new Http(relay);
  }

  private static ObjectNode bundles(List<PreKeyBundle> oneTime, PreKeyBundle fallback) {
    ObjectNode b = Http.json();
    ArrayNode a = b.putArray("bundles");
    oneTime.forEach(x -> a.add(JsonBody.b64(x.toBytes())));
    if (fallback != null) {
      b.put("fallback", JsonBody.b64(fallback.toBytes()));
    }
    return b;
  }

  @Test
  void oneTimeBundlesAreHandedOutOnceEachUnderConcurrencyThenTheFallback() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t);
    Agent bob = Agents.agent(relay, t);
    Set<String> published = new HashSet<>();
    String fallback;
    try (Sessions s = Sessions.builder(bob.device().identity()).build()) {
      List<PreKeyBundle> ten = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        ten.add(s.bundle());
      }
      ten.forEach(x -> published.add(JsonBody.b64(x.toBytes())));
      PreKeyBundle fb = s.bundleWithoutOneTimePreKey();
      fallback = JsonBody.b64(fb.toBytes());
      Http.Response up = http.post("/api/v1/keys/prekey-bundles", bundles(ten, fb), bob.token());
      assertThat(up.status()).as(up.raw()).isEqualTo(200);
      assertThat(up.body().path("one_time_available").asLong()).isEqualTo(10);
    }
    assertThat(published).hasSize(10);

    ExecutorService pool = Executors.newFixedThreadPool(20);
    List<Future<Http.Response>> fs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      fs.add(pool.submit(() -> http.get("/api/v1/devices/" + bob.id() + "/prekey-bundle", alice.token())));
    }
    List<String> oneTime = new ArrayList<>();
    int fallbacks = 0;
    for (Future<Http.Response> f : fs) {
      Http.Response r = f.get();
      assertThat(r.status()).as(r.raw()).isEqualTo(200);
      String b = r.body().path("bundle").asText();
      if (r.body().path("one_time").asBoolean()) {
        oneTime.add(b);
      } else {
        assertThat(b).isEqualTo(fallback);
        fallbacks++;
      }
      // what the relay hands out is a verified bundle of bob's identity
      assertThat(PreKeyBundle.parse(Base64.getDecoder().decode(b)).identity())
          .isEqualTo(bob.device().identity().publicIdentity());
    }
    pool.shutdown();
    assertThat(oneTime).hasSize(10).doesNotHaveDuplicates();
    assertThat(new HashSet<>(oneTime)).isEqualTo(published);
    assertThat(fallbacks).isEqualTo(10);
    Http.Response st = http.get("/api/v1/keys/status", bob.token());
    assertThat(st.body().path("one_time_available").asLong()).isZero();

    // a fetched bundle starts a real session
    try (Sessions a = Sessions.builder(alice.device().identity()).build()) {
      a.start(new chat.agentvault.ratchet.PeerAddress(bob.device().identity().fingerprint(), 1),
          PreKeyBundle.parse(Base64.getDecoder().decode(oneTime.get(0))));
    }
  }

  @Test
  void bundlesOfAnotherIdentityOrOfTheWrongKindOrMalformedAreRefused() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent bob = Agents.agent(relay, t);
    try (DeviceIdentity other = DeviceIdentity.generate();
        Sessions mallory = Sessions.builder(other).build();
        Sessions s = Sessions.builder(bob.device().identity()).build()) {
      Http.Response r = http.post("/api/v1/keys/prekey-bundles", bundles(List.of(mallory.bundle()), null), bob.token());
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.detail()).isEqualTo("bundles[0] is not of this device's identity");
      r = http.post("/api/v1/keys/prekey-bundles", bundles(List.of(), mallory.bundleWithoutOneTimePreKey()), bob.token());
      assertThat(r.status()).isEqualTo(400);
      r = http.post("/api/v1/keys/prekey-bundles", bundles(List.of(s.bundleWithoutOneTimePreKey()), null), bob.token());
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.detail()).isEqualTo("bundles[0] has no one-time prekey");
      r = http.post("/api/v1/keys/prekey-bundles", bundles(List.of(), s.bundle()), bob.token());
      assertThat(r.status()).isEqualTo(400);
      byte[] tampered = s.bundle().toBytes();
      tampered[200] ^= 1;
      r = http.post("/api/v1/keys/prekey-bundles", Http.json().set("bundles",
          Http.json().arrayNode().add(JsonBody.b64(tampered))), bob.token());
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.detail()).isEqualTo("bundles[0] is not a valid prekey bundle");
    }
    Http.Response r = http.post("/api/v1/keys/prekey-bundles", Http.json().put("bundles", "x"), bob.token());
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.detail()).isEqualTo("field bundles must be an array");
    r = http.post("/api/v1/keys/prekey-bundles", Http.json().set("bundles", Http.json().arrayNode().add(1)), bob.token());
    assertThat(r.detail()).isEqualTo("field bundles[0] must be a string");
    r = http.post("/api/v1/keys/prekey-bundles", Http.json().set("bundles", Http.json().arrayNode().add("!!")), bob.token());
    assertThat(r.detail()).isEqualTo("field bundles[0] must be base64");
    r = http.post("/api/v1/keys/prekey-bundles", Http.json().put("bundle", "x"), bob.token());
    assertThat(r.detail()).isEqualTo("unknown field: bundle");
    // nothing was stored by any of these
    assertThat(http.get("/api/v1/devices/" + bob.id() + "/prekey-bundle", bob.token()).status()).isEqualTo(404);
  }

  @Test
  void keyPackagesAreConsumedOnceAndTheLastResortOneNever() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Agent alice = Agents.agent(relay, t);
    Agent bob = Agents.agent(relay, t);
    assertThat(http.get("/api/v1/devices/" + bob.id() + "/key-package", alice.token()).status()).isEqualTo(404);
    ObjectNode up = Http.json();
    ArrayNode a = up.putArray("key_packages");
    Set<String> kps = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      String k = JsonBody.b64(("kp-" + i + "-" + UUID.randomUUID()).getBytes());
      kps.add(k);
      a.add(k);
    }
    String lastResort = JsonBody.b64("last-resort".getBytes());
    up.put("last_resort", lastResort);
    Http.Response r = http.post("/api/v1/keys/key-packages", up, bob.token());
    assertThat(r.status()).as(r.raw()).isEqualTo(200);
    assertThat(r.body().path("available").asLong()).isEqualTo(3);

    ExecutorService pool = Executors.newFixedThreadPool(6);
    List<Future<Http.Response>> fs = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      fs.add(pool.submit(() -> http.get("/api/v1/devices/" + bob.id() + "/key-package", alice.token())));
    }
    Set<String> got = new HashSet<>();
    int lr = 0;
    for (Future<Http.Response> f : fs) {
      Http.Response x = f.get();
      assertThat(x.status()).isEqualTo(200);
      if (x.body().path("last_resort").asBoolean()) {
        assertThat(x.body().path("key_package").asText()).isEqualTo(lastResort);
        lr++;
      } else {
        assertThat(got.add(x.body().path("key_package").asText())).isTrue();
      }
    }
    pool.shutdown();
    assertThat(got).isEqualTo(kps);
    assertThat(lr).isEqualTo(3);
    Http.Response st = http.get("/api/v1/keys/status", bob.token());
    assertThat(st.body().path("key_packages_available").asLong()).isZero();
    // replenish: a new batch is handed out before the last-resort one
    r = http.post("/api/v1/keys/key-packages", Http.json().set("key_packages",
        Http.json().arrayNode().add(JsonBody.b64("fresh".getBytes()))), bob.token());
    assertThat(r.body().path("available").asLong()).isEqualTo(1);
    Http.Response x = http.get("/api/v1/devices/" + bob.id() + "/key-package", alice.token());
    assertThat(x.body().path("last_resort").asBoolean()).isFalse();
    assertThat(x.body().path("key_package").asText()).isEqualTo(JsonBody.b64("fresh".getBytes()));
  }

  @Test
  void anotherTenantSeesNoKeys() throws Exception {
    UUID a = Fixtures.tenant(relay);
    UUID b = Fixtures.tenant(relay);
    Agent bob = Agents.agent(relay, b);
    Agent eve = Agents.agent(relay, a);
    try (Sessions s = Sessions.builder(bob.device().identity()).build()) {
      http.post("/api/v1/keys/prekey-bundles", bundles(List.of(s.bundle()), s.bundleWithoutOneTimePreKey()), bob.token());
    }
    http.post("/api/v1/keys/key-packages", Http.json().put("last_resort", JsonBody.b64(new byte[] {1})), bob.token());
    Http.Response r = http.get("/api/v1/devices/" + bob.id() + "/prekey-bundle", eve.token());
    assertThat(r.status()).isEqualTo(404);
    assertThat(http.get("/api/v1/devices/" + bob.id() + "/key-package", eve.token()).status()).isEqualTo(404);
    assertThat(http.get("/api/v1/keys/status", bob.token()).body().path("one_time_available").asLong()).isEqualTo(1);
    assertThat(http.get("/api/v1/devices/not-a-uuid/key-package", eve.token()).status()).isEqualTo(400);
  }
}
