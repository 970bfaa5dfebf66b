package chat.agentvault.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.Room;
import chat.agentvault.channel.RoomOptions;
import chat.agentvault.relay.TestRelay;
import chat.agentvault.relay.TestRelayExtension;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner end to end on a test relay, with a scripted model: an owner and two agents; the model
 * of agent "analyst" calls AgentVault tools, agent "reviewer" receives what the tools sent.
 *
 * <p>Rooms are plaintext here: wip/client has no MLS room engine yet (encrypted rooms throw
 * UnsupportedOperationException). The encrypted paths are the 1:1 ones (X3DH + Double Ratchet):
 * the owner's question, the runner's answer and the send_direct_message tool.
 */
@ExtendWith(TestRelayExtension.class)
class AgentRunnerRelayTest {
  static TestRelay relay;
  @TempDir Path root;

  @Test
  void toolCallsSendThroughTheRelayAndMemoryIsKeptEncryptedPerConversation() throws Exception {
    TestAgents.Handle owner = TestAgents.owner(relay, root);
    TestAgents.Handle analyst = TestAgents.agent(relay, root, owner, "analyst");
    TestAgents.Handle reviewer = TestAgents.agent(relay, root, owner, "reviewer");

    ScriptedChatModel model = new ScriptedChatModel();
    EncryptedChatMemoryStore memory = EncryptedChatMemoryStore.forDataDir(analyst.dir(), analyst.protection());
    AgentRunner runner = AgentRunner.builder().client(analyst.client()).chatModel(model)
        .memoryStore(memory).memoryWindow(10).build();
    TestAgents.start(owner, analyst);
    TestAgents.start(owner, reviewer);

    Room room = owner.client().createRoom("Project Alpha", RoomOptions.encrypted().members(analyst.id(), reviewer.id()));
    TestAgents.awaitJoined(owner, room.roomId(), analyst.id());
    TestAgents.awaitJoined(owner, room.roomId(), reviewer.id());

    // 1. The owner asks privately (ratchet-encrypted); the model posts to the room by its name.
    String canary = "CANARY-7f3e1a";
    model.callTool("send_to_room", "{\"room\": \"project alpha\", \"text\": \"The build is green.\"}")
        .answer("Done: I told Project Alpha that the build is green.");
    assertThat(owner.client().sendDirect(analyst.id(), "Tell Project Alpha the build is green. " + canary).stored())
        .as("the owner's question is stored").isTrue();

    InboundMessage posted = reviewer.inbox().poll(30, TimeUnit.SECONDS);
    assertThat(posted).as("the reviewer receives the post; model saw: %s; analyst got %s", model.requests, analyst.inbox()).isNotNull();
    assertThat(posted.text()).isEqualTo("The build is green.");
    assertThat(posted.roomId()).isEqualTo(room.roomId());
    assertThat(posted.encrypted()).as("the room is an MLS group").isTrue();
    assertThat(posted.senderDeviceId()).isEqualTo(analyst.id());
    assertThat(posted.senderName()).isEqualTo("analyst");

    InboundMessage ownersCopy = owner.next(); // the owner is in the room too
    assertThat(ownersCopy.text()).isEqualTo("The build is green.");
    InboundMessage answer = owner.next(); // no room message reached the analyst: sticky routing -> owner
    assertThat(answer.text()).isEqualTo("Done: I told Project Alpha that the build is green.");
    assertThat(answer.conversationId()).isNotNull();
    assertThat(answer.encrypted()).isTrue();

    ChatRequest first = model.requests.get(0);
    assertThat(first.toolSpecifications()).extracting(ToolSpecification::name).containsExactlyInAnyOrder(
        "send_message", "send_to_room", "send_direct_message", "list_rooms", "read_recent_messages");
    ToolSpecification sendToRoom = first.toolSpecifications().stream()
        .filter(s -> s.name().equals("send_to_room")).findFirst().orElseThrow();
    assertThat(sendToRoom.parameters().properties()).containsOnlyKeys("room", "text"); // -parameters
    assertThat(sendToRoom.description()).contains("room");
    String user = ScriptedChatModel.lastUserText(first);
    assertThat(user).contains("owner", owner.id(), "private conversation", canary);
    ToolExecutionResultMessage result = lastToolResult(model.requests.get(1));
    assertThat(result.toolName()).isEqualTo("send_to_room");
    assertThat(result.text()).startsWith("Sent to room " + room.roomId());

    // 2. In the room, the owner asks for a private note to the reviewer: the tool sends it 1:1,
    //    encrypted; the answer goes to the room (the sticky room now); memory is per room.
    model.requests.clear();
    resetScript(model, reviewer.id());
    owner.client().sendToRoom(room.roomId(), "Send the reviewer a private note, then read the room back.");

    assertThat(reviewer.next().text()).isEqualTo("Send the reviewer a private note, then read the room back.");
    InboundMessage note = reviewer.next();
    assertThat(note.text()).isEqualTo("Private note: please review release 1.2.");
    // agent to agent without a ratchet session: a two-party MLS room (docs/channel.md), not Project Alpha
    assertThat(note.roomId()).isNotNull().isNotEqualTo(room.roomId());
    assertThat(note.encrypted()).isTrue();
    assertThat(note.senderDeviceId()).isEqualTo(analyst.id());
    InboundMessage roomAnswer = reviewer.next();
    assertThat(roomAnswer.roomId()).isEqualTo(room.roomId());
    assertThat(roomAnswer.text()).isEqualTo("Noted and sent.");

    String recent = lastToolResult(model.requests.get(2)).text();
    assertThat(recent).contains("The build is green.", "Send the reviewer a private note", "owner");
    assertThat(ScriptedChatModel.lastUserText(model.requests.get(0))).contains("in room \"Project Alpha\"");
    assertThat(model.requests.get(0).messages().toString()).doesNotContain(canary);

    runner.close();
    // 3. Memory on disk: one sealed blob per conversation, no plaintext; it decrypts with the keys.
    Path dir = analyst.dir().resolve("files").resolve(EncryptedChatMemoryStore.PURPOSE);
    List<Path> blobs;
    try (Stream<Path> s = Files.list(dir)) {
      blobs = s.filter(Files::isRegularFile).toList();
    }
    assertThat(blobs).hasSize(2);
    for (Path b : blobs) {
      String raw = new String(Files.readAllBytes(b), StandardCharsets.ISO_8859_1);
      assertThat(raw).doesNotContain(canary).doesNotContain("build is green").doesNotContain("Private note")
          .doesNotContain(room.roomId());
    }
    List<ChatMessage> conversation = memory.getMessages(answer.conversationId());
    assertThat(conversation.toString()).contains(canary, "send_to_room", "Done: I told Project Alpha");
    assertThat(memory.getMessages(room.roomId()).toString()).contains("Noted and sent.").doesNotContain(canary);
    memory.close();

    assertThat(reviewer.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    analyst.client().close();
    reviewer.client().close();
    owner.client().close();
  }

  /** The second conversation's script: a check of the request, a direct note, a read of the room, a final text. */
  private static void resetScript(ScriptedChatModel model, String reviewer) {
    model.callTool("send_direct_message",
            "{\"deviceId\": \"" + reviewer + "\", \"text\": \"Private note: please review release 1.2.\"}")
        .callTool("read_recent_messages", "{\"room\": \"Project Alpha\"}")
        .answer("Noted and sent.");
  }

  private static ToolExecutionResultMessage lastToolResult(ChatRequest r) {
    List<ChatMessage> ms = r.messages();
    for (int i = ms.size() - 1; i >= 0; i--) {
      if (ms.get(i) instanceof ToolExecutionResultMessage t) {
        return t;
      }
    }
    throw new AssertionError("no tool result in " + ms);
  }
}
