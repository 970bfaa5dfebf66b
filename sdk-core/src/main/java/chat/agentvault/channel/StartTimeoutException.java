package chat.agentvault.channel;

import java.time.Duration;

/**
 * {@link AgentClient#start()} did not log in within {@link AgentClient.Builder#startTimeout}
 * (the owner has not approved the device yet, it is suspended, or the relay cannot be reached).
 * The client opened no socket and can only be closed; the enrollment is kept in the data
 * directory, so a new client on it waits again without an invite.
 */
public final class StartTimeoutException extends IllegalStateException {
  private static final long serialVersionUID = 1L;
  private final Duration timeout;
  private final ClientState state;

  StartTimeoutException(Duration timeout, ClientState state) {
    super("not logged in within " + timeout + " (state " + state + ")");
    this.timeout = timeout;
    this.state = state;
  }

  /** The configured timeout. */
  public Duration timeout() {
    return timeout;
  }

  /** The state start() was in when it gave up (e.g. {@link ClientState#PENDING_APPROVAL}). */
  public ClientState state() {
    return state;
  }
}
