package chat.agentvault.channel;

/** Where an {@link AgentClient} is in its life; see {@link AgentClient#onStateChange}. */
public enum ClientState {
  /** Built, {@link AgentClient#start()} not called yet. */
  CREATED,
  /** Creating the identity and enrolling with the invite. */
  ENROLLING,
  /** Enrolled; waiting for the owner to approve this device by its fingerprint. */
  PENDING_APPROVAL,
  /** Logging in and opening the socket. */
  CONNECTING,
  /** Logged in; the socket is open. */
  ONLINE,
  /** Logged in; the socket is down (reconnecting, polling meanwhile). */
  OFFLINE,
  /**
   * The owner suspended this device; the client keeps trying to log in (with backoff) and goes
   * {@link #ONLINE} or {@link #OFFLINE} again once the owner resumed it, then receives what was
   * sent meanwhile, in order.
   */
  SUSPENDED,
  /** The owner revoked this device: final. */
  REVOKED,
  /** {@link AgentClient#close()} was called. */
  CLOSED
}
