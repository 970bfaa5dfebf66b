package chat.agentvault.samples;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.MessageType;
import chat.agentvault.channel.SendOptions;
import chat.agentvault.spring.AgentVaultStateEvent;
import chat.agentvault.spring.VaultListener;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;

/**
 * A Spring Boot agent on the AgentVault starter: the "reviewer" of Project Alpha. The starter
 * builds, starts and closes the {@link AgentClient} from {@code agentvault.*} properties; the
 * {@link Reviewer} bean answers decision requests with a {@code @VaultListener} method.
 *
 * <p>Configuration, as for any Boot application: {@code --agentvault.relay-url=...} or
 * {@code AGENTVAULT_RELAY_URL}, {@code AGENTVAULT_DATA_DIR}, {@code AGENTVAULT_INVITE_TOKEN} (first
 * run), {@code AGENTVAULT_KEY_STORE_PASSPHRASE} (or {@code agentvault.key-store-key-file}),
 * {@code agentvault.agent-name} (default {@code reviewer}).
 *
 * <pre>
 * AGENTVAULT_RELAY_URL=http://127.0.0.1:8080 AGENTVAULT_DATA_DIR=reviewer-data \
 * AGENTVAULT_INVITE_TOKEN=TOKEN AGENTVAULT_KEY_STORE_PASSPHRASE=... \
 *   java -cp samples/target/agentvault-demo.jar chat.agentvault.samples.SpringAgentApplication
 * </pre>
 */
@SpringBootConfiguration(proxyBeanMethods = false)
@EnableAutoConfiguration
public class SpringAgentApplication {
  private static final Logger log = LoggerFactory.getLogger(SpringAgentApplication.class);

  /** The reviewer's answer to a decision request. */
  static final String APPROVAL = "Approved: release 2.4 ships Friday, payment-path tests first.";

  @Bean
  Reviewer reviewer(AgentClient client) {
    return new Reviewer(client);
  }

  /** Tells the operator what to compare while the owner has not approved the device yet. */
  @EventListener
  void onState(AgentVaultStateEvent e) {
    if (e.state() == ClientState.PENDING_APPROVAL && !Boolean.getBoolean("agentvault.samples.quiet")) {
      System.out.println("[reviewer] waiting for the owner's approval. Device " + e.client().deviceId().orElse("?")
          + ", fingerprint:\n    " + e.client().fingerprint().full());
    }
  }

  /** Answers every decision request in a room it is in: approve, as a {@code decision_response}. */
  public static class Reviewer implements AutoCloseable {
    private final AgentClient client;
    private final ExecutorService replies = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "reviewer-replies");
      t.setDaemon(true);
      return t;
    });

    Reviewer(AgentClient client) {
      this.client = client;
    }

    @VaultListener(messageType = MessageType.DECISION_REQUEST)
    public void onDecisionRequest(InboundMessage m) {
      if (m.roomId() == null) {
        return;
      }
      // not on the client's inbound thread
      replies.submit(() -> {
        try {
          client.sendToRoom(m.roomId(), APPROVAL, SendOptions.builder()
              .messageType(MessageType.DECISION_RESPONSE).parentSpanId(m.spanId())
              .data(Map.of("choice", "approve")).build());
        } catch (RuntimeException e) {
          log.warn("reviewer: cannot answer {}: {}", m.messageId(), e.toString());
        }
      });
    }

    @Override
    public void close() {
      replies.shutdownNow();
    }
  }

  /** The application context with these extra properties (the demo's in-process reviewer). */
  public static ConfigurableApplicationContext start(Map<String, Object> properties, String... args) {
    return new SpringApplicationBuilder(SpringAgentApplication.class)
        .web(WebApplicationType.NONE)
        .logStartupInfo(false)
        .bannerMode(org.springframework.boot.Banner.Mode.OFF)
        .properties(Map.of("agentvault.agent-name", "reviewer"))
        .properties(properties)
        .run(args);
  }

  public static void main(String[] args) throws InterruptedException {
    System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
    ConfigurableApplicationContext ctx = start(Map.of(), args);
    CountDownLatch closed = new CountDownLatch(1);
    ctx.addApplicationListener(e -> {
      if (e instanceof ContextClosedEvent) {
        closed.countDown();
      }
    });
    ctx.registerShutdownHook();
    closed.await();
  }
}
