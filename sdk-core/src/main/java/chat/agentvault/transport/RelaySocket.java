package chat.agentvault.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The device's inbound stream (docs/protocol.md "WebSocket" and "Messages"): an OkHttp WebSocket
 * to {@code /ws} (backlog, then live), reconnected with exponential backoff and jitter; a wake
 * detector (a scheduler gap over {@code wakeGap} means the machine slept: reconnect and catch up);
 * and, while the socket is down, polling of {@code GET /messages} every {@code pollInterval}.
 *
 * <p>Every message goes to the ONE {@link Handler}, on one thread, in the order the relay gave
 * it, at most once per id while this object lives (a message that the handler failed on comes
 * again with the next pass). {@link #ack} batches acknowledgements ({@code POST /messages/ack}).
 * Not API: public for {@code chat.agentvault.channel}.
 */
public final class RelaySocket implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RelaySocket.class);
  static final int ACK_BATCH = 100;
  static final int RECENT = 8192;

  /** Receives the stream. Called on the socket's one inbound thread. */
  public interface Handler {
    /**
     * One message, in relay order. Return normally when it is processed (then {@link #ack} it);
     * throw to have it offered again later (the next poll pass or reconnect).
     */
    void onMessage(WireMessage message) throws Exception;

    /** The socket went up or down (polling runs while it is down). */
    default void onConnectivity(boolean connected) {}

    /**
     * The relay refused this device (close 4003, or 403 on a request): revoked (final: the socket
     * stops) or suspended (the socket keeps trying to log in with its backoff; once the owner
     * resumed the device, {@link #onConnectivity} reports it again and the backlog follows).
     */
    default void onRefused(int status, String detail) {}

    /** These ids were acknowledged by the relay (they will never come again). */
    default void onAcked(List<Long> messageIds) {}
  }

  private final RelaySession session;
  private final Handler handler;
  private final Duration pollInterval;
  private final Backoff backoff;
  private final WakeDetector wake;
  private final ScheduledExecutorService timer;
  private final ExecutorService inbound;
  private final Object lock = new Object();
  private final Set<Long> processed = new LinkedHashSet<>(); // inbound thread only
  private final List<Long> pendingAcks = new ArrayList<>(); // under lock
  private WebSocket socket; // under lock
  private boolean connected; // under lock
  private int attempt; // under lock
  private ScheduledFuture<?> reconnect; // under lock
  private volatile boolean closed;
  private volatile boolean refused;
  /** Refused as suspended: reconnects (new logins) go on with the backoff until resumed. */
  private volatile boolean suspended;
  private volatile boolean cut;
  private volatile long lastPollNanos;
  private final LongSupplier nanoTime;

  private RelaySocket(Builder b) {
    this.session = b.session;
    this.handler = b.handler;
    this.pollInterval = b.pollInterval;
    this.nanoTime = b.nanoTime;
    this.backoff = new Backoff(b.backoffBase, b.backoffMax, () -> ThreadLocalRandom.current().nextDouble());
    this.wake = new WakeDetector(nanoTime, b.wakeGap);
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "av-relay-timer"));
    this.inbound = Executors.newSingleThreadExecutor(r -> daemon(r, "av-relay-inbound"));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public static Builder builder(RelaySession session, Handler handler) {
    return new Builder(session, handler);
  }

  /** Connects, catches up by one poll pass, and starts the timer. */
  public void start() {
    if (closed) {
      return;
    }
    lastPollNanos = nanoTime.getAsLong();
    inbound.execute(this::pollPass);
    connect();
    timer.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    timer.scheduleWithFixedDelay(this::flushAcks, 100, 100, TimeUnit.MILLISECONDS);
  }

  /** True while the WebSocket is open. */
  public boolean isConnected() {
    synchronized (lock) {
      return connected;
    }
  }

  /** Acknowledges a processed message (batched: sent within 100 ms or at 100 ids). */
  public void ack(long messageId) {
    boolean flush;
    synchronized (lock) {
      pendingAcks.add(messageId);
      flush = pendingAcks.size() >= ACK_BATCH;
    }
    if (flush) {
      timer.execute(this::flushAcks);
    }
  }

  /** Polls once now (after a wake-up, or when the caller knows something is waiting). */
  public void catchUp() {
    if (!closed) {
      inbound.execute(this::pollPass);
    }
  }

  /** Runs {@code task} on the inbound thread, in order with the messages. */
  public void runOnInbound(Runnable task) {
    inbound.execute(task);
  }

  /** Test hook: cuts the socket (and keeps it down) or lets it reconnect. */
  void simulateCut(boolean down) {
    cut = down;
    if (down) {
      synchronized (lock) {
        if (socket != null) {
          socket.cancel();
        }
      }
    } else {
      scheduleReconnect(0);
    }
  }

  /** Test hook: behaves as if the machine had just woken up. */
  void simulateWake() {
    onWake();
  }

  // ------------------------------------------------------------------ the socket

  private void connect() {
    if (closed || refused || cut) {
      return;
    }
    String token;
    try {
      token = session.token();
    } catch (RelayException e) {
      if (e.status() == 403) {
        refuse(403, e.detail());
        if (!suspended) {
          return;
        }
      }
      lost(null);
      return;
    }
    Request req = new Request.Builder().url(session.http().webSocketUrl())
        .header("Authorization", "Bearer " + token).build();
    synchronized (lock) {
      if (closed) { // close() ran during the login: open nothing
        return;
      }
      if (socket != null) {
        socket.cancel();
      }
      socket = session.http().okHttp().newWebSocket(req, new Listener(token));
    }
  }

  private final class Listener extends WebSocketListener {
    private final String token;

    Listener(String token) {
      this.token = token;
    }

    @Override
    public void onOpen(WebSocket ws, Response response) {
      synchronized (lock) {
        if (ws != socket) {
          return;
        }
        connected = true;
        attempt = 0;
      }
      if (suspended) {
        suspended = false;
        log.info("relay accepts this device again (resumed)");
      }
      log.debug("relay socket open");
      handler.onConnectivity(true);
    }

    @Override
    public void onMessage(WebSocket ws, String text) {
      JsonNode frame;
      try {
        frame = RelayHttp.MAPPER.readTree(text);
      } catch (IOException e) {
        log.warn("unparseable frame from the relay");
        return;
      }
      switch (frame.path("type").asText()) {
        case "message" -> {
          WireMessage m = RelayHttp.message(frame.path("message"));
          inbound.execute(() -> deliver(m));
        }
        case "error" -> log.warn("relay frame error: {}", frame.path("detail").asText());
        default -> { } // sent, acked, pong
      }
    }

    @Override
    public void onClosing(WebSocket ws, int code, String reason) {
      ws.close(1000, null);
      if (code == 4003) {
        refuse(403, reason);
      } else if (code == 4001) {
        session.invalidate(token);
      }
      down(ws);
    }

    @Override
    public void onClosed(WebSocket ws, int code, String reason) {
      down(ws);
    }

    @Override
    public void onFailure(WebSocket ws, Throwable t, Response response) {
      int status = response == null ? 0 : response.code();
      if (status == 401) {
        session.invalidate(token);
      } else if (status == 403) {
        // The upgrade was refused: a revoked or suspended device; the session says which.
        try {
          session.invalidate(token);
          session.token();
        } catch (RelayException e) {
          if (e.status() == 403) {
            refuse(403, e.detail());
          }
        }
      }
      log.debug("relay socket failed: {} {}", status, t.toString());
      down(ws);
    }
  }

  private void down(WebSocket ws) {
    boolean was;
    synchronized (lock) {
      if (ws != socket) {
        return;
      }
      socket = null;
      was = connected;
      connected = false;
    }
    if (was && !suspended) { // a suspension was reported by onRefused, not as OFFLINE
      handler.onConnectivity(false);
    }
    lost(ws);
  }

  private void lost(WebSocket ws) {
    int a;
    synchronized (lock) {
      a = attempt++;
    }
    scheduleReconnect(backoff.delay(a).toMillis());
  }

  private void scheduleReconnect(long millis) {
    if (closed || refused) {
      return;
    }
    synchronized (lock) {
      if (reconnect != null && !reconnect.isDone()) {
        reconnect.cancel(false);
      }
      reconnect = timer.schedule(this::connect, millis, TimeUnit.MILLISECONDS);
    }
  }

  private void refuse(int status, String detail) {
    if (refused) {
      return;
    }
    if (detail != null && detail.contains("suspended")) {
      if (suspended) {
        return;
      }
      suspended = true; // before down(): no OFFLINE after SUSPENDED
    } else {
      refused = true;
    }
    log.info("relay refused this device: {} {}", status, detail);
    handler.onRefused(status, detail); // at once: a resume (onOpen) must not be overtaken by it
  }

  /** A request went through while suspended (a poll pass): the device was resumed. */
  private void accepted() {
    if (suspended) {
      suspended = false;
      log.info("relay accepts this device again (resumed)");
      handler.onConnectivity(isConnected());
    }
  }

  // ------------------------------------------------------------------ timer, polling, acks

  private void tick() {
    try {
      if (wake.tick()) {
        onWake();
        return;
      }
      long now = nanoTime.getAsLong();
      if (!isConnected() && now - lastPollNanos >= pollInterval.toNanos()) {
        lastPollNanos = now;
        catchUp();
      }
    } catch (RuntimeException e) {
      log.warn("relay timer: {}", e.toString());
    }
  }

  private void onWake() {
    log.info("the machine slept: reconnecting and catching up");
    synchronized (lock) {
      attempt = 0;
      if (socket != null) {
        socket.cancel(); // onFailure schedules the reconnect
      } else {
        scheduleReconnect(0);
      }
    }
    catchUp();
  }

  /** Short poll interval for tests. */
  void pollNowIfDown() {
    if (!isConnected()) {
      catchUp();
    }
  }

  /** One pass over this device's pending deliveries (on the inbound thread). */
  private void pollPass() {
    if (closed || refused) {
      return;
    }
    lastPollNanos = nanoTime.getAsLong();
    String after = "0";
    try {
      for (int page = 0; page < 1000; page++) {
        JsonNode r = session.get("/api/v1/messages?after=" + after + "&limit=100");
        accepted();
        for (JsonNode m : r.path("messages")) {
          deliver(RelayHttp.message(m));
        }
        if (!r.path("has_more").asBoolean(false)) {
          return;
        }
        after = r.path("next_cursor").asText(after);
      }
    } catch (RelayException e) {
      if (e.status() == 403) {
        refuse(403, e.detail());
      } else {
        log.debug("poll failed: {}", e.toString());
      }
    }
  }

  private void deliver(WireMessage m) {
    if (closed || processed.contains(m.messageId())) {
      return;
    }
    try {
      handler.onMessage(m);
      processed.add(m.messageId());
      if (processed.size() > RECENT) {
        var it = processed.iterator();
        it.next();
        it.remove();
      }
    } catch (Exception e) {
      log.warn("message {} not processed, it comes again: {}", m.messageId(), e.toString());
    }
  }

  private void flushAcks() {
    List<Long> batch;
    synchronized (lock) {
      if (pendingAcks.isEmpty()) {
        return;
      }
      batch = new ArrayList<>(pendingAcks.subList(0, Math.min(1000, pendingAcks.size())));
    }
    ObjectNode body = RelayHttp.object();
    ArrayNode ids = body.putArray("message_ids");
    batch.forEach(ids::add);
    try {
      session.post("/api/v1/messages/ack", body);
    } catch (RelayException e) {
      if (e.status() == 403) {
        refuse(403, e.detail());
      }
      log.debug("ack failed, retried: {}", e.toString());
      return;
    }
    synchronized (lock) {
      pendingAcks.subList(0, batch.size()).clear();
    }
    inbound.execute(() -> handler.onAcked(batch));
  }

  /** Sends the pending acks now and waits up to {@code timeout} for them. */
  public void flush(Duration timeout) {
    try {
      timer.submit(this::flushAcks).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      inbound.submit(() -> { }).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.debug("flush: {}", e.toString());
    }
  }

  /** Closes the socket, stops the threads; unsent acks are dropped (the messages come again). */
  @Override
  public void close() {
    closed = true;
    synchronized (lock) {
      if (socket != null) {
        socket.close(1000, "closing");
        socket = null;
      }
      connected = false;
    }
    timer.shutdownNow();
    inbound.shutdownNow();
    try {
      inbound.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Settings of a {@link RelaySocket}. */
  public static final class Builder {
    private final RelaySession session;
    private final Handler handler;
    private Duration pollInterval = Duration.ofSeconds(15);
    private Duration wakeGap = Duration.ofSeconds(120);
    private Duration backoffBase = Duration.ofMillis(500);
    private Duration backoffMax = Duration.ofSeconds(30);
    private LongSupplier nanoTime = System::nanoTime;

    private Builder(RelaySession session, Handler handler) {
      this.session = Objects.requireNonNull(session, "session");
      this.handler = Objects.requireNonNull(handler, "handler");
    }

    /** How often to poll while the socket is down (default 15 s). */
    public Builder pollInterval(Duration d) {
      this.pollInterval = positive(d, "pollInterval");
      return this;
    }

    /** A scheduler gap longer than this means the machine slept (default 120 s). */
    public Builder wakeGap(Duration d) {
      this.wakeGap = positive(d, "wakeGap");
      return this;
    }

    /** Reconnect backoff: first delay and cap (defaults 500 ms, 30 s). */
    public Builder backoff(Duration base, Duration max) {
      this.backoffBase = positive(base, "base");
      this.backoffMax = positive(max, "max");
      return this;
    }

    Builder nanoTime(LongSupplier s) {
      this.nanoTime = Objects.requireNonNull(s, "nanoTime");
      return this;
    }

    public RelaySocket build() {
      if (backoffMax.compareTo(backoffBase) < 0) {
        throw new IllegalArgumentException("backoff max < base");
      }
      return new RelaySocket(this);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + d);
      }
      return d;
    }
  }
}
