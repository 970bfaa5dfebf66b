package chat.agentvault.langchain4j;

import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.identity.KeyProtection;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ChatMessageDeserializer;
import dev.langchain4j.data.message.ChatMessageSerializer;
import dev.langchain4j.store.memory.chat.ChatMemoryStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A LangChain4j {@link ChatMemoryStore} kept encrypted at rest in an agent's data directory: one
 * blob per memory id (for {@link AgentRunner}, per room or conversation) in the {@link
 * EncryptedFileStore} of purpose {@value #PURPOSE} ({@code <dataDir>/files/langchain4j-memory/}),
 * each XChaCha20-Poly1305-sealed under a sub-key of the device's data key, written atomically.
 *
 * <p>Messages are serialized with LangChain4j's {@link ChatMessageSerializer} (JSON) before
 * encryption. Blob names are {@code m-} plus the SHA-256 of the memory id in hex, so the file
 * names do not show room ids either. A blob modified on disk fails to load with the store's
 * {@code KeyStoreException} ({@code CORRUPTED}); it is never read as an empty memory.
 *
 * <pre>{@code
 * EncryptedChatMemoryStore memory = EncryptedChatMemoryStore.forDataDir(dataDir, protection);
 * AgentRunner.builder().client(client).chatModel(model).memoryStore(memory).build();
 * client.start();
 * }</pre>
 */
public final class EncryptedChatMemoryStore implements ChatMemoryStore, AutoCloseable {
  /** The file-store purpose (sub-directory and sub-key) of chat memories. */
  public static final String PURPOSE = "langchain4j-memory";

  private final Object lock = new Object();
  private final Path dataDir;
  private final KeyProtection protection;
  private EncryptedFileStore files;
  private DeviceKeyStore owned;
  private boolean closed;

  private EncryptedChatMemoryStore(EncryptedFileStore files, Path dataDir, KeyProtection protection) {
    this.files = files;
    this.dataDir = dataDir;
    this.protection = protection;
  }

  /** A store on {@code files} (whatever its purpose); {@link #close()} leaves it open. */
  public static EncryptedChatMemoryStore on(EncryptedFileStore files) {
    return new EncryptedChatMemoryStore(Objects.requireNonNull(files, "files"), null, null);
  }

  /** A store in {@code keys}' data directory; {@link #close()} leaves {@code keys} open. */
  public static EncryptedChatMemoryStore in(DeviceKeyStore keys) {
    return on(keys.fileStore(PURPOSE));
  }

  /**
   * A store in an agent's data directory, opened with the agent's key protection on first use (so
   * it can be built before {@code AgentClient.start()} creates the directory; turns happen only
   * after it). It opens its own instance of the directory's key store and writes only blobs of
   * purpose {@value #PURPOSE}, so it shares the directory with the running client; {@link
   * #close()} closes that instance. Keep {@code protection} open while the store is in use.
   * Opening fails on first use with {@link chat.agentvault.identity.KeyStoreException} ({@code
   * NOT_FOUND} before the client has started, {@code WRONG_KEY} for another protection).
   */
  public static EncryptedChatMemoryStore forDataDir(Path dataDir, KeyProtection protection) {
    return new EncryptedChatMemoryStore(null, Objects.requireNonNull(dataDir, "dataDir"),
        Objects.requireNonNull(protection, "protection"));
  }

  private EncryptedFileStore files() {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("EncryptedChatMemoryStore is closed");
      }
      if (files == null) {
        DeviceKeyStore keys = DeviceKeyStore.open(dataDir, protection);
        try {
          files = keys.fileStore(PURPOSE);
        } catch (RuntimeException e) {
          keys.close();
          throw e;
        }
        owned = keys;
      }
      return files;
    }
  }

  @Override
  public List<ChatMessage> getMessages(Object memoryId) {
    Optional<byte[]> blob = files().get(name(memoryId));
    if (blob.isEmpty()) {
      return List.of();
    }
    byte[] b = blob.get();
    try {
      return ChatMessageDeserializer.messagesFromJson(new String(b, StandardCharsets.UTF_8));
    } finally {
      java.util.Arrays.fill(b, (byte) 0);
    }
  }

  @Override
  public void updateMessages(Object memoryId, List<ChatMessage> messages) {
    Objects.requireNonNull(messages, "messages");
    byte[] b = ChatMessageSerializer.messagesToJson(messages).getBytes(StandardCharsets.UTF_8);
    try {
      files().put(name(memoryId), b);
    } finally {
      java.util.Arrays.fill(b, (byte) 0);
    }
  }

  @Override
  public void deleteMessages(Object memoryId) {
    files().delete(name(memoryId));
  }

  /** Closes the key store if {@link #forDataDir} opened one; idempotent. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (owned != null) {
        owned.close();
        owned = null;
      }
    }
  }

  /** The blob name of a memory id: {@code m-} + hex SHA-256 of its string form. */
  static String name(Object memoryId) {
    Objects.requireNonNull(memoryId, "memoryId");
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(memoryId.toString().getBytes(StandardCharsets.UTF_8));
      return "m-" + HexFormat.of().formatHex(h);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  @Override
  public String toString() {
    return "EncryptedChatMemoryStore[" + PURPOSE + "]";
  }
}
