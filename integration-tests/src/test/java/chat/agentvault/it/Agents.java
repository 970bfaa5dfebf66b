package chat.agentvault.it;

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

/** Clients of a test relay: an owner enrolled with the bootstrap token, agents approved by fingerprint. */
final class Agents {
  private Agents() {}

  /** A client and what it received. */
  record Handle(AgentClient client, BlockingQueue<InboundMessage> inbox, Path dir) {
    String id() {
      return client.deviceId().orElseThrow();
    }

    InboundMessage next() throws InterruptedException {
      InboundMessage m = inbox.poll(20, TimeUnit.SECONDS);
      assertThat(m).as("a message within 20 s").isNotNull();
      return m;
    }
  }

  static AgentClient.Builder builder(TestRelay relay, Path dir, String name) {
    return AgentClient.builder().relayUrl(relay.baseUrl()).dataDir(dir).agentName(name)
        .keyProtection(KeyProtection.passphrase("correct horse".toCharArray(), Argon2Params.insecureForTesting()))
        .pollInterval(Duration.ofMillis(200)).approvalPollInterval(Duration.ofMillis(100));
  }

  static Handle open(AgentClient.Builder b, Path dir) {
    AgentClient c = b.build();
    BlockingQueue<InboundMessage> q = new LinkedBlockingQueue<>();
    c.onMessage(q::add);
    return new Handle(c, q, dir);
  }

  /** A new tenant and its first owner, enrolled with the bootstrap token and started. */
  static Handle owner(TestRelay relay, Path root) {
    TestRelay.TenantBootstrap t = relay.createTenant("t-" + UUID.randomUUID());
    Path dir = root.resolve("owner-" + UUID.randomUUID());
    Handle h = open(builder(relay, dir, "owner").inviteToken(t.ownerToken()), dir);
    h.client().start();
    return h;
  }

  /** An agent invited by {@code owner}, enrolled, approved by its fingerprint, started. */
  static Handle agent(TestRelay relay, Path root, Handle owner, String name) throws Exception {
    String invite = owner.client().owner().createInvite("agent", Duration.ofMinutes(10)).token();
    Path dir = root.resolve(name + "-" + UUID.randomUUID());
    Handle h = open(builder(relay, dir, name).inviteToken(invite), dir);
    CountDownLatch pending = new CountDownLatch(1);
    h.client().onStateChange(s -> {
      if (s == ClientState.PENDING_APPROVAL) {
        pending.countDown();
      }
    });
    CompletableFuture<Void> started = CompletableFuture.runAsync(h.client()::start);
    assertThat(pending.await(20, TimeUnit.SECONDS)).as("pending approval").isTrue();
    owner.client().owner().approve(h.id(), h.client().fingerprint().full());
    started.get(30, TimeUnit.SECONDS);
    return h;
  }

  /** The same data directory opened again (a restart). */
  static Handle restart(TestRelay relay, Handle old, String name) {
    old.client().close();
    Handle h = open(builder(relay, old.dir(), name), old.dir());
    h.client().start();
    return h;
  }
}
