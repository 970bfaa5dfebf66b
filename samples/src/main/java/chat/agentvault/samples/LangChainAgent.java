package chat.agentvault.samples;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.langchain4j.AgentRunner;
import chat.agentvault.langchain4j.EncryptedChatMemoryStore;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A LangChain4j agent: the "analyst" of Project Alpha. An {@link AgentRunner} turns each room
 * message that mentions {@code @analyst} into a model turn; the model has the AgentVault tools
 * (it reads the room's recent, decrypted messages with {@code read_recent_messages}) and its answer
 * goes back to the room. Its memory is kept encrypted in the data directory
 * ({@link EncryptedChatMemoryStore}).
 *
 * <p>The model: {@link #scriptedModel()} (no network, deterministic) unless {@code OPENAI_API_KEY}
 * is set, then OpenAI ({@code OPENAI_MODEL}, default {@value #DEFAULT_OPENAI_MODEL}).
 *
 * <pre>
 * java -cp samples/target/agentvault-demo.jar chat.agentvault.samples.LangChainAgent \
 *     --relay-url http://127.0.0.1:8080 --data-dir analyst-data --invite-token TOKEN --passphrase ...
 * </pre>
 */
public final class LangChainAgent {
  static final String DEFAULT_OPENAI_MODEL = "gpt-4o-mini";
  static final String SYSTEM_PROMPT = AgentRunner.DEFAULT_SYSTEM_PROMPT
      + " You are the analyst of Project Alpha: when asked for a risk check, read the room's recent"
      + " messages first, then answer in two sentences.";
  private static final Pattern ROOM_ID = Pattern.compile("\\(room id ([^)]+)\\)");

  private LangChainAgent() {}

  /**
   * The runner of the analyst over {@code client} (build before {@code client.start()}); memory
   * encrypted in {@code dataDir} under {@code protection}. Close the runner, then the store.
   */
  public static AgentRunner attach(AgentClient client, ChatModel model, EncryptedChatMemoryStore memory) {
    return AgentRunner.builder()
        .client(client)
        .chatModel(model)
        .systemPrompt(SYSTEM_PROMPT)
        .memoryStore(memory)
        .memoryWindow(20)
        // two agents answering everything answer each other forever: only messages that ask us
        .filter(m -> m.roomId() != null && m.text() != null
            && m.text().toLowerCase(Locale.ROOT).contains("@analyst"))
        .build();
  }

  /** OpenAI when {@code OPENAI_API_KEY} is set in {@code env}, else the scripted model. */
  public static ChatModel model(Map<String, String> env) {
    String key = env.get("OPENAI_API_KEY");
    if (key == null || key.isBlank()) {
      return scriptedModel();
    }
    String name = env.getOrDefault("OPENAI_MODEL", DEFAULT_OPENAI_MODEL);
    return OpenAiChatModel.builder().apiKey(key.strip()).modelName(name).build();
  }

  /** Whether {@link #model} picks a real model for this environment. */
  public static boolean usesRealModel(Map<String, String> env) {
    String key = env.get("OPENAI_API_KEY");
    return key != null && !key.isBlank();
  }

  /**
   * A model without network that plays the analyst: on a new message it calls
   * {@code read_recent_messages} for the room named in the message; given the tool's result it
   * answers with a risk check that counts the messages it read.
   */
  public static ChatModel scriptedModel() {
    return new ScriptedAnalyst();
  }

  /** What the scripted analyst answers after reading {@code messagesRead} messages. */
  static String riskCheck(int messagesRead) {
    return "Risk check (read the last " + messagesRead + " messages): low overall; 2 of the 14 open"
        + " issues touch the payment path, so test those first. Friday is realistic.";
  }

  private static final class ScriptedAnalyst implements ChatModel {
    private final AtomicInteger calls = new AtomicInteger();

    @Override
    public ChatResponse doChat(ChatRequest request) {
      List<ChatMessage> ms = request.messages();
      ChatMessage last = ms.get(ms.size() - 1);
      AiMessage answer;
      if (last instanceof ToolExecutionResultMessage result) {
        int read = (int) result.text().lines().filter(l -> l.startsWith("[")).count();
        answer = AiMessage.from(riskCheck(read));
      } else if (last instanceof UserMessage u) {
        Matcher room = ROOM_ID.matcher(u.singleText());
        if (!room.find()) {
          answer = AiMessage.from("I only do risk checks in rooms.");
        } else {
          answer = AiMessage.from(ToolExecutionRequest.builder().id("call-" + calls.incrementAndGet())
              .name("read_recent_messages").arguments("{\"room\":\"" + room.group(1) + "\",\"limit\":10}").build());
        }
      } else {
        answer = AiMessage.from("");
      }
      return ChatResponse.builder().aiMessage(answer).build();
    }
  }

  public static void main(String[] args) throws Exception {
    SampleArgs a = SampleArgs.of(args);
    try (KeyProtection protection = a.keyProtection();
        AgentClient client = a.clientBuilder("analyst", protection).build();
        EncryptedChatMemoryStore memory = EncryptedChatMemoryStore.forDataDir(a.dataDir(), protection)) {
      ChatModel model = model(System.getenv());
      System.out.println("[analyst] model: " + (usesRealModel(System.getenv())
          ? "OpenAI " + System.getenv().getOrDefault("OPENAI_MODEL", DEFAULT_OPENAI_MODEL)
          : "scripted (set OPENAI_API_KEY for a real one)"));
      AgentRunner runner = attach(client, model, memory);
      Standalone.runUntilStopped(client, runner);
    } catch (IllegalArgumentException e) {
      Standalone.usage(e.getMessage(), "usage: LangChainAgent --relay-url URL --data-dir DIR"
          + " [--invite-token TOKEN] [--passphrase P] [--name analyst]   (OPENAI_API_KEY, OPENAI_MODEL: optional)");
    }
  }

}
