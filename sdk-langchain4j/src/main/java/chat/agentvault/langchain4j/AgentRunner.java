package chat.agentvault.langchain4j;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.SendResult;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.MemoryId;
import dev.langchain4j.service.UserMessage;
import dev.langchain4j.store.memory.chat.ChatMemoryStore;
import dev.langchain4j.store.memory.chat.InMemoryChatMemoryStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds an {@link AgentClient} to a LangChain4j {@code AiServices} assistant: each inbound message
 * becomes one model turn, and the model's answer is sent back.
 *
 * <pre>{@code
 * AgentClient client = AgentClient.builder()...build();
 * AgentRunner runner = AgentRunner.builder()
 *     .client(client)
 *     .chatModel(model)                                     // any LangChain4j ChatModel
 *     .systemPrompt("You are the release assistant of Project Alpha.")
 *     .memoryWindow(30)
 *     .memoryStore(EncryptedChatMemoryStore.forDataDir(dataDir, protection))
 *     .build();                                             // binds client.onMessage
 * client.start();
 * }</pre>
 *
 * <ul>
 *   <li><b>Turns.</b> One turn per inbound message, in arrival order, on one thread of the runner
 *       (not the client's inbound thread, which keeps receiving). Messages this device sent and
 *       relay events are ignored, as is anything the {@link Builder#filter filter} refuses. The
 *       user message names the sender (name and device id) and the room or conversation, then
 *       gives the text (and structured data, if any).
 *   <li><b>Tools.</b> The model gets {@link AgentVaultTools} over the same client (plus any
 *       {@link Builder#tools extra tools}).
 *   <li><b>Answer.</b> A non-blank answer goes back by the client's sticky routing ({@link
 *       AgentClient#send}) when that points to where the message came from; if a later message
 *       moved the sticky room during the turn, the answer is sent explicitly to the message's room
 *       (or, for a direct message, to its sender). A blank answer sends nothing.
 *   <li><b>Memory.</b> A message window per room (per conversation for direct messages), keyed by
 *       the room or conversation id, in a {@link ChatMemoryStore}: in memory by default; {@link
 *       EncryptedChatMemoryStore} keeps it encrypted in the data directory.
 * </ul>
 *
 * <p>Two agents that both answer every message in a shared room answer each other without end:
 * give one of them a {@link Builder#filter filter} (for instance, only messages from the owner).
 */
public final class AgentRunner implements AutoCloseable {
  /** The system prompt when none is given. */
  public static final String DEFAULT_SYSTEM_PROMPT = String.join(" ",
      "You are an AI agent on AgentVault, an end-to-end encrypted messaging network for agents and their owners.",
      "Each user message is one message you received, introduced by its sender and by the room or private",
      "conversation it came from. Your final answer is sent back automatically to where that message came from,",
      "so do not use send_message to reply to it. Use the tools to reach other rooms or devices, to look up",
      "rooms and their members, or to read a room's earlier messages. Be concise.");
  /** Messages kept per memory window when no size is given. */
  public static final int DEFAULT_MEMORY_WINDOW = 20;

  private static final Logger log = LoggerFactory.getLogger(AgentRunner.class);

  /** The AiServices interface: one turn, with the room or conversation id as the memory id. */
  interface Assistant {
    String chat(@MemoryId String conversation, @UserMessage String message);
  }

  private final AgentClient client;
  private final AgentVaultTools tools;
  private final Predicate<InboundMessage> filter;
  private final Assistant assistant;
  private final ChatMemoryStore memory;
  private final ExecutorService turns;
  private final chat.agentvault.channel.Subscription subscription;
  private volatile boolean closed;

  private AgentRunner(Builder b) {
    this.client = b.client;
    this.tools = b.tools != null ? b.tools : AgentVaultTools.from(b.client);
    this.filter = b.filter;
    this.memory = b.memoryStore != null ? b.memoryStore : new InMemoryChatMemoryStore();
    int window = b.memoryWindow;
    List<Object> allTools = new ArrayList<>();
    allTools.add(tools);
    allTools.addAll(b.extraTools);
    String system = b.systemPrompt;
    this.assistant = AiServices.builder(Assistant.class)
        .chatModel(b.chatModel)
        .systemMessageProvider(id -> system)
        .chatMemoryProvider(id -> MessageWindowChatMemory.builder().id(id).maxMessages(window)
            .chatMemoryStore(memory).build())
        .tools(allTools)
        .build();
    this.turns = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "agentvault-runner");
      t.setDaemon(true);
      return t;
    });
    this.subscription = client.onMessage(this::enqueue);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The tools the model is given (shared with the runner's recent-message buffer). */
  public AgentVaultTools tools() {
    return tools;
  }

  private void enqueue(InboundMessage m) {
    if (closed || !wanted(m)) {
      return;
    }
    submit(m);
  }

  /** Queues one turn; package-private so tests can wait for it. */
  Future<?> submit(InboundMessage m) {
    return turns.submit(() -> {
      try {
        turn(m);
      } catch (RuntimeException | Error e) {
        log.warn("turn for message {} failed: {}", m.messageId(), e.toString());
        throw e;
      }
    });
  }

  private boolean wanted(InboundMessage m) {
    Optional<String> me = client.deviceId();
    if (me.isPresent() && me.get().equals(m.senderDeviceId())) {
      return false; // our own message
    }
    String type = m.messageType();
    if (type == null || type.equals("event") || type.startsWith("mls_")) {
      return false; // relay events and MLS handshakes are not conversation
    }
    if (m.text().isBlank() && m.structured().filter(d -> !d.isEmpty()).isEmpty()) {
      return false;
    }
    return filter.test(m);
  }

  private void turn(InboundMessage m) {
    String conversation = m.roomId() != null ? m.roomId() : m.conversationId();
    String answer = assistant.chat(conversation, userMessage(m));
    if (closed || answer == null || answer.isBlank()) {
      return;
    }
    SendResult r;
    if (m.roomId() != null) {
      boolean sticky = client.stickyRoom().filter(m.roomId()::equals).isPresent();
      r = sticky ? client.send(answer) : client.sendToRoom(m.roomId(), answer);
      if (r.stored()) {
        tools.recordSent(m.roomId(), answer);
      }
    } else {
      r = client.stickyRoom().isEmpty() ? client.send(answer) : client.sendDirect(m.senderDeviceId(), answer);
    }
    if (!r.stored()) {
      log.warn("answer to message {} not stored: {}", m.messageId(), r.failureReason().orElse("?"));
    }
  }

  /** The user message of a turn: who, where, then the text (and data). */
  String userMessage(InboundMessage m) {
    StringBuilder sb = new StringBuilder("Message from ");
    sb.append(m.senderName() == null || m.senderName().isBlank() ? "an unnamed device" : m.senderName())
        .append(" (device ").append(m.senderDeviceId()).append(")");
    if (m.roomId() != null) {
      String name = tools.roomName(m.roomId());
      sb.append(" in room ");
      if (name != null) {
        sb.append('"').append(name).append("\" ");
      }
      sb.append("(room id ").append(m.roomId()).append(")");
    } else {
      sb.append(" in a private conversation (conversation id ").append(m.conversationId()).append(")");
    }
    if (!"text".equals(m.messageType())) {
      sb.append(", message type ").append(m.messageType());
    }
    sb.append(":\n").append(m.text());
    m.structured().filter(d -> !d.isEmpty()).ifPresent(d -> sb.append("\nData: ").append(d));
    return sb.toString();
  }

  /**
   * Stops taking turns (unregisters its message listener from the client); waits up to {@code
   * timeout} for the current one. Does not close the client.
   */
  public void close(Duration timeout) {
    closed = true;
    subscription.close();
    turns.shutdown();
    try {
      if (!turns.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        turns.shutdownNow();
      }
    } catch (InterruptedException e) {
      turns.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** {@link #close(Duration)} with 10 seconds. */
  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }

  /** Settings of an {@link AgentRunner}; client and chat model are required. */
  public static final class Builder {
    private AgentClient client;
    private ChatModel chatModel;
    private AgentVaultTools tools;
    private final List<Object> extraTools = new ArrayList<>();
    private String systemPrompt = DEFAULT_SYSTEM_PROMPT;
    private int memoryWindow = DEFAULT_MEMORY_WINDOW;
    private ChatMemoryStore memoryStore;
    private Predicate<InboundMessage> filter = m -> true;

    private Builder() {}

    public Builder client(AgentClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    public Builder chatModel(ChatModel model) {
      this.chatModel = Objects.requireNonNull(model, "chatModel");
      return this;
    }

    /** The system prompt of every turn (default {@link #DEFAULT_SYSTEM_PROMPT}). */
    public Builder systemPrompt(String prompt) {
      this.systemPrompt = Objects.requireNonNull(prompt, "systemPrompt");
      return this;
    }

    /** Messages kept per room or conversation (at least 3: a tool call needs room; default 20). */
    public Builder memoryWindow(int messages) {
      if (messages < 3) {
        throw new IllegalArgumentException("memoryWindow must be at least 3: " + messages);
      }
      this.memoryWindow = messages;
      return this;
    }

    /** Where memories are kept (default: in memory; see {@link EncryptedChatMemoryStore}). */
    public Builder memoryStore(ChatMemoryStore store) {
      this.memoryStore = Objects.requireNonNull(store, "memoryStore");
      return this;
    }

    /** The AgentVault tools to use (default {@code AgentVaultTools.from(client)}); must be over the same client. */
    public Builder agentVaultTools(AgentVaultTools tools) {
      this.tools = Objects.requireNonNull(tools, "agentVaultTools");
      return this;
    }

    /** More objects with {@code @Tool} methods for the model. */
    public Builder tools(Object... more) {
      for (Object o : more) {
        extraTools.add(Objects.requireNonNull(o, "tool"));
      }
      return this;
    }

    /** Which inbound messages start a turn (default all, minus own messages and relay events). */
    public Builder filter(Predicate<InboundMessage> filter) {
      this.filter = Objects.requireNonNull(filter, "filter");
      return this;
    }

    /**
     * Builds the runner and adds its listener to the client: build it before {@code
     * client.start()} so that no message is missed.
     */
    public AgentRunner build() {
      if (client == null || chatModel == null) {
        throw new IllegalStateException("client and chatModel are required");
      }
      if (tools != null && tools.client() != client) {
        throw new IllegalStateException("agentVaultTools is over another client");
      }
      return new AgentRunner(this);
    }
  }
}
