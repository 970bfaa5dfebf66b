package chat.agentvault.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.MessageRejectedException;
import chat.agentvault.identity.Argon2Params;
import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.ratchet.PeerAddress;
import chat.agentvault.ratchet.PreKeyStore;
import chat.agentvault.ratchet.SessionStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChannelUnitTest {
  @TempDir Path dir;

  @Test
  void envelopeRoundTripsAndRejectsMalformedInput() {
    Envelope e = new Envelope("decision_request", "deploy?", Map.of("options", List.of("yes", "no")), "00aa",
        "ffee", "analyst", Instant.parse("2025-01-02T03:04:05Z"));
    Envelope back = Envelope.decode(e.encode());
    assertThat(back).isEqualTo(e);
    Envelope minimal = new Envelope("text", null, null, "01", null, "a", Instant.EPOCH);
    assertThat(Envelope.decode(minimal.encode())).isEqualTo(minimal);
    // unknown fields are ignored (a newer sender)
    assertThat(Envelope.decode(("{\"v\":1,\"type\":\"text\",\"span_id\":\"1\",\"sender_name\":\"a\","
        + "\"sent_at\":\"1970-01-01T00:00:00Z\",\"new\":true}").getBytes(StandardCharsets.UTF_8)).type()).isEqualTo("text");
    for (String bad : List.of("", "[]", "nope", "{\"v\":2,\"type\":\"t\",\"span_id\":\"1\",\"sender_name\":\"a\",\"sent_at\":\"1970-01-01T00:00:00Z\"}",
        "{\"v\":1,\"span_id\":\"1\",\"sender_name\":\"a\",\"sent_at\":\"1970-01-01T00:00:00Z\"}",
        "{\"v\":1,\"type\":5,\"span_id\":\"1\",\"sender_name\":\"a\",\"sent_at\":\"1970-01-01T00:00:00Z\"}",
        "{\"v\":1,\"type\":\"t\",\"span_id\":\"1\",\"sender_name\":\"a\",\"sent_at\":\"yesterday\"}",
        "{\"v\":1,\"type\":\"t\",\"span_id\":\"1\",\"sender_name\":\"a\",\"sent_at\":\"1970-01-01T00:00:00Z\",\"data\":[1]}")) {
      assertThatThrownBy(() -> Envelope.decode(bad.getBytes(StandardCharsets.UTF_8)))
          .as(bad).isInstanceOf(MessageRejectedException.class);
    }
    assertThat(e.toString()).doesNotContain("deploy");
  }

  @Test
  void routingContextIsPersistedEncryptedAndSurvivesAReopen() throws Exception {
    Path data = dir.resolve("agent");
    try (DeviceKeyStore keys = DeviceKeyStore.create(data, protection())) {
      RoutingContext r = RoutingContext.load(keys.fileStore("client"));
      assertThat(r.lastRoom()).isEmpty();
      r.roomMessage("room-1");
      r.ownerDevice("owner-1");
      r.roomMessage("room-2");
    }
    try (DeviceKeyStore keys = DeviceKeyStore.open(data, protection())) {
      RoutingContext r = RoutingContext.load(keys.fileStore("client"));
      assertThat(r.lastRoom()).contains("room-2");
      assertThat(r.ownerDevice()).contains("owner-1");
      r.forgetRoom("room-1"); // not the sticky one: no change
      assertThat(r.lastRoom()).contains("room-2");
      r.forgetRoom("room-2");
      assertThat(r.lastRoom()).isEmpty();
    }
    try (var files = Files.walk(data)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        assertThat(new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1)).doesNotContain("room-2");
      }
    }
  }

  @Test
  void inboxKeepsMessagesAndTheDispatchMark() throws Exception {
    try (DeviceKeyStore keys = DeviceKeyStore.create(dir.resolve("a"), protection())) {
      Inbox inbox = new Inbox(keys.fileStore("inbox"));
      InboundMessage m = new InboundMessage(7, "room", null, "dev", "name", "text", "hello", Map.of("k", 1), "s",
          null, Instant.EPOCH, true);
      inbox.put(7, m, false);
      assertThat(inbox.get(7)).hasValueSatisfying(e -> {
        assertThat(e.dispatched()).isFalse();
        assertThat(e.message()).isEqualTo(m);
      });
      inbox.put(7, m, true);
      assertThat(inbox.get(7).orElseThrow().dispatched()).isTrue();
      inbox.put(8, null, true);
      assertThat(inbox.get(8).orElseThrow().message()).isNull();
      inbox.delete(7);
      assertThat(inbox.get(7)).isEmpty();
      assertThat(Inbox.name(7)).isEqualTo("m00000000000000000007");
    }
  }

  @Test
  void deferredStoresHoldBackSavesOnTheDeferringThreadOnly() throws Exception {
    SessionStore sessions = SessionStore.inMemory();
    PreKeyStore prekeys = PreKeyStore.inMemory();
    DeferredStores d = new DeferredStores(sessions, prekeys);
    PeerAddress peer = new PeerAddress(chat.agentvault.identity.DeviceIdentity.generate().fingerprint(), 1);
    d.begin();
    d.sessionStore().save(peer, new byte[] {1});
    d.preKeyStore().save(new byte[] {2});
    assertThat(sessions.load(peer)).isEmpty();
    assertThat(d.sessionStore().load(peer)).hasValueSatisfying(b -> assertThat(b).containsExactly(1));
    Thread other = new Thread(() -> d.sessionStore().save(peer, new byte[] {9}));
    other.start();
    other.join();
    assertThat(sessions.load(peer)).hasValueSatisfying(b -> assertThat(b).containsExactly(9));
    d.commit();
    assertThat(sessions.load(peer)).hasValueSatisfying(b -> assertThat(b).containsExactly(1));
    assertThat(prekeys.load()).hasValueSatisfying(b -> assertThat(b).containsExactly(2));
    d.begin();
    d.sessionStore().save(peer, new byte[] {3});
    d.discard();
    assertThat(sessions.load(peer)).hasValueSatisfying(b -> assertThat(b).containsExactly(1));
  }

  @Test
  void avTypesAreReservedForTheSdksOwnEvents() {
    assertThat(MessageType.RESYNC).isEqualTo("av.resync");
    assertThatThrownBy(() -> SendOptions.builder().messageType(MessageType.RESYNC))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> MessageType.check("av.anything")).isInstanceOf(IllegalArgumentException.class);
    // a peer's envelope claiming one is refused
    byte[] forged = new Envelope(MessageType.TEXT, "x", null, "0011223344556677", null, "peer", java.time.Instant.EPOCH)
        .encode();
    byte[] spoof = new String(forged, java.nio.charset.StandardCharsets.UTF_8)
        .replace("\"type\":\"text\"", "\"type\":\"av.resync\"").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThatThrownBy(() -> Envelope.decode(spoof)).isInstanceOf(chat.agentvault.MessageRejectedException.class);
  }

  @Test
  void aDeviceIdentityIsTakenFromTheDeviceObjectOnlyWhenItMatchesTheListedFingerprint() {
    chat.agentvault.identity.DeviceIdentity id = chat.agentvault.identity.DeviceIdentity.generate();
    chat.agentvault.identity.DeviceIdentity other = chat.agentvault.identity.DeviceIdentity.generate();
    String pub = java.util.Base64.getEncoder().encodeToString(id.publicIdentity().encode());
    com.fasterxml.jackson.databind.node.ObjectNode d = Envelope.MAPPER.createObjectNode()
        .put("public_identity", pub).put("fingerprint", id.fingerprint().full());
    assertThat(RelayDeliveryService.fromDevice(d)).contains(id.publicIdentity());
    d.put("fingerprint", other.fingerprint().full()); // a relay that swapped the identity
    assertThat(RelayDeliveryService.fromDevice(d)).isEmpty();
    byte[] bad = id.publicIdentity().encode();
    bad[bad.length - 1] ^= 1; // broken binding signature
    d.put("fingerprint", id.fingerprint().full()).put("public_identity", java.util.Base64.getEncoder().encodeToString(bad));
    assertThat(RelayDeliveryService.fromDevice(d)).isEmpty();
    d.remove("public_identity");
    assertThat(RelayDeliveryService.fromDevice(d)).isEmpty();
  }

  @Test
  void valueTypesValidateAndHideSecrets() {
    assertThatThrownBy(() -> SendOptions.builder().messageType("event")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SendOptions.builder().messageType("mls_commit")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SendOptions.builder().messageType("Bad Type")).isInstanceOf(IllegalArgumentException.class);
    SendOptions o = SendOptions.builder().messageType(MessageType.REACTION).data(Map.of("emoji", "+1")).build();
    assertThat(o.updateStickyRoom()).isFalse();
    assertThat(o.toString()).doesNotContain("+1");
    Owner.Invite i = new Owner.Invite("id", "agent", "avi1_secret", Instant.EPOCH);
    assertThat(i.toString()).doesNotContain("avi1_secret");
    assertThatThrownBy(() -> AgentClient.builder().build()).isInstanceOf(IllegalStateException.class);
    assertThat(AgentClient.newSpanId()).hasSize(16);
  }

  @Test
  void roomSpansCarryTheSeedAttributes() {
    var exporter = io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
    var sdk = io.opentelemetry.sdk.OpenTelemetrySdk.builder().setTracerProvider(
        io.opentelemetry.sdk.trace.SdkTracerProvider.builder()
            .addSpanProcessor(io.opentelemetry.sdk.trace.export.SimpleSpanProcessor.create(exporter)).build()).build();
    RoomTelemetry t = new OtelRoomTelemetry(sdk);
    t.record("create", "r1", Map.of("creator", "d1", "member_count", 3));
    t.record("invite", "r1", Map.of("invitee", "d2", "inviter", "d1"));
    var spans = exporter.getFinishedSpanItems();
    assertThat(spans).hasSize(2);
    assertThat(spans.get(0).getName()).isEqualTo("av.room");
    var a = spans.get(0).getAttributes();
    assertThat(a.get(io.opentelemetry.api.common.AttributeKey.stringKey("av.room.operation"))).isEqualTo("create");
    assertThat(a.get(io.opentelemetry.api.common.AttributeKey.stringKey("av.room.id"))).isEqualTo("r1");
    assertThat(a.get(io.opentelemetry.api.common.AttributeKey.longKey("av.room.member_count"))).isEqualTo(3L);
    assertThat(spans.get(1).getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("av.room.inviter")))
        .isEqualTo("d1");
    RoomTelemetry.NOOP.record("create", "r1", Map.of());
    assertThat(RoomTelemetry.create()).isInstanceOf(OtelRoomTelemetry.class); // the API is on the test classpath
    sdk.close();
  }

  private static KeyProtection protection() {
    return KeyProtection.passphrase("pw".toCharArray(), Argon2Params.insecureForTesting());
  }
}
