package chat.agentvault.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.identity.Argon2Params;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.relay.TestRelay;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Clients on a test relay, as in integration-tests' {@code Agents}: an owner enrolled with the
 * tenant's bootstrap token, agents invited by it and approved by fingerprint. An agent is built
 * first and started by {@link #start}, so that a runner can bind to it in between.
 */
final class TestAgents {
  private TestAgents() {}

  record Handle(AgentClient client, BlockingQueue<InboundMessage> inbox, Path dir, KeyProtection protection) {
    String id() {
      return client.deviceId().orElseThrow();
    }

    InboundMessage next() throws InterruptedException {
      InboundMessage m = inbox.poll(30, TimeUnit.SECONDS);
      assertThat(m).as("a message within 30 s").isNotNull();
      return m;
    }
  }

  static KeyProtection protection() {
    return KeyProtection.passphrase("correct horse".toCharArray(), Argon2Params.insecureForTesting());
  }

  private static Handle build(TestRelay relay, Path dir, String name, String invite) {
    KeyProtection p = protection();
    AgentClient c = AgentClient.builder().relayUrl(relay.baseUrl()).dataDir(dir).agentName(name).keyProtection(p)
        .inviteToken(invite).pollInterval(Duration.ofMillis(200)).approvalPollInterval(Duration.ofMillis(100)).build();
    BlockingQueue<InboundMessage> q = new LinkedBlockingQueue<>();
    c.onMessage(q::add);
    return new Handle(c, q, dir, p);
  }

  static Handle owner(TestRelay relay, Path root) {
    TestRelay.TenantBootstrap t = relay.createTenant("t-" + UUID.randomUUID());
    Handle h = build(relay, root.resolve("owner-" + UUID.randomUUID()), "owner", t.ownerToken());
    h.client().start();
    return h;
  }

  /** An agent invited by {@code owner}, built, not started. */
  static Handle agent(TestRelay relay, Path root, Handle owner, String name) {
    String invite = owner.client().owner().createInvite("agent", Duration.ofMinutes(10)).token();
    return build(relay, root.resolve(name + "-" + UUID.randomUUID()), name, invite);
  }

  /** Starts {@code agent}, approving it by fingerprint as {@code owner}. */
  static void start(Handle owner, Handle agent) throws Exception {
    CountDownLatch pending = new CountDownLatch(1);
    agent.client().onStateChange(s -> {
      if (s == ClientState.PENDING_APPROVAL) {
        pending.countDown();
      }
    });
    CompletableFuture<Void> started = CompletableFuture.runAsync(agent.client()::start);
    assertThat(pending.await(30, TimeUnit.SECONDS)).as("pending approval").isTrue();
    owner.client().owner().approve(agent.id(), agent.client().fingerprint().full());
    started.get(30, TimeUnit.SECONDS);
  }

  static void awaitJoined(Handle owner, String roomId, String member) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      boolean joined = owner.client().rooms().stream().filter(r -> r.roomId().equals(roomId))
          .flatMap(r -> r.members().stream())
          .anyMatch(x -> x.deviceId().equals(member) && x.status().equals("joined"));
      if (joined) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(member + " did not join " + roomId);
  }
}
