package chat.agentvault.spring;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import java.util.Objects;
import org.springframework.context.ApplicationEvent;

/**
 * A change of the client's {@link ClientState}, e.g. {@code PENDING_APPROVAL} (show the
 * fingerprint to the owner) or {@code ONLINE} (ready to send). Published on the thread that
 * changed the state.
 */
public final class AgentVaultStateEvent extends ApplicationEvent {
  private static final long serialVersionUID = 1L;
  private final ClientState state;

  /**
   * @param client the client whose state changed (the event source)
   * @param state the new state
   */
  public AgentVaultStateEvent(AgentClient client, ClientState state) {
    super(Objects.requireNonNull(client, "client"));
    this.state = Objects.requireNonNull(state, "state");
  }

  public AgentClient client() {
    return (AgentClient) getSource();
  }

  public ClientState state() {
    return state;
  }

  @Override
  public String toString() {
    return "AgentVaultStateEvent[" + state + "]";
  }
}
