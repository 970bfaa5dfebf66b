package chat.agentvault.spring;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.InboundMessage;
import java.util.Objects;
import org.springframework.context.ApplicationEvent;

/**
 * A decrypted inbound message, published once per message on the client's inbound thread, in
 * relay order. Listen with {@code @EventListener} or use {@link VaultListener} for filtering by
 * room and message type.
 */
public final class AgentVaultMessageEvent extends ApplicationEvent {
  private static final long serialVersionUID = 1L;
  private final transient InboundMessage message;

  /**
   * @param client the client that received the message (the event source)
   * @param message the message
   */
  public AgentVaultMessageEvent(AgentClient client, InboundMessage message) {
    super(Objects.requireNonNull(client, "client"));
    this.message = Objects.requireNonNull(message, "message");
  }

  /** The client that received the message (to answer with). */
  public AgentClient client() {
    return (AgentClient) getSource();
  }

  public InboundMessage message() {
    return message;
  }

  /** Metadata only, as {@link InboundMessage#toString()}: never the text or body. */
  @Override
  public String toString() {
    return "AgentVaultMessageEvent[" + message + "]";
  }
}
