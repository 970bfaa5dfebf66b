package chat.agentvault.channel;

/**
 * {@link AgentClient#start()} ended because {@link AgentClient#close()} was called meanwhile (for
 * example while waiting for the owner's approval): the client is {@link ClientState#CLOSED} and
 * start() opened no socket.
 */
public final class ClientClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  ClientClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
