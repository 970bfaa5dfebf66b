package chat.agentvault.channel;

/** Test hooks of {@link AgentClient} for the integration tests (same package, test scope only). */
public final class ClientHooks {
  private ClientHooks() {}

  /** Makes the inbound pipeline crash at {@code point} ({@code AFTER_DECRYPT} or {@code AFTER_INBOX}). */
  public static void crashAt(AgentClient client, String point) {
    client.crashAt(CrashPoint.valueOf(point));
  }

  /** Sends pending acks and waits for the inbound thread to drain what it has. */
  public static void flush(AgentClient client) {
    client.flush();
  }

  public static chat.agentvault.transport.RelaySocket socket(AgentClient client) {
    return client.socket();
  }

  /** The room's MLS epoch in the client's engine; -1 without a group. */
  public static long epoch(AgentClient client, String roomId) {
    return client.engineEpoch(roomId);
  }
}
