package chat.agentvault.relay;

import chat.agentvault.relay.fanout.Fanout;
import chat.agentvault.relay.fanout.LocalFanout;

/** Picks the fan-out: local, or through Redis when a Redis URL is configured. */
final class Fanouts {
  private Fanouts() {}

  static Fanout create(RelayConfig config) {
    if (config.redisUrl().isPresent()) {
      throw new IllegalStateException("Redis fan-out is not built yet");
    }
    return new LocalFanout();
  }
}
