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
  /** The owner suspended this device; it may be resumed. */
  SUSPENDED,
  /** The owner revoked this device: final. */
  REVOKED,
  /** {@link AgentClient#close()} was called. */
  CLOSED
}
