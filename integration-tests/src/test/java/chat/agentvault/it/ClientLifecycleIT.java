package chat.agentvault.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientClosedException;
import chat.agentvault.channel.ClientHooks;
import chat.agentvault.channel.ClientState;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.StartTimeoutException;
import chat.agentvault.channel.Subscription;
import chat.agentvault.relay.TestRelay;
import chat.agentvault.relay.TestRelayExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The client's life cycle against a real relay: suspension and resume, close during start, start timeout, listener removal. */
@ExtendWith(TestRelayExtension.class)
class ClientLifecycleIT {
  static TestRelay relay;
  @TempDir Path root;

  /** States seen by a listener, and a way to wait for one. */
  static final class States {
    final BlockingQueue<ClientState> seen = new LinkedBlockingQueue<>();
    final List<ClientState> all = new java.util.concurrent.CopyOnWriteArrayList<>();

    States(AgentClient c) {
      c.onStateChange(s -> {
        all.add(s);
        seen.add(s);
      });
    }

    void await(ClientState want) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (System.nanoTime() < end) {
        ClientState s = seen.poll(100, TimeUnit.MILLISECONDS);
        if (s == want) {
          return;
        }
      }
      throw new AssertionError("no " + want + " within 20 s; seen " + all);
    }
  }

  static long relayThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("av-relay")).count();
  }

  static void awaitRelayThreadsAtMost(long n) throws InterruptedException {
    for (int i = 0; i < 50 && relayThreads() > n; i++) {
      Thread.sleep(100);
    }
    assertThat(relayThreads()).as("socket threads left").isLessThanOrEqualTo(n);
  }

  @Test
  void suspendedDeviceComesBackWhenResumedAndCatchesUpInOrder() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    States states = new States(agent.client());
    owner.client().sendDirect(agent.id(), "before");
    assertThat(agent.next().text()).isEqualTo("before");

    owner.client().owner().suspend(agent.id());
    states.await(ClientState.SUSPENDED);
    for (int i = 0; i < 5; i++) {
      assertThat(owner.client().sendDirect(agent.id(), "while suspended " + i).stored()).isTrue();
    }
    Thread.sleep(1500); // a few refused logins
    assertThat(agent.client().state()).isEqualTo(ClientState.SUSPENDED);
    assertThat(agent.inbox()).isEmpty();

    owner.client().owner().resume(agent.id());
    states.await(ClientState.ONLINE);
    for (int i = 0; i < 5; i++) {
      assertThat(agent.next().text()).isEqualTo("while suspended " + i);
    }
    owner.client().sendDirect(agent.id(), "after");
    assertThat(agent.next().text()).isEqualTo("after");
    assertThat(agent.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    assertThat(agent.client().send("back").stored()).isTrue();
    assertThat(owner.next().text()).isEqualTo("back");

    // a start while suspended waits (SUSPENDED) and goes on once resumed
    agent.client().close();
    owner.client().owner().suspend(agent.id());
    owner.client().sendDirect(agent.id(), "while down");
    Agents.Handle again = Agents.open(Agents.builder(relay, agent.dir(), "analyst"), agent.dir());
    States states2 = new States(again.client());
    CompletableFuture<Void> started = CompletableFuture.runAsync(again.client()::start);
    states2.await(ClientState.SUSPENDED);
    assertThat(started).isNotDone();
    owner.client().owner().resume(agent.id());
    started.get(20, TimeUnit.SECONDS);
    assertThat(again.next().text()).isEqualTo("while down");

    // revocation stays final
    owner.client().owner().revoke(agent.id());
    states2.await(ClientState.REVOKED);
    Thread.sleep(1000);
    assertThat(again.client().state()).isEqualTo(ClientState.REVOKED);
    again.client().close();
    owner.client().close();
  }

  /** An agent enrolled with an invite, its start() running until PENDING_APPROVAL. */
  static CompletableFuture<Void> pendingAgent(Agents.Handle owner, AgentClient.Builder b, Agents.Handle[] out, Path dir)
      throws Exception {
    Agents.Handle h = Agents.open(b.inviteToken(owner.client().owner().createInvite("agent", Duration.ofMinutes(10)).token()), dir);
    out[0] = h;
    CountDownLatch pending = new CountDownLatch(1);
    h.client().onStateChange(s -> {
      if (s == ClientState.PENDING_APPROVAL) {
        pending.countDown();
      }
    });
    CompletableFuture<Void> started = CompletableFuture.runAsync(h.client()::start);
    assertThat(pending.await(20, TimeUnit.SECONDS)).as("pending approval").isTrue();
    return started;
  }

  @Test
  void closeWhileWaitingForApprovalEndsStartAtOnceAndOpensNothing() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    long before = relayThreads();
    Path dir = root.resolve("agent-" + UUID.randomUUID());
    Agents.Handle[] h = new Agents.Handle[1];
    CompletableFuture<Void> started = pendingAgent(owner,
        Agents.builder(relay, dir, "analyst").approvalPollInterval(Duration.ofSeconds(30)), h, dir);
    String fingerprint = h[0].client().fingerprint().full();
    long t0 = System.nanoTime();
    h[0].client().close();
    assertThatThrownBy(() -> started.get(3, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(ClientClosedException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    owner.client().owner().approve(h[0].id(), fingerprint);
    Thread.sleep(500);
    assertThat(h[0].client().state()).isEqualTo(ClientState.CLOSED);
    assertThat(ClientHooks.socket(h[0].client())).isNull();
    awaitRelayThreadsAtMost(before);
    owner.client().close();
  }

  @Test
  void closeFromAnotherThreadWhileConnectingOpensNoSocket() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    long before = relayThreads();
    Path dir = root.resolve("agent-" + UUID.randomUUID());
    Agents.Handle[] h = new Agents.Handle[1];
    CompletableFuture<Void> started = pendingAgent(owner, Agents.builder(relay, dir, "analyst"), h, dir);
    AgentClient c = h[0].client();
    c.onStateChange(s -> {
      if (s == ClientState.CONNECTING) { // logged in: close() on another thread, finished before start() goes on
        Thread closer = new Thread(c::close);
        closer.start();
        try {
          closer.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    owner.client().owner().approve(h[0].id(), c.fingerprint().full());
    assertThatThrownBy(() -> started.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(ClientClosedException.class);
    assertThat(c.state()).isEqualTo(ClientState.CLOSED);
    assertThat(ClientHooks.socket(c)).isNull();
    awaitRelayThreadsAtMost(before);
    owner.client().close();
  }

  @Test
  void startTimeoutEndsTheApprovalWaitAndLeavesTheClientClosable() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    long before = relayThreads();
    Path dir = root.resolve("agent-" + UUID.randomUUID());
    Agents.Handle[] h = new Agents.Handle[1];
    long t0 = System.nanoTime();
    CompletableFuture<Void> started = pendingAgent(owner,
        Agents.builder(relay, dir, "analyst").startTimeout(Duration.ofSeconds(2)), h, dir);
    assertThatThrownBy(() -> started.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(StartTimeoutException.class).hasMessageContaining("PENDING_APPROVAL");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(8));
    assertThat(h[0].client().state()).isEqualTo(ClientState.PENDING_APPROVAL);
    assertThat(ClientHooks.socket(h[0].client())).isNull();
    h[0].client().close();
    assertThat(h[0].client().state()).isEqualTo(ClientState.CLOSED);
    awaitRelayThreadsAtMost(before);
    assertThatThrownBy(() -> Agents.builder(relay, dir, "x").startTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    owner.client().close();
  }

  @Test
  void closingASubscriptionRemovesItsListener() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    List<String> got = new ArrayList<>();
    Subscription sub = agent.client().onMessage(m -> got.add(m.text()));
    List<ClientState> states = new ArrayList<>();
    Subscription stateSub = agent.client().onStateChange(states::add);
    owner.client().sendDirect(agent.id(), "one");
    assertThat(agent.next().text()).isEqualTo("one"); // the harness's listener runs after ours
    sub.close();
    sub.close(); // idempotent
    stateSub.close();
    owner.client().sendDirect(agent.id(), "two");
    InboundMessage two = agent.next();
    assertThat(two.text()).isEqualTo("two");
    assertThat(got).containsExactly("one");
    agent.client().close();
    assertThat(states).doesNotContain(ClientState.CLOSED);
    owner.client().close();
  }
}
