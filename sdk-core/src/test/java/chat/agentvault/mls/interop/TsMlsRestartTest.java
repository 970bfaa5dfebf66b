package chat.agentvault.mls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.identity.Argon2Params;
import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.mls.GroupStore;
import chat.agentvault.mls.Inbound;
import chat.agentvault.mls.MlsGroup;
import chat.agentvault.mls.MlsKeyPackage;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A member of ours restarts in the middle of a group shared with ts-mls 1.6.4 (docs/interop.md):
 * its state goes through the real persistence path ({@link MlsGroup#persistTo} into {@link
 * GroupStore#encrypted} on a {@link DeviceKeyStore} in a temporary directory), every JVM object of
 * it is dropped and the key store closed, then the key store is reopened from disk and the group
 * loaded with {@link MlsGroup#load}. The restored member reads what ts-mls sent while it was down,
 * sends, processes a ts-mls commit, and commits itself (an Add of a second ts-mls member); after
 * every epoch both sides agree on epoch, members, epoch authenticator and MLS-Exporter output.
 * Groups stay at 3 leaves (ts-mls quirks, docs/interop.md).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class TsMlsRestartTest {
  private static final char[] PASSPHRASE = "restart test passphrase".toCharArray();
  private static final String LABEL = "agentvault interop";
  private static final byte[] CONTEXT = {1, 2, 3}; // "AQID", as InteropSupport.assertAgree

  @TempDir Path tmp;

  @BeforeAll
  static void install() throws Exception {
    InteropSupport.installTsMls();
  }

  private static Bytes b(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  private static KeyProtection protection() {
    return KeyProtection.passphrase(PASSPHRASE.clone(), Argon2Params.insecureForTesting());
  }

  @ParameterizedTest(name = "suite {0}, {1} creates, public handshakes {2}")
  @CsvSource({"1, java, false", "1, ts-mls, true", "3, java, true", "3, ts-mls, false"})
  void javaMemberRestartsFromTheEncryptedStore(int suite, String creator, boolean publicHandshakes) throws Exception {
    List<Peer> all = new ArrayList<>();
    Path dataDir = tmp.resolve("device");
    String g = "g";
    try {
      Peer bob = spawn("bob", all);
      Peer carol = spawn("carol", all);
      for (Peer p : all) {
        JsonNode init = p.call("init", "suite", suite, "identity", p.name, "public_handshake", publicHandshakes);
        assertThat(init.path("implementation").asText()).isEqualTo("ts-mls");
      }

      DeviceKeyStore keys = DeviceKeyStore.create(dataDir, protection());
      GroupStore store = GroupStore.encrypted(keys.fileStore("mls-groups"));
      MlsKeyPackage alicePkg = MlsKeyPackage.generate(suite, b("alice"));
      MlsGroup alice;

      // Epoch 1: alice and bob, created by either side; alice persists from the start.
      if (creator.equals("java")) {
        alice = MlsGroup.create(alicePkg, Bytes.wrap(Csprng.randomBytes(16)), !publicHandshakes).persistTo(store);
        String kpB = bob.call("create_key_package").path("key_package").asText();
        MlsGroup.PendingCommit add = alice.addMembers(List.of(Bytes.fromBase64(kpB)));
        alice.mergePendingCommit();
        bob.call("join", "welcome", add.welcome().orElseThrow().base64(), "group", g);
      } else {
        bob.call("create_group", "group", g);
        JsonNode add = bob.call("add", "group", g, "key_packages", List.of(alicePkg.toBytes().base64()));
        assertThat(add.path("epoch").asLong()).isEqualTo(1);
        alice = MlsGroup.join(alicePkg, Bytes.fromBase64(add.path("welcome").asText()), !publicHandshakes).persistTo(store);
      }
      Bytes groupId = alice.groupId();
      assertAgree(alice, g, 1, List.of("alice", "bob"), bob);
      assertThat(read(alice, bob.call("encrypt", "group", g, "text", "hi alice").path("message").asText())).isEqualTo("hi alice");
      assertRead(bob, g, alice.encrypt(b("hi bob \u00e9\u2603")), "hi bob \u00e9\u2603");

      // Epoch 2: bob updates; more messages.
      processCommit(alice, bob.call("update", "group", g), 2);
      assertAgree(alice, g, 2, List.of("alice", "bob"), bob);
      assertRead(bob, g, alice.encrypt(b("epoch 2 from alice")), "epoch 2 from alice");
      assertThat(read(alice, bob.call("encrypt", "group", g, "text", "epoch 2 from bob").path("message").asText()))
          .isEqualTo("epoch 2 from bob");
      Bytes authBefore = alice.epochAuthenticator();

      // Alice goes down: every object dropped, the key store closed (it wipes its keys).
      alicePkg.close();
      alicePkg = null;
      alice = null;
      store = null;
      keys.close();
      keys = null;
      try (Stream<Path> files = Files.list(dataDir.resolve("files").resolve("mls-groups"))) {
        assertThat(files.count()).as("one record on disk").isEqualTo(1);
      }

      // ts-mls keeps talking while alice is down.
      String whileDown1 = bob.call("encrypt", "group", g, "text", "while you were down (1)").path("message").asText();
      String whileDown2 = bob.call("encrypt", "group", g, "text", "while you were down (2)").path("message").asText();

      // Restart: the key store reopened from disk, the group loaded from the encrypted store.
      keys = DeviceKeyStore.open(dataDir, protection());
      store = GroupStore.encrypted(keys.fileStore("mls-groups"));
      assertThat(store.list()).containsExactly(groupId);
      alice = MlsGroup.load(store, groupId).orElseThrow();
      assertThat(alice.epoch()).isEqualTo(2);
      assertThat(alice.epochAuthenticator()).isEqualTo(authBefore);
      assertAgree(alice, g, 2, List.of("alice", "bob"), bob);
      // Out of order, to show the restored secret tree keeps skipped keys too.
      assertThat(read(alice, whileDown2)).isEqualTo("while you were down (2)");
      assertThat(read(alice, whileDown1)).isEqualTo("while you were down (1)");
      assertRead(bob, g, alice.encrypt(b("back again")), "back again");

      // Epoch 3: a ts-mls commit processed by the restored member.
      processCommit(alice, bob.call("update", "group", g), 3);
      assertAgree(alice, g, 3, List.of("alice", "bob"), bob);
      assertRead(bob, g, alice.encrypt(b("epoch 3 from alice")), "epoch 3 from alice");

      // Epoch 4: the restored member commits (adds carol, ts-mls); bob processes it, carol joins.
      String kpC = carol.call("create_key_package").path("key_package").asText();
      MlsGroup.PendingCommit addC = alice.addMembers(List.of(Bytes.fromBase64(kpC)));
      alice.mergePendingCommit();
      assertThat(alice.epoch()).isEqualTo(4);
      JsonNode atBob = bob.call("process", "group", g, "message", addC.message().base64());
      assertThat(atBob.path("kind").asText()).isEqualTo("commit");
      assertThat(atBob.path("epoch").asLong()).as("bob's epoch after alice's add").isEqualTo(4);
      carol.call("join", "welcome", addC.welcome().orElseThrow().base64(), "group", g);
      assertAgree(alice, g, 4, List.of("alice", "bob", "carol"), bob, carol);

      // Epoch 5: the restored member updates too.
      MlsGroup.PendingCommit upd = alice.update();
      alice.mergePendingCommit();
      for (Peer p : List.of(bob, carol)) {
        JsonNode r = p.call("process", "group", g, "message", upd.message().base64());
        assertThat(r.path("epoch").asLong()).as(p.name + "'s epoch after alice's update").isEqualTo(5);
      }
      assertAgree(alice, g, 5, List.of("alice", "bob", "carol"), bob, carol);

      // A second restart: what was saved after the own commits is what goes on.
      store = null;
      alice = null;
      keys.close();
      String whileDown3 = carol.call("encrypt", "group", g, "text", "carol, while alice was down").path("message").asText();
      keys = DeviceKeyStore.open(dataDir, protection());
      try {
        alice = MlsGroup.load(GroupStore.encrypted(keys.fileStore("mls-groups")), groupId).orElseThrow();
        assertAgree(alice, g, 5, List.of("alice", "bob", "carol"), bob, carol);
        assertThat(read(alice, whileDown3)).isEqualTo("carol, while alice was down");
        Bytes last = alice.encrypt(b("all good"));
        assertRead(bob, g, last, "all good");
        assertRead(carol, g, last, "all good");
      } finally {
        keys.close();
      }
    } finally {
      for (Peer p : all) {
        p.close();
      }
    }
  }

  private static Peer spawn(String name, List<Peer> all) {
    try {
      Peer p = InteropSupport.tsMls(name);
      all.add(p);
      return p;
    } catch (java.io.IOException e) {
      throw new AssertionError("cannot start the ts-mls peer", e);
    }
  }

  private static String read(MlsGroup alice, String message) {
    Inbound in = alice.process(Bytes.fromBase64(message));
    assertThat(in).isInstanceOf(Inbound.Application.class);
    return new String(((Inbound.Application) in).data().toByteArray(), StandardCharsets.UTF_8);
  }

  private static void assertRead(Peer p, String g, Bytes message, String text) {
    JsonNode r = p.call("process", "group", g, "message", message.base64());
    assertThat(r.path("kind").asText()).isEqualTo("application");
    assertThat(r.path("text").asText()).as(p.name + " reads alice's message").isEqualTo(text);
  }

  private static void processCommit(MlsGroup alice, JsonNode reply, long epoch) {
    assertThat(reply.path("epoch").asLong()).isEqualTo(epoch);
    Inbound in = alice.process(Bytes.fromBase64(reply.path("commit").asText()));
    assertThat(in).isInstanceOf(Inbound.StagedCommit.class);
    Inbound.StagedCommit c = (Inbound.StagedCommit) in;
    assertThat(c.newEpoch()).isEqualTo(epoch);
    assertThat(c.removesMe()).isFalse();
    alice.merge(c);
    assertThat(alice.epoch()).isEqualTo(epoch);
  }

  /** Alice (ours) and the ts-mls {@code peers} agree on epoch, members, epoch authenticator and exporter. */
  private static void assertAgree(MlsGroup alice, String g, long epoch, List<String> members, Peer... peers) {
    assertThat(alice.epoch()).as("alice's epoch").isEqualTo(epoch);
    List<String> ours = new ArrayList<>();
    for (MlsGroup.Member m : alice.members()) {
      ours.add(new String(m.identity().toByteArray(), StandardCharsets.UTF_8));
    }
    assertThat(ours).as("alice's members (by leaf)").containsExactlyInAnyOrderElementsOf(members);
    String auth = alice.epochAuthenticator().base64();
    String secret = Base64.getEncoder().encodeToString(alice.exportSecret(LABEL, CONTEXT, 32));
    for (Peer p : peers) {
      String where = p.name + " at epoch " + epoch;
      JsonNode s = p.call("state", "group", g);
      assertThat(s.path("epoch").asLong()).as(where + ": epoch").isEqualTo(epoch);
      assertThat(Stream.of(Peer.JSON.convertValue(s.path("members"), String[].class)).toList()).as(where + ": members (by leaf) vs alice").isEqualTo(ours);
      assertThat(s.path("epoch_authenticator").asText()).as(where + ": epoch_authenticator vs alice").isEqualTo(auth);
      String theirs = p.call("export_secret", "group", g, "label", LABEL, "context_b64", "AQID", "length", 32).path("secret").asText();
      assertThat(theirs).as(where + ": MLS-Exporter vs alice").isEqualTo(secret);
    }
  }
}
