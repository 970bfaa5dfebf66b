package chat.agentvault.langchain4j;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/** A ChatModel that answers from a script, one step per request, and records the requests. No network. */
final class ScriptedChatModel implements ChatModel {
  private final Deque<Function<ChatRequest, AiMessage>> steps = new ArrayDeque<>();
  final List<ChatRequest> requests = new CopyOnWriteArrayList<>();

  /** The next answer: a request to call {@code tool} with the given JSON arguments. */
  ScriptedChatModel callTool(String tool, String jsonArguments) {
    int n = steps.size();
    return then(r -> AiMessage.from(ToolExecutionRequest.builder().id("call-" + n).name(tool).arguments(jsonArguments).build()));
  }

  /** The next answer: final text. */
  ScriptedChatModel answer(String text) {
    return then(r -> AiMessage.from(text));
  }

  synchronized ScriptedChatModel then(Function<ChatRequest, AiMessage> step) {
    steps.addLast(step);
    return this;
  }

  @Override
  public ChatResponse doChat(ChatRequest request) {
    requests.add(request);
    Function<ChatRequest, AiMessage> step;
    synchronized (this) {
      step = steps.pollFirst();
    }
    if (step == null) {
      throw new AssertionError("the script has no step left for " + request.messages().size() + " messages");
    }
    return ChatResponse.builder().aiMessage(step.apply(request)).build();
  }

  static String lastUserText(ChatRequest r) {
    List<ChatMessage> ms = r.messages();
    for (int i = ms.size() - 1; i >= 0; i--) {
      if (ms.get(i) instanceof UserMessage u) {
        return u.singleText();
      }
    }
    return null;
  }
}
