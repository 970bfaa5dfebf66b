package chat.agentvault.relay.fanout;

import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * Real-time delivery across relay instances. Whatever is published reaches the listeners of every
 * instance (this one included); the WebSocket layer listens and writes to its open sockets. It
 * carries frames that are already stored (PostgreSQL is the source of truth: a lost fan-out only
 * delays delivery to the next fetch, it never loses a message).
 */
public interface Fanout extends AutoCloseable {

  /** Sends {@code frame} (a server frame, JSON) to every open connection of {@code devices}. */
  void toDevices(UUID tenant, Collection<UUID> devices, String frame);

  /**
   * Sends several frames of one tenant, in order. Where every recipient is on this instance, a
   * socket that is sent more than one of them gets them in one write.
   */
  default void toDevices(UUID tenant, List<Frame> frames) {
    for (Frame f : frames) {
      toDevices(tenant, f.devices(), f.frame());
    }
  }

  /** A frame and the devices it goes to. */
  record Frame(Collection<UUID> devices, String frame) {}

  /** Closes every open connection of {@code device} with {@code code} and {@code reason}. */
  void disconnect(UUID tenant, UUID device, int code, String reason);

  /** Registers the one listener of this instance. */
  void listen(Listener listener);

  @Override
  void close();

  /** Receives what any instance published. */
  interface Listener {
    void frame(UUID tenant, Collection<UUID> devices, String frame);

    /** Several frames of one tenant, in order (by default one by one). */
    default void frames(UUID tenant, List<Frame> frames) {
      for (Frame f : frames) {
        frame(tenant, f.devices(), f.frame());
      }
    }

    void disconnect(UUID tenant, UUID device, int code, String reason);
  }
}
