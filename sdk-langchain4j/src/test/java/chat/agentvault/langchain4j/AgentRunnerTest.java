package chat.agentvault.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.InboundMessage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner without a relay: builder rules and the user message of a turn. */
class AgentRunnerTest {
  @TempDir Path dir;

  private AgentClient client() {
    return AgentClient.builder().relayUrl("http://127.0.0.1:9").dataDir(dir).keyProtection(TestAgents.protection()).build();
  }

  @Test
  void builderNeedsClientAndModelAndToolsOfTheSameClient() {
    AgentClient c = client();
    assertThatThrownBy(() -> AgentRunner.builder().client(c).build()).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> AgentRunner.builder().chatModel(new ScriptedChatModel()).build())
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> AgentRunner.builder().memoryWindow(2)).isInstanceOf(IllegalArgumentException.class);
    AgentVaultTools other = AgentVaultTools.from(client());
    assertThatThrownBy(() -> AgentRunner.builder().client(c).chatModel(new ScriptedChatModel()).agentVaultTools(other).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("another client");
  }

  @Test
  void theUserMessageNamesSenderAndConversation() {
    try (AgentRunner runner = AgentRunner.builder().client(client()).chatModel(new ScriptedChatModel()).build()) {
      String direct = runner.userMessage(new InboundMessage(7, null, "conv-1", "dev-9", "owner", "text", "status?",
          null, "s", null, Instant.EPOCH, true));
      assertThat(direct).isEqualTo("Message from owner (device dev-9) in a private conversation (conversation id conv-1):\nstatus?");
      String room = runner.userMessage(new InboundMessage(8, "room-1", null, "dev-9", "", "decision_request", "deploy?",
          Map.of("options", "yes/no"), "s", null, Instant.EPOCH, false));
      assertThat(room).isEqualTo("Message from an unnamed device (device dev-9) in room (room id room-1), "
          + "message type decision_request:\ndeploy?\nData: {options=yes/no}");
    }
  }
}
