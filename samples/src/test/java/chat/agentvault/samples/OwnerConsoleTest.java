package chat.agentvault.samples;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import chat.agentvault.identity.Argon2Params;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.relay.TestRelay;
import chat.agentvault.relay.TestRelayExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The owner console against a real relay: one command per run, as from a shell. */
@ExtendWith(TestRelayExtension.class)
class OwnerConsoleTest {
  static TestRelay relay;
  @TempDir Path root;

  record Run(int status, String out, String err) {}

  private Run console(Path ownerDir, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> env = Map.of("AGENTVAULT_RELAY_URL", relay.baseUrl(),
        "AGENTVAULT_DATA_DIR", ownerDir.toString(), "AGENTVAULT_KEY_STORE_PASSPHRASE", "owner passphrase");
    int status = OwnerConsole.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env);
    Run r = new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    System.out.println("$ owner-console " + String.join(" ", args) + "  -> " + status + "\n" + r.out() + r.err());
    return r;
  }

  @Test
  void inviteEnrollApproveByFingerprintDevicesActiveThenRoomAndRead() throws Exception {
    Path ownerDir = root.resolve("owner");
    String bootstrap = relay.createTenant("console-test").ownerToken();
    Run who = console(ownerDir, "whoami", "--invite-token", bootstrap);
    assertThat(who.status()).isZero();
    assertThat(who.out()).contains("fingerprint ");

    Run invite = console(ownerDir, "invite", "--ttl", "5m");
    assertThat(invite.status()).isZero();
    String token = invite.out().lines().filter(l -> l.startsWith("token: ")).findFirst().orElseThrow().substring(7);

    try (KeyProtection keys = KeyProtection.passphrase("agent pass".toCharArray(), Argon2Params.insecureForTesting());
        AgentClient agent = AgentClient.builder().relayUrl(relay.baseUrl()).dataDir(root.resolve("agent"))
            .agentName("ops-agent").inviteToken(token).keyProtection(keys)
            .pollInterval(Duration.ofMillis(200)).approvalPollInterval(Duration.ofMillis(100)).build()) {
      CompletableFuture<Void> started = CompletableFuture.runAsync(agent::start);
      await(() -> agent.state() == ClientState.PENDING_APPROVAL);
      String id = agent.deviceId().orElseThrow();

      Run pending = console(ownerDir, "devices");
      assertThat(pending.status()).isZero();
      String line = pending.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow();
      assertThat(line).contains("ops-agent", "agent", "PENDING", agent.fingerprint().full());

      // a fingerprint that does not match is refused
      String wrong = agent.fingerprint().full().replaceFirst("^.", agent.fingerprint().full().startsWith("0") ? "1" : "0");
      Run refused = console(ownerDir, "approve", id, wrong);
      assertThat(refused.status()).isEqualTo(1);

      Run approved = console(ownerDir, "approve", id, agent.fingerprint().full());
      assertThat(approved.status()).isZero();
      assertThat(approved.out()).contains("relay lists  " + agent.fingerprint().full(), "approved " + id);
      started.get(30, TimeUnit.SECONDS);

      Run active = console(ownerDir, "devices");
      assertThat(active.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow()).contains("ACTIVE");

      Run created = console(ownerDir, "create-room", "Ops", id);
      assertThat(created.status()).isZero();
      assertThat(created.out()).contains("\"Ops\"", "encrypted (MLS)");
      String roomId = created.out().lines().findFirst().orElseThrow().split(" ")[0];
      await(() -> agent.rooms().stream().anyMatch(r -> r.roomId().equals(roomId)
          && r.members().stream().anyMatch(m -> m.deviceId().equals(id) && m.status().equals("joined"))));
      assertThat(agent.sendToRoom(roomId, "status: all green").stored()).isTrue();

      Run read = console(ownerDir, "read", "Ops", "--wait", "2s");
      assertThat(read.status()).isZero();
      assertThat(read.out()).contains("MLS", "ops-agent [text] status: all green");
      Run again = console(ownerDir, "read", roomId, "--wait", "0s");
      assertThat(again.out()).as("kept in the encrypted history").contains("status: all green");
      assertThat(console(ownerDir, "rooms").out()).contains(roomId, "\"Ops\"", "joined");
    }
    assertThat(console(ownerDir, "bogus").status()).isEqualTo(2);
  }

  private static void await(BooleanSupplier c) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!c.getAsBoolean()) {
      assertThat(System.nanoTime()).as("in time").isLessThan(end);
      Thread.sleep(100);
    }
  }
}
