package chat.agentvault.spring;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.MessageType;
import chat.agentvault.channel.SendOptions;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.Argon2Params;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.relay.TestRelay;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The starter in a Spring Boot application against a real relay (TestRelay on embedded
 * PostgreSQL): the application's client enrolls with an invite from configuration and waits for
 * approval without holding up the context; the owner (a plain AgentClient in the test) approves it
 * by fingerprint and messages it; the {@link VaultListener} methods and the Spring event receive.
 */
@SpringBootTest(classes = AgentVaultSpringBootTest.App.class)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class AgentVaultSpringBootTest {
  static TestRelay relay;
  static Path root;
  static AgentClient owner;

  /** Before the context: the relay, the owner (bootstrap token), and the invite for the application. */
  @DynamicPropertySource
  static void relayAndInvite(DynamicPropertyRegistry registry) throws IOException {
    relay = TestRelay.start();
    root = Files.createTempDirectory("agentvault-spring-it");
    TestRelay.TenantBootstrap tenant = relay.createTenant("spring-it");
    owner = AgentClient.builder().relayUrl(relay.baseUrl()).dataDir(root.resolve("owner")).agentName("owner")
        .inviteToken(tenant.ownerToken())
        .keyProtection(KeyProtection.passphrase("owner pass".toCharArray(), Argon2Params.insecureForTesting()))
        .pollInterval(Duration.ofMillis(200)).approvalPollInterval(Duration.ofMillis(100)).build();
    owner.start();
    String invite = owner.owner().createInvite("agent", Duration.ofMinutes(10)).token();
    Path keyFile = root.resolve("agent.key");
    try (SecretBytes key = SecretBytes.random(32)) {
      Files.write(keyFile, key.copyOfSecret());
    }
    registry.add("agentvault.relay-url", relay::baseUrl);
    registry.add("agentvault.data-dir", () -> root.resolve("app").toString());
    registry.add("agentvault.invite-token", () -> invite);
    registry.add("agentvault.key-store-key-file", keyFile::toString);
    registry.add("agentvault.poll-interval", () -> "200ms");
    registry.add("agentvault.approval-poll-interval", () -> "100ms");
    registry.add("spring.application.name", () -> "spring-analyst");
  }

  /**
   * Closes the owner and the relay and deletes the data, as the context's last bean: after the
   * lifecycle closed the application's client (a JUnit {@code @AfterAll} would run before the
   * Spring extension closes the context, leaving the client talking to a closed relay).
   */
  static void closeFixture() {
    if (owner != null) {
      owner.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (root != null) {
      try (Stream<Path> files = Files.walk(root)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    /** Created first, so destroyed last. */
    @Bean
    AutoCloseable fixture() {
      return AgentVaultSpringBootTest::closeFixture;
    }

    @Bean
    Received received() {
      return new Received();
    }
  }

  /** What the application received, by each route. */
  static class Received {
    final BlockingQueue<InboundMessage> texts = new LinkedBlockingQueue<>();
    final BlockingQueue<InboundMessage> decisions = new LinkedBlockingQueue<>();
    final BlockingQueue<InboundMessage> events = new LinkedBlockingQueue<>();
    final List<ClientState> states = new CopyOnWriteArrayList<>();

    @VaultListener(messageType = MessageType.TEXT)
    void onText(InboundMessage m) {
      texts.add(m);
    }

    @VaultListener(messageType = MessageType.DECISION_REQUEST)
    void onDecision(InboundMessage m) {
      decisions.add(m);
    }

    @EventListener
    void onEvent(AgentVaultMessageEvent e) {
      events.add(e.message());
    }

    @EventListener
    void onState(AgentVaultStateEvent e) {
      states.add(e.state());
    }
  }

  @Autowired AgentClient app;
  @Autowired AgentVaultHealthIndicator health;
  @Autowired Received received;

  @Test
  void enrollsWaitsForApprovalThenReceivesThroughVaultListenerAndEvents() throws Exception {
    // the context started while the client waits for the owner's approval
    await("pending approval", () -> app.state() == ClientState.PENDING_APPROVAL);
    Health pending = health.health();
    assertThat(pending.getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
    String deviceId = app.deviceId().orElseThrow();
    assertThat(pending.getDetails()).containsEntry("state", "PENDING_APPROVAL").containsEntry("deviceId", deviceId)
        .containsEntry("role", "agent").containsEntry("fingerprint", app.fingerprint().full());
    assertThat(app.toString()).contains("spring-analyst");

    // the owner compares the fingerprint (the health detail) and approves
    owner.owner().approve(deviceId, (String) pending.getDetails().get("fingerprint"));
    // logged in: ONLINE over the relay's WebSocket, health UP
    await("online", () -> app.state() == ClientState.ONLINE);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    assertThat(received.states).containsSubsequence(ClientState.ENROLLING, ClientState.PENDING_APPROVAL,
        ClientState.CONNECTING);
    assertThat(received.states).contains(ClientState.ONLINE);

    owner.sendDirect(deviceId, "hello spring");
    InboundMessage text = poll(received.texts);
    assertThat(text.text()).isEqualTo("hello spring");
    assertThat(text.senderDeviceId()).isEqualTo(owner.deviceId().orElseThrow());
    assertThat(text.encrypted()).isTrue();
    assertThat(poll(received.events)).isEqualTo(text);

    owner.sendDirect(deviceId, "deploy?", SendOptions.builder().messageType(MessageType.DECISION_REQUEST)
        .data(Map.of("options", List.of("yes", "no"))).build());
    InboundMessage decision = poll(received.decisions);
    assertThat(decision.data()).containsEntry("options", List.of("yes", "no"));
    assertThat(poll(received.events).messageId()).isEqualTo(decision.messageId());
    assertThat(received.texts).as("the text listener filters the decision out").isEmpty();

    // the application answers through the injected client; the owner gets it
    BlockingQueue<InboundMessage> ownerInbox = new LinkedBlockingQueue<>();
    owner.onMessage(ownerInbox::add);
    app.send("all green");
    assertThat(poll(ownerInbox).text()).isEqualTo("all green");
  }

  static InboundMessage poll(BlockingQueue<InboundMessage> q) throws InterruptedException {
    InboundMessage m = q.poll(20, TimeUnit.SECONDS);
    assertThat(m).as("a message within 20 s").isNotNull();
    return m;
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not " + what + " within 30 s");
      }
      Thread.sleep(20);
    }
  }
}
