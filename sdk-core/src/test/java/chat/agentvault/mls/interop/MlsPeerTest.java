package chat.agentvault.mls.interop;

import static chat.agentvault.mls.interop.InteropSupport.assertAgree;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Java interop peer through its protocol: the launcher scripts/mls-peer, errors, JSON. */
class MlsPeerTest {

  /** scripts/mls-peer as a process (a harness's view) with our in-process peer: one round trip. */
  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void launcherRunsAPeerThatTalksToAnother() throws Exception {
    Path root = InteropSupport.repoRoot();
    ProcessBuilder pb = new ProcessBuilder(root.resolve("scripts/mls-peer").toString()).directory(root.toFile());
    pb.environment().put("JAVA", Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    try (Peer.Spawned a = new Peer.Spawned("alice", pb);
        Peer b = new Peer.InProcess("bob")) {
      JsonNode init = a.call("init", "suite", "0x0003", "identity", "alice");
      assertThat(init.path("implementation").asText()).isEqualTo("agentvault-java");
      assertThat(init.path("suite").asInt()).isEqualTo(3);
      b.call("init", "suite", 3, "identity", "bob");
      a.call("create_group", "group", "g", "group_id_b64", "AAECAwQFBgcICQoLDA0ODw==");
      JsonNode add = a.call("add", "group", "g", "key_packages", List.of(b.call("create_key_package").path("key_package").asText()));
      JsonNode joined = b.call("join", "welcome", add.path("welcome").asText());
      assertThat(joined.path("group").asText()).isEqualTo("AAECAwQFBgcICQoLDA0ODw==");
      assertThat(b.send("join", "welcome", add.path("welcome").asText(), "group", "g2").path("error").asText())
          .as("a key package is used once").contains("no entry for any key package");
      JsonNode msg = a.call("encrypt", "group", "g", "text", "ping");
      assertThat(b.call("process", "group", "AAECAwQFBgcICQoLDA0ODw==", "message", msg.path("message").asText()).path("text").asText())
          .isEqualTo("ping");
      JsonNode back = b.call("encrypt", "group", "AAECAwQFBgcICQoLDA0ODw==", "plaintext_b64", "cG9uZw==");
      JsonNode got = a.call("process", "group", "g", "message", back.path("message").asText());
      assertThat(got.path("plaintext_b64").asText()).isEqualTo("cG9uZw==");
      assertThat(got.path("text").asText()).isEqualTo("pong");
      assertThat(a.send("bogus").path("error").asText()).contains("unknown cmd");
      assertThat(a.quit()).as("exit status after quit").isZero();
    }
  }

  @Test
  void errorsAreReplyLinesAndLeaveTheStateAsItWas() {
    MlsPeer p = new MlsPeer();
    assertThat(p.handle("not json")).startsWith("{\"id\":null,\"ok\":false,\"error\":");
    assertThat(p.handle("   ")).isNull();
    assertThat(p.handle("[".repeat(100_000))).startsWith("{\"id\":null,\"ok\":false,");
    assertThat(p.handle("[1]")).contains("\"ok\":false");
    assertThat(p.handle("{\"id\":7,\"cmd\":\"state\",\"group\":\"g\"}")).contains("\"id\":7,\"ok\":false").contains("not initialised");
    assertThat(p.handle("{\"id\":1,\"cmd\":\"init\",\"suite\":2,\"identity\":\"a\"}")).contains("not supported");
    assertThat(p.handle("{\"id\":1,\"cmd\":\"init\",\"suite\":1,\"identity\":\"a\"}")).contains("\"ok\":true");
    assertThat(p.handle("{\"id\":2,\"cmd\":\"create_group\",\"group\":\"g\"}")).contains("\"epoch\":0");
    assertThat(p.handle("{\"id\":3,\"cmd\":\"create_group\",\"group\":\"g\"}")).contains("already exists");
    assertThat(p.handle("{\"id\":4,\"cmd\":\"process\",\"group\":\"g\",\"message\":\"AAEAAg==\"}")).contains("\"ok\":false");
    assertThat(p.handle("{\"id\":5,\"cmd\":\"process\",\"group\":\"g\",\"message\":\"%%%\"}")).contains("not standard base64");
    assertThat(p.handle("{\"id\":6,\"cmd\":\"remove\",\"group\":\"g\",\"identity\":\"zed\"}")).contains("no member");
    assertThat(p.handle("{\"id\":7,\"cmd\":\"update\",\"group\":\"g\",\"public\":1}")).contains("public: expected a boolean");
    assertThat(p.handle("{\"id\":8,\"cmd\":\"update\",\"group\":\"g\"}")).contains("\"epoch\":1");
    assertThat(p.handle("{\"id\":9,\"cmd\":\"quit\"}")).isEqualTo("{\"id\":9,\"ok\":true}");
    assertThat(p.quitting()).isTrue();
  }

  @Test
  void javaPeersAgreeThroughTheProtocol() {
    Peer a = new Peer.InProcess("alice");
    Peer b = new Peer.InProcess("bob");
    a.call("init", "suite", 1, "identity", "alice", "public_handshake", true);
    b.call("init", "suite", 1, "identity", "bob", "public_handshake", true);
    a.call("create_group", "group", "g");
    JsonNode add = a.call("add", "group", "g", "key_packages", List.of(b.call("create_key_package").path("key_package_raw").asText()));
    b.call("join", "welcome", add.path("welcome").asText(), "group", "g", "ratchet_tree", add.path("ratchet_tree").asText());
    assertAgree("g", 1, List.of("alice", "bob"), a, b);
    assertThat(a.call("group_info", "group", "g").path("group_info").asText()).startsWith("AAEABA"); // 00 01 | 00 04
    JsonNode rm = b.call("remove", "group", "g", "identity", "alice");
    JsonNode out = a.call("process", "group", "g", "message", rm.path("commit").asText());
    assertThat(out.path("removed").asBoolean()).isTrue();
    assertThat(a.call("state", "group", "g").path("active").asText()).isEqualTo("removedFromGroup");
  }

  /** Wire format and the Welcome's ratchet_tree extension are chosen per command, overriding init. */
  @Test
  void handshakeWireFormatAndTreeExtensionPerCommand() {
    Peer a = new Peer.InProcess("alice");
    Peer b = new Peer.InProcess("bob");
    Peer c = new Peer.InProcess("carol");
    a.call("init", "suite", 3, "identity", "alice"); // private handshakes by default
    b.call("init", "suite", 3, "identity", "bob", "public_handshake", true);
    c.call("init", "suite", 3, "identity", "carol");
    a.call("create_group", "group", "g");
    JsonNode add =
        a.call("add", "group", "g", "key_packages", List.of(b.call("create_key_package").path("key_package").asText()),
            "public", true, "ratchet_tree_extension", false);
    assertThat(add.path("wire_format").asText()).isEqualTo("mls_public_message");
    assertThat(b.send("join", "welcome", add.path("welcome").asText(), "group", "g").path("error").asText())
        .as("the Welcome has no ratchet_tree extension").isNotEmpty();
    b.call("join", "welcome", add.path("welcome").asText(), "group", "g", "ratchet_tree", add.path("ratchet_tree").asText());
    assertAgree("g", 1, List.of("alice", "bob"), a, b);

    JsonNode add2 = a.call("add", "group", "g", "key_packages", List.of(c.call("create_key_package").path("key_package").asText()));
    assertThat(add2.path("wire_format").asText()).isEqualTo("mls_private_message");
    b.call("process", "group", "g", "message", add2.path("commit").asText());
    c.call("join", "welcome", add2.path("welcome").asText(), "group", "g"); // tree in the Welcome by default
    assertAgree("g", 2, List.of("alice", "bob", "carol"), a, b, c);

    JsonNode upd = b.call("update", "group", "g", "public", false);
    assertThat(upd.path("wire_format").asText()).isEqualTo("mls_private_message");
    a.call("process", "group", "g", "message", upd.path("commit").asText());
    c.call("process", "group", "g", "message", upd.path("commit").asText());
    JsonNode rm = c.call("remove", "group", "g", "identity", "alice", "public", true);
    assertThat(rm.path("wire_format").asText()).isEqualTo("mls_public_message");
    b.call("process", "group", "g", "message", rm.path("commit").asText());
    assertThat(a.call("process", "group", "g", "message", rm.path("commit").asText()).path("removed").asBoolean()).isTrue();
    assertAgree("g", 4, List.of("bob", "carol"), b, c);
  }

  @Test
  void jsonRoundTrip() {
    Object v = Json.parse(" {\"a\":[1,-2,3.5,true,false,null,\"x\\\"\\u00e9\\n\"],\"b\":{}} ");
    assertThat(v).isEqualTo(Map.of("a", java.util.Arrays.asList(1L, -2L, 3.5, true, false, null, "x\"\u00e9\n"), "b", Map.of()));
    assertThat(Json.parse(Json.write(v))).isEqualTo(v);
  }
}
