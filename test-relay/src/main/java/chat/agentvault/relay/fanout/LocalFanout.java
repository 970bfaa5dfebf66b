package chat.agentvault.relay.fanout;

import java.util.Collection;
import java.util.List;
import java.util.UUID;

/** Fan-out within one relay process. */
public final class LocalFanout implements Fanout {
  private volatile Listener listener;

  @Override
  public void toDevices(UUID tenant, Collection<UUID> devices, String frame) {
    Listener l = listener;
    if (l != null && !devices.isEmpty()) {
      l.frame(tenant, devices, frame);
    }
  }

  @Override
  public void toDevices(UUID tenant, List<Frame> frames) {
    Listener l = listener;
    if (l != null && !frames.isEmpty()) {
      l.frames(tenant, frames);
    }
  }

  @Override
  public void disconnect(UUID tenant, UUID device, int code, String reason) {
    Listener l = listener;
    if (l != null) {
      l.disconnect(tenant, device, code, reason);
    }
  }

  @Override
  public void listen(Listener listener) {
    this.listener = listener;
  }

  @Override
  public void close() {
    listener = null;
  }
}
