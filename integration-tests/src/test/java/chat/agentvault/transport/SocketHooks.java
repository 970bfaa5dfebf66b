package chat.agentvault.transport;

/** Test hooks of {@link RelaySocket} (same package, test scope only). */
public final class SocketHooks {
  private SocketHooks() {}

  public static void cut(RelaySocket socket, boolean down) {
    socket.simulateCut(down);
  }

  public static void wake(RelaySocket socket) {
    socket.simulateWake();
  }
}
