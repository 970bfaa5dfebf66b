package chat.agentvault.relay.fanout;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fan-out across relay instances through Redis pub/sub (Lettuce): one channel, every message tagged
 * with the instance it came from. An instance delivers its own publications locally at once and
 * ignores their echo from Redis; the other instances deliver them from the channel. Publishing is
 * asynchronous and never blocks the caller. Redis carries only frames that are already committed to
 * PostgreSQL: when Redis is down, recipients on other instances get them from their backlog on the
 * next connect or fetch instead of immediately.
 *
 * <p>Wire format (text, one Redis message): {@code F\n<origin>\n<tenant>\n<device,device,...>\n<frame>}
 * or {@code D\n<origin>\n<tenant>\n<device>\n<code>\n<reason>}.
 */
public final class RedisFanout implements Fanout {
  private static final Logger LOG = LoggerFactory.getLogger(RedisFanout.class);
  public static final String CHANNEL = "agentvault:fanout";

  private final String origin = UUID.randomUUID().toString();
  private final RedisClient client;
  private final StatefulRedisPubSubConnection<String, String> sub;
  private final StatefulRedisConnection<String, String> pub;
  private volatile Listener listener;

  public RedisFanout(String redisUrl) {
    this.client = RedisClient.create(redisUrl);
    StatefulRedisPubSubConnection<String, String> s = null;
    try {
      s = client.connectPubSub();
      s.addListener(new RedisPubSubAdapter<>() {
        @Override
        public void message(String channel, String message) {
          receive(message);
        }
      });
      s.sync().subscribe(CHANNEL);
      this.sub = s;
      this.pub = client.connect();
    } catch (RuntimeException e) {
      if (s != null) {
        s.close();
      }
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      throw new IllegalStateException("cannot connect to Redis: " + e.getMessage(), e);
    }
  }

  @Override
  public void toDevices(UUID tenant, Collection<UUID> devices, String frame) {
    if (devices.isEmpty()) {
      return;
    }
    Listener l = listener;
    if (l != null) {
      l.frame(tenant, devices, frame);
    }
    StringBuilder b = new StringBuilder(frame.length() + 64 + devices.size() * 37);
    b.append("F\n").append(origin).append('\n').append(tenant).append('\n');
    boolean first = true;
    for (UUID d : devices) {
      if (!first) {
        b.append(',');
      }
      b.append(d);
      first = false;
    }
    b.append('\n').append(frame);
    publish(b.toString());
  }

  @Override
  public void disconnect(UUID tenant, UUID device, int code, String reason) {
    Listener l = listener;
    if (l != null) {
      l.disconnect(tenant, device, code, reason);
    }
    publish("D\n" + origin + "\n" + tenant + "\n" + device + "\n" + code + "\n" + reason);
  }

  private void publish(String message) {
    pub.async().publish(CHANNEL, message).whenComplete((n, e) -> {
      if (e != null) {
        LOG.warn("Redis publish failed (delivery falls back to the backlog): {}", e.toString());
      }
    });
  }

  private void receive(String message) {
    try {
      String[] f = message.split("\n", 5);
      if (f.length < 5 || origin.equals(f[1])) {
        return;
      }
      Listener l = listener;
      if (l == null) {
        return;
      }
      UUID tenant = UUID.fromString(f[2]);
      if (f[0].equals("F")) {
        List<UUID> devices = new ArrayList<>();
        for (String d : f[3].split(",")) {
          devices.add(UUID.fromString(d));
        }
        l.frame(tenant, devices, f[4]);
      } else if (f[0].equals("D")) {
        String[] cr = f[4].split("\n", 2);
        l.disconnect(tenant, UUID.fromString(f[3]), Integer.parseInt(cr[0]), cr.length > 1 ? cr[1] : "");
      }
    } catch (RuntimeException e) {
      LOG.warn("ignoring a malformed fan-out message: {}", e.toString());
    }
  }

  @Override
  public void listen(Listener listener) {
    this.listener = listener;
  }

  @Override
  public void close() {
    listener = null;
    try {
      sub.close();
      pub.close();
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }
}
