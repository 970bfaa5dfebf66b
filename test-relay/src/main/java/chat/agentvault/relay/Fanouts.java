package chat.agentvault.relay;

import chat.agentvault.relay.fanout.Fanout;
import chat.agentvault.relay.fanout.LocalFanout;
import chat.agentvault.relay.fanout.RedisFanout;

/** Picks the fan-out: local, or through Redis when a Redis URL is configured. */
final class Fanouts {
  private Fanouts() {}

  static Fanout create(RelayConfig config) {
    if (config.redisUrl().isPresent()) {
      return new RedisFanout(config.redisUrl().get());
    }
    return new LocalFanout();
  }
}
