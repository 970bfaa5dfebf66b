package chat.agentvault.channel;

/**
 * A registered listener ({@link AgentClient#onMessage}, {@link AgentClient#onStateChange});
 * {@link #close()} unregisters it (idempotent). A listener already running finishes its call.
 */
@FunctionalInterface
public interface Subscription extends AutoCloseable {
  /** Unregisters the listener; later events are not given to it. Idempotent. */
  @Override
  void close();
}
