package chat.agentvault.mls.interop;

import static chat.agentvault.mls.interop.InteropSupport.assertAgree;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Our engine against ts-mls 1.6.4 (docs/interop.md), cipher suites 1 and 3, both directions, with
 * private and public handshakes. Our side is {@link MlsPeer} in-process, driven through the same
 * JSON protocol as the ts-mls peer process.
 *
 * <p>Scenario, with A the creator and B, C members (B of the other implementation than A, C of A's):
 * A creates and adds B (Welcome with ratchet tree); messages both ways; B updates, A updates; B adds
 * C (A processes the add); C talks; B removes C; A removes B. After every epoch all members agree on
 * epoch, members, epoch authenticator, tree hash and MLS-Exporter output. Groups stay at 3 members,
 * below the ts-mls unmerged-leaves quirk (docs/interop.md).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TsMlsInteropTest {
  @BeforeAll
  static void install() throws Exception {
    InteropSupport.installTsMls();
  }

  @ParameterizedTest(name = "suite {0}, {1} creates, public handshakes {2}")
  @CsvSource({
    "1, java, false", "1, ts-mls, false", "3, java, false", "3, ts-mls, false",
    "1, java, true", "1, ts-mls, true", "3, java, true", "3, ts-mls, true",
  })
  void twoImplementationsShareAGroup(int suite, String creator, boolean publicHandshakes) throws Exception {
    List<Peer> all = new ArrayList<>();
    try {
      boolean javaFirst = creator.equals("java");
      Function<String, Peer> first = n -> spawn(javaFirst, n, all);
      Function<String, Peer> other = n -> spawn(!javaFirst, n, all);
      Peer a = first.apply("alice");
      Peer b = other.apply("bob");
      Peer c = first.apply("carol");
      List<String> impls = new ArrayList<>();
      for (Peer p : all) {
        impls.add(p.call("init", "suite", suite, "identity", p.name, "public_handshake", publicHandshakes)
            .path("implementation").asText());
      }
      assertThat(impls).as("creator, other, creator's kind")
          .containsExactly(javaFirst ? "agentvault-java" : "ts-mls", javaFirst ? "ts-mls" : "agentvault-java",
              javaFirst ? "agentvault-java" : "ts-mls");
      String g = "g";

      // Epoch 1: A adds B.
      a.call("create_group", "group", g);
      String kpB = b.call("create_key_package").path("key_package").asText();
      JsonNode add = a.call("add", "group", g, "key_packages", List.of(kpB));
      assertThat(add.path("epoch").asLong()).isEqualTo(1);
      JsonNode joined = b.call("join", "welcome", add.path("welcome").asText(), "group", g);
      assertThat(joined.path("epoch").asLong()).isEqualTo(1);
      assertAgree(g, 1, List.of("alice", "bob"), a, b);

      // Application messages both ways.
      assertDelivered(a, "hello bob, from " + a.getClass().getSimpleName(), g, b);
      assertDelivered(b, "hello alice \u00e9\u2603", g, a);

      // Epoch 2: B updates; epoch 3: A updates.
      commit(b, b.call("update", "group", g), g, 2, a);
      assertAgree(g, 2, List.of("alice", "bob"), a, b);
      commit(a, a.call("update", "group", g), g, 3, b);
      assertAgree(g, 3, List.of("alice", "bob"), a, b);
      assertDelivered(b, "after updates", g, a);

      // Epoch 4: B adds C (an implementation-crossing Welcome; A processes B's add).
      String kpC = c.call("create_key_package").path("key_package").asText();
      JsonNode addC = b.call("add", "group", g, "key_packages", List.of(kpC));
      commit(b, addC, g, 4, a);
      c.call("join", "welcome", addC.path("welcome").asText(), "group", g);
      assertAgree(g, 4, List.of("alice", "bob", "carol"), a, b, c);
      assertDelivered(c, "hi all, carol here", g, a, b);
      assertDelivered(a, "welcome carol", g, b, c);

      // Epoch 5: B removes C.
      JsonNode rmC = b.call("remove", "group", g, "identity", "carol");
      commit(b, rmC, g, 5, a);
      JsonNode gone = c.call("process", "group", g, "message", rmC.path("commit").asText());
      assertThat(gone.path("removed").asBoolean()).as("carol processes her removal").isTrue();
      assertAgree(g, 5, List.of("alice", "bob"), a, b);
      assertDelivered(b, "carol left", g, a);

      // Epoch 6: A removes B.
      JsonNode rmB = a.call("remove", "group", g, "leaf_index", 1);
      assertThat(rmB.path("epoch").asLong()).isEqualTo(6);
      JsonNode bGone = b.call("process", "group", g, "message", rmB.path("commit").asText());
      assertThat(bGone.path("removed").asBoolean()).as("bob processes his removal").isTrue();
      assertThat(b.send("encrypt", "group", g, "text", "still here?").path("ok").asBoolean()).as("bob cannot send after removal").isFalse();
      assertAgree(g, 6, List.of("alice"), a);
    } finally {
      for (Peer p : all) {
        p.close();
      }
    }
  }

  /** ts-mls adds us with the ratchet tree out of band (no ratchet_tree extension in the Welcome). */
  @ParameterizedTest(name = "suite {0}")
  @CsvSource({"1", "3"})
  void javaJoinsWithTheRatchetTreeOutOfBand(int suite) throws Exception {
    List<Peer> all = new ArrayList<>();
    try {
      Peer a = spawn(false, "alice", all);
      Peer b = spawn(true, "bob", all);
      a.call("init", "suite", suite, "identity", "alice");
      b.call("init", "suite", suite, "identity", "bob");
      a.call("create_group", "group", "g");
      String kp = b.call("create_key_package").path("key_package_raw").asText();
      JsonNode add = a.call("add", "group", "g", "key_packages", List.of(kp), "ratchet_tree_extension", false);
      JsonNode noTree = b.send("join", "welcome", add.path("welcome").asText(), "group", "g");
      assertThat(noTree.path("ok").asBoolean()).as("join without any ratchet tree is refused").isFalse();
      b.call("join", "welcome", add.path("welcome").asText(), "group", "g", "ratchet_tree", add.path("ratchet_tree").asText());
      assertAgree("g", 1, List.of("alice", "bob"), a, b);
      assertDelivered(b, "joined with the tree out of band", "g", a);
      commit(b, b.call("update", "group", "g"), "g", 2, a);
      assertAgree("g", 2, List.of("alice", "bob"), a, b);
    } finally {
      for (Peer p : all) {
        p.close();
      }
    }
  }

  private static Peer spawn(boolean java, String name, List<Peer> all) {
    try {
      Peer p = java ? new Peer.InProcess(name) : InteropSupport.tsMls(name);
      all.add(p);
      return p;
    } catch (java.io.IOException e) {
      throw new AssertionError("cannot start the ts-mls peer", e);
    }
  }

  /** The committer's reply is at {@code epoch}; every receiver processes the commit into it. */
  private static void commit(Peer committer, JsonNode reply, String g, long epoch, Peer... receivers) {
    assertThat(reply.path("epoch").asLong()).as(committer.name + "'s commit epoch").isEqualTo(epoch);
    for (Peer r : receivers) {
      JsonNode p = r.call("process", "group", g, "message", reply.path("commit").asText());
      assertThat(p.path("kind").asText()).as(r.name + " processes " + committer.name + "'s commit").isEqualTo("commit");
      assertThat(p.path("epoch").asLong()).as(r.name + "'s epoch after " + committer.name + "'s commit").isEqualTo(epoch);
      assertThat(p.path("removed").asBoolean()).isFalse();
    }
  }

  private static void assertDelivered(Peer from, String text, String g, Peer... to) {
    String msg = from.call("encrypt", "group", g, "text", text).path("message").asText();
    for (Peer r : to) {
      JsonNode p = r.call("process", "group", g, "message", msg);
      assertThat(p.path("kind").asText()).isEqualTo("application");
      assertThat(p.path("text").asText()).as(r.name + " reads " + from.name + "'s message").isEqualTo(text);
    }
  }
}
