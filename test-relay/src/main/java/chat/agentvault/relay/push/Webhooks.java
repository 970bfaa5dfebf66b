package chat.agentvault.relay.push;

import chat.agentvault.relay.db.Database;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Push notifications (docs/protocol.md, "Messages"): a device with a webhook URL gets
 * {@code POST url {room_id | conversation_id, sender_name, message_id}} for each message stored for
 * it. Metadata only: this class is never given a payload, so it cannot leak one. Delivery is
 * best effort and never slows the send path: a bounded queue (full: the notification is dropped and
 * counted), two worker threads, short timeouts, no redirects; failures are logged with the URL's
 * host and the status, never a body.
 */
public final class Webhooks implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Webhooks.class);
  static final int QUEUE = 10_000;
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);

  private final Database db;
  private final ThreadPoolExecutor pool;
  private final HttpClient client;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  public Webhooks(Database db) {
    this.db = db;
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(2, 2, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
      Thread t = new Thread(r, "relay-webhook-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /**
   * Queues one notification per distinct URL about message {@code messageId} of {@code sender} in
   * {@code room} or {@code conversation}. Returns at once.
   */
  public void notify(UUID tenant, UUID sender, UUID room, UUID conversation, long messageId, Collection<String> urls) {
    if (urls.isEmpty()) {
      return;
    }
    List<String> targets = List.copyOf(new LinkedHashSet<>(urls));
    try {
      pool.execute(() -> send(tenant, sender, room, conversation, messageId, targets));
    } catch (RejectedExecutionException e) {
      long d = dropped.incrementAndGet();
      if (d == 1 || d % 1000 == 0) {
        LOG.warn("webhook queue full: {} notifications dropped so far", d);
      }
    }
  }

  private void send(UUID tenant, UUID sender, UUID room, UUID conversation, long messageId, List<String> urls) {
    String name;
    try {
      name = db.inTenant(tenant, c -> {
        try (PreparedStatement p = c.prepareStatement("select name from devices where id = ?")) {
          p.setObject(1, sender);
          ResultSet rs = p.executeQuery();
          return rs.next() ? rs.getString(1) : null;
        }
      });
    } catch (Exception e) {
      LOG.warn("webhook: cannot read the sender's name: {}", e.getClass().getSimpleName());
      return;
    }
    ObjectNode body = JsonBody.object();
    if (room != null) {
      body.put("room_id", room.toString());
    }
    if (conversation != null) {
      body.put("conversation_id", conversation.toString());
    }
    body.put("sender_name", name).put("message_id", messageId);
    String json = body.toString();
    for (String url : urls) {
      URI uri;
      try {
        uri = URI.create(url);
        if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
          throw new IllegalArgumentException();
        }
      } catch (IllegalArgumentException e) {
        failed.incrementAndGet();
        LOG.warn("webhook: unusable URL skipped");
        continue;
      }
      try {
        HttpResponse<Void> r = client.send(HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT)
            .header("Content-Type", "application/json").header("User-Agent", "agentvault-relay")
            .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() / 100 != 2) {
          failed.incrementAndGet();
          LOG.warn("webhook to {} answered {}", uri.getHost(), r.statusCode());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        failed.incrementAndGet();
        LOG.warn("webhook to {} failed: {}", uri.getHost(), e.getClass().getSimpleName());
      }
    }
  }

  /** Notifications dropped because the queue was full. */
  public long dropped() {
    return dropped.get();
  }

  /** Notifications that failed (connection, timeout, non-2xx, unusable URL). */
  public long failed() {
    return failed.get();
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
