package chat.agentvault.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.KeyStoreException;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EncryptedChatMemoryStoreTest {
  @TempDir Path dir;

  private static final List<ChatMessage> MESSAGES = List.of(
      SystemMessage.from("be brief"),
      UserMessage.from("the secret is CANARY-42"),
      AiMessage.from(ToolExecutionRequest.builder().id("c1").name("send_to_room")
          .arguments("{\"room\":\"r\",\"text\":\"CANARY-42\"}").build()),
      ToolExecutionResultMessage.from("c1", "send_to_room", "Sent."),
      AiMessage.from("done"));

  @Test
  void roundTripsEveryMessageKindAndStoresNoPlaintext() throws Exception {
    try (DeviceKeyStore keys = DeviceKeyStore.create(dir, TestAgents.protection())) {
      EncryptedChatMemoryStore store = EncryptedChatMemoryStore.in(keys);
      assertThat(store.getMessages("room-1")).isEmpty();
      store.updateMessages("room-1", MESSAGES);
      assertThat(store.getMessages("room-1")).isEqualTo(MESSAGES);
      assertThat(store.getMessages("room-2")).isEmpty();

      Path blob = dir.resolve("files").resolve(EncryptedChatMemoryStore.PURPOSE)
          .resolve(EncryptedChatMemoryStore.name("room-1"));
      String raw = new String(Files.readAllBytes(blob), StandardCharsets.ISO_8859_1);
      assertThat(raw).doesNotContain("CANARY-42").doesNotContain("send_to_room").doesNotContain("room-1");

      store.deleteMessages("room-1");
      assertThat(store.getMessages("room-1")).isEmpty();
      assertThat(Files.exists(blob)).isFalse();
    }
  }

  @Test
  void forDataDirOpensLazilyReadsWhatAnotherInstanceWroteAndRefusesATamperedBlob() throws Exception {
    EncryptedChatMemoryStore lazy = EncryptedChatMemoryStore.forDataDir(dir, TestAgents.protection());
    assertThatThrownBy(() -> lazy.getMessages("x")).isInstanceOf(KeyStoreException.class)
        .extracting(e -> ((KeyStoreException) e).reason()).isEqualTo(KeyStoreException.Reason.NOT_FOUND);
    try (DeviceKeyStore keys = DeviceKeyStore.create(dir, TestAgents.protection())) {
      EncryptedChatMemoryStore.in(keys).updateMessages("room-1", MESSAGES);
      assertThat(lazy.getMessages("room-1")).isEqualTo(MESSAGES); // a second instance on the same directory

      Path blob = dir.resolve("files").resolve(EncryptedChatMemoryStore.PURPOSE)
          .resolve(EncryptedChatMemoryStore.name("room-1"));
      byte[] b = Files.readAllBytes(blob);
      b[b.length / 2] ^= 1;
      Files.write(blob, b);
      assertThatThrownBy(() -> lazy.getMessages("room-1")).isInstanceOf(KeyStoreException.class)
          .extracting(e -> ((KeyStoreException) e).reason()).isEqualTo(KeyStoreException.Reason.CORRUPTED);
    }
    lazy.close();
    assertThatThrownBy(() -> lazy.getMessages("room-1")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void blobNamesAreValidForAnyMemoryId() {
    assertThat(EncryptedChatMemoryStore.name("a/../b c")).matches("m-[0-9a-f]{64}");
    assertThat(EncryptedChatMemoryStore.name(42)).isNotEqualTo(EncryptedChatMemoryStore.name("43"));
  }
}
