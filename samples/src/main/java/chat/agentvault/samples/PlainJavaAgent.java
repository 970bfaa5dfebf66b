package chat.agentvault.samples;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.MessageType;
import chat.agentvault.channel.SendOptions;
import chat.agentvault.identity.KeyProtection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A plain Java agent (no framework): the "planner" of Project Alpha. It listens with
 * {@link AgentClient#onMessage} and answers with {@link AgentClient#send}, which goes back to the
 * room it last heard from (sticky routing), so it never handles a room id itself.
 *
 * <ul>
 *   <li>a room message that mentions {@code @planner} and asks for a plan: posts the plan (by {@code send});
 *   <li>a message from the analyst (a risk check): asks {@code @reviewer} for a decision, a
 *       {@code decision_request} with the options as structured data, to the same room.
 * </ul>
 *
 * <p>Replies are sent from the agent's own thread, never from the client's inbound thread.
 *
 * <pre>
 * java -cp samples/target/agentvault-demo.jar chat.agentvault.samples.PlainJavaAgent \
 *     --relay-url http://127.0.0.1:8080 --data-dir planner-data --invite-token TOKEN --passphrase ...
 * </pre>
 */
public final class PlainJavaAgent implements Consumer<InboundMessage>, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PlainJavaAgent.class);

  /** The plan it posts. */
  static final String PLAN = "Plan for release 2.4: (1) feature freeze Wednesday noon, "
      + "(2) @analyst please check the risk of the 14 open issues, (3) reviewer sign-off Thursday.";
  /** What it asks the reviewer, after the analyst's risk check. */
  static final String DECISION = "@reviewer Decision needed: sign off release 2.4 for Friday?";

  private final AgentClient client;
  private final ExecutorService replies = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "planner-replies");
    t.setDaemon(true);
    return t;
  });

  private PlainJavaAgent(AgentClient client) {
    this.client = client;
  }

  /** Adds the planner's behaviour to {@code client} (before {@code start()}, so nothing is missed). */
  public static PlainJavaAgent attach(AgentClient client) {
    PlainJavaAgent agent = new PlainJavaAgent(client);
    client.onMessage(agent);
    return agent;
  }

  @Override
  public void accept(InboundMessage m) {
    if (m.roomId() == null || client.deviceId().filter(m.senderDeviceId()::equals).isPresent()) {
      return; // direct messages and our own
    }
    String text = m.text() == null ? "" : m.text().toLowerCase(Locale.ROOT);
    if (MessageType.TEXT.equals(m.messageType()) && text.contains("@planner") && text.contains("plan")) {
      replies.submit(() -> reply(PLAN, SendOptions.DEFAULT, m));
    } else if (MessageType.TEXT.equals(m.messageType()) && "analyst".equalsIgnoreCase(m.senderName())) {
      replies.submit(() -> reply(DECISION, SendOptions.builder().messageType(MessageType.DECISION_REQUEST)
          .parentSpanId(m.spanId()).data(Map.of("options", List.of("approve", "reject"))).build(), m));
    }
  }

  private void reply(String text, SendOptions options, InboundMessage to) {
    try {
      var r = options == SendOptions.DEFAULT
          ? client.send(text) // sticky: the room of the last inbound room message
          : client.sendToRoom(to.roomId(), text, options);
      if (!r.stored()) {
        log.warn("planner: not stored: {}", r.failureReason().orElse("?"));
      }
    } catch (RuntimeException e) {
      log.warn("planner: cannot reply to {}: {}", to.messageId(), e.toString());
    }
  }

  @Override
  public void close() {
    replies.shutdownNow();
  }

  public static void main(String[] args) throws Exception {
    SampleArgs a = SampleArgs.of(args);
    try (KeyProtection protection = a.keyProtection();
        AgentClient client = a.clientBuilder("planner", protection).build();
        PlainJavaAgent agent = attach(client)) {
      Standalone.runUntilStopped(client, agent);
    } catch (IllegalArgumentException e) {
      Standalone.usage(e.getMessage(), "usage: PlainJavaAgent --relay-url URL --data-dir DIR"
          + " [--invite-token TOKEN] [--passphrase P] [--name planner]");
    }
  }
}
