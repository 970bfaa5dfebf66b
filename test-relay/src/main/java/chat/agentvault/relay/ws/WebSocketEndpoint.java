package chat.agentvault.relay.ws;

import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.auth.Authenticator;
import chat.agentvault.relay.auth.DeviceStates;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.fanout.Fanout;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.message.MessageApi;
import chat.agentvault.relay.message.MessageService;
import chat.agentvault.relay.message.Store;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsErrorContext;
import io.javalin.websocket.WsMessageContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /ws} (docs/protocol.md, "WebSocket"): authenticated at the upgrade with the same chain as
 * HTTP ({@link Authenticator#authenticate}); then the device's pending deliveries in id order, then
 * live frames from the fan-out; client frames {@code send}, {@code ack}, {@code ping}.
 *
 * <p>Close codes: 1009 for a frame above {@code maxFrameBytes} (Jetty, configured on the servlet
 * factory), 4000 after {@value #MAX_BAD_FRAMES} malformed frames in a row (a single bad frame only
 * gets an error frame), 4001 when the token expires (scheduled at its {@code exp}), 4003 and the
 * like when the fan-out says so ({@link Fanout#disconnect}), 1013 for a consumer too slow to keep up,
 * 1001 when the relay stops.
 */
public final class WebSocketEndpoint implements Fanout.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(WebSocketEndpoint.class);

  static final int MAX_BAD_FRAMES = 10;
  /**
   * Most {@code send} and {@code ack} frames one socket may have waiting for their answer; more are
   * refused with 429 until answers come back. Sends are answered when their batch commits, so a
   * client could otherwise queue frames faster than the database stores them, without bound.
   */
  public static final int MAX_UNANSWERED = 1024;
  static final int BACKLOG_PAGE = 500;
  /** How long backlog ids are kept to drop late duplicates among live frames. */
  static final long FORGET_BACKLOG_MS = 30_000;

  private static final Set<String> ACK_FIELDS = Set.of("message_ids");
  private static final String PONG = "{\"type\":\"pong\"}";
  private static final String PRINCIPAL = "agentvault.ws.principal";
  private static final String EXPIRES = "agentvault.ws.exp";

  private static final ScheduledThreadPoolExecutor TIMERS = timers();
  private static final ExecutorService BACKLOG = backlogPool();
  /** The fan-out's second writer ({@link #flushAll}). */
  private static final ExecutorService FLUSHER = Executors.newSingleThreadExecutor(daemon("fanout-flush"));

  private final RelayContext rc;
  private final Authenticator authn;
  private final Map<UUID, Set<Connection>> byDevice = new ConcurrentHashMap<>();
  private final Map<String, Connection> bySession = new ConcurrentHashMap<>();
  private final long maxQueuedChars;
  /** Upgrades authenticated and not yet connected (their onConnect has not run). */
  private final AtomicInteger upgrading = new AtomicInteger();
  private volatile boolean stopping;

  private WebSocketEndpoint(RelayContext rc, Authenticator authn) {
    this.rc = rc;
    this.authn = authn;
    this.maxQueuedChars = Math.max(8L << 20, 4L * rc.config().maxFrameBytes());
  }

  /** Declares {@code /ws} and makes it the fan-out's listener; call {@link #closeAll} when the server stops. */
  public static WebSocketEndpoint register(RoutesConfig r, RelayContext rc, Authenticator authn) {
    WebSocketEndpoint e = new WebSocketEndpoint(rc, authn);
    rc.fanout().listen(e);
    r.wsBeforeUpgrade("/ws", e::beforeUpgrade);
    r.ws("/ws", ws -> {
      ws.onConnect(e::onConnect);
      ws.onMessage(e::onMessage);
      ws.onClose(e::onClose);
      ws.onError(e::onError);
    });
    return e;
  }

  /** Closes every open socket with 1001 (relay shutting down) and waits up to a second for them to go. */
  public void closeAll() {
    stopping = true; // a socket whose upgrade is still under way is closed by onConnect
    for (Connection c : bySession.values()) {
      c.close(1001, "relay shutting down");
    }
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while ((!bySession.isEmpty() || upgrading.get() > 0) && System.nanoTime() < end) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  // ---- upgrade and connection life cycle

  private void beforeUpgrade(Context ctx) throws SQLException {
    String token = null;
    String h = ctx.header("Authorization");
    if (h != null && h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      token = h.substring(7).trim();
    } else if (ctx.queryParam("token") != null) {
      token = ctx.queryParam("token");
    }
    if (token == null || token.isEmpty()) {
      throw ApiException.unauthorized("missing bearer token");
    }
    Principal p = authn.authenticate(token); // 401 / 403 / 429 as over HTTP, before any upgrade
    ctx.attribute(EXPIRES, expiry(token));
    ctx.attribute(PRINCIPAL, p);
    upgrading.incrementAndGet(); // last: every failure above leaves it untouched
  }

  /** The {@code exp} of a token {@link Authenticator#authenticate} has just verified. */
  private static long expiry(String token) {
    int a = token.indexOf('.');
    int b = token.indexOf('.', a + 1);
    try {
      JsonNode claims = JsonBody.MAPPER.readTree(Base64.getUrlDecoder().decode(token.substring(a + 1, b)));
      return claims.path("exp").asLong();
    } catch (IOException | RuntimeException e) {
      throw ApiException.unauthorized("invalid token");
    }
  }

  private void onConnect(WsConnectContext ctx) {
    Principal p = ctx.attribute(PRINCIPAL);
    Long exp = ctx.attribute(EXPIRES);
    if (p == null || exp == null) { // cannot happen: the before-upgrade handler refused
      ctx.closeSession(4001, "token invalid");
      return;
    }
    Connection c = new Connection(ctx.session, p, exp, maxQueuedChars, 100_000);
    bySession.put(ctx.sessionId(), c);
    upgrading.decrementAndGet();
    if (stopping) { // closeAll ran before this socket was registered
      c.close(1001, "relay shutting down");
      return;
    }
    byDevice.computeIfAbsent(p.device(), d -> ConcurrentHashMap.newKeySet()).add(c);
    long delayMs = exp * 1000 - rc.clock().millis();
    c.expiry = TIMERS.schedule(() -> c.close(4001, "token expired"), Math.max(0, delayMs), TimeUnit.MILLISECONDS);
    BACKLOG.execute(() -> {
      if (stillUsable(c)) {
        sendBacklog(c);
      }
    });
  }

  /**
   * The device's state again, now that the connection is registered: a suspension or revocation
   * committed between the upgrade's check and the registration found no socket to close
   * ({@link #disconnect}), so it is caught here (4003 with the same detail as over HTTP).
   */
  private boolean stillUsable(Connection c) {
    try {
      String state = authn.currentState(c.principal);
      DeviceStates.requireUsable(state == null ? "UNKNOWN" : state);
      return true;
    } catch (ApiException e) {
      c.close(4003, e.detail());
      return false;
    } catch (SQLException | RuntimeException e) {
      LOG.debug("websocket state check failed: {}", e.toString());
      return true; // the backlog query meets the same database; the next HTTP request checks again
    }
  }

  private void onClose(WsCloseContext ctx) {
    Connection c = bySession.remove(ctx.sessionId());
    if (c != null) {
      c.closedByPeer();
      byDevice.computeIfPresent(c.principal.device(), (d, set) -> {
        set.remove(c);
        return set.isEmpty() ? null : set;
      });
    }
  }

  private void onError(WsErrorContext ctx) {
    Throwable e = ctx.error();
    LOG.debug("websocket error on {}: {}", ctx.sessionId(), e == null ? "?" : e.toString());
  }

  // ---- backlog

  private void sendBacklog(Connection c) {
    long after = 0;
    try {
      while (!c.closed()) {
        List<Store.Stored> page = pending(c.principal, after);
        for (Store.Stored s : page) {
          awaitRoom(c);
          if (c.closed()) {
            return;
          }
          c.backlog(s.id(), s.frame());
          after = s.id();
        }
        if (page.size() < BACKLOG_PAGE) {
          break;
        }
      }
      c.backlogDone();
      TIMERS.schedule(c::forgetBacklog, FORGET_BACKLOG_MS, TimeUnit.MILLISECONDS);
    } catch (SQLException e) {
      LOG.warn("backlog of {} failed: {}", c.principal.device(), e.toString());
      c.close(1011, "database unavailable");
    } catch (RuntimeException e) {
      LOG.error("backlog of {} failed", c.principal.device(), e);
      c.close(1011, "internal error");
    }
  }

  /** Backpressure for the backlog: wait while half the socket's write budget is queued. */
  private static void awaitRoom(Connection c) {
    while (!c.closed() && c.queuedChars() > c.maxQueuedChars() / 2) {
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** This device's pending deliveries after {@code after}, in id order (the one read path, as GET /messages). */
  private List<Store.Stored> pending(Principal p, long after) throws SQLException {
    return rc.db().inTenant(p.tenant(), c -> Store.pending(c, p.tenant(), p.device(), after, BACKLOG_PAGE));
  }

  // ---- fan-out listener

  @Override
  public void frame(UUID tenant, Collection<UUID> devices, String frame) {
    frames(tenant, List.of(new Fanout.Frame(devices, frame)));
  }

  /**
   * Each frame is encoded once for all its recipients; a socket's frames of this call are queued
   * without flushing and written together when the call has queued them all (one write per socket
   * instead of one per frame when a batch carries several messages of its room).
   */
  @Override
  public void frames(UUID tenant, List<Fanout.Frame> frames) {
    boolean batch = frames.size() > 1;
    // the sockets to flush, each once: marked with this call's token (a LinkedHashSet, copied to a
    // list for flushAll, was 7 % of the publisher's CPU); a concurrent call can only overwrite a
    // mark, which makes a socket appear twice here (flushed twice), never be left out
    Object token = new Object();
    List<Connection> queued = new ArrayList<>();
    for (Fanout.Frame f : frames) {
      long id = -2; // parsed lazily: only when some recipient is connected here
      byte[] utf8 = null; // encoded once, for every recipient
      for (UUID d : f.devices()) {
        Set<Connection> set = byDevice.get(d);
        if (set == null) {
          continue;
        }
        for (Connection c : set) {
          if (!c.principal.tenant().equals(tenant)) {
            continue;
          }
          if (id == -2) {
            id = messageId(f.frame());
            utf8 = f.frame().getBytes(StandardCharsets.UTF_8);
          }
          if (c.live(id, f.frame(), utf8, batch) && c.flushMark != token) {
            c.flushMark = token;
            queued.add(c);
          }
        }
      }
    }
    flushAll(queued);
  }

  /** Below this many sockets to write, one thread writes them all. */
  public static final int PARALLEL_FLUSH_MIN = 32;

  /**
   * Writes the sockets' queued frames: half of them on {@link #FLUSHER} while this thread writes the
   * other half, then waits for both halves, so the caller still returns once every frame is handed to
   * its socket (the senders' answers follow that: back-pressure). Each write is a socket system call
   * (about half the publisher's time, most of it the kernel's loopback TCP); the frames were queued
   * in order on the calling thread, so which thread writes a socket changes no socket's order.
   */
  private static void flushAll(List<Connection> sockets) {
    int n = sockets.size();
    if (n < PARALLEL_FLUSH_MIN) {
      sockets.forEach(Connection::flush);
      return;
    }
    List<Connection> other = sockets.subList(0, n / 2);
    java.util.concurrent.Future<?> half;
    try {
      half = FLUSHER.submit(() -> other.forEach(Connection::flush));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      sockets.forEach(Connection::flush);
      return;
    }
    sockets.subList(n / 2, n).forEach(Connection::flush);
    try {
      half.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      LOG.error("fan-out write failed", e.getCause());
    }
  }

  @Override
  public void disconnect(UUID tenant, UUID device, int code, String reason) {
    Set<Connection> set = byDevice.get(device);
    if (set != null) {
      for (Connection c : set) {
        if (c.principal.tenant().equals(tenant)) {
          c.close(code, reason);
        }
      }
    }
  }

  /**
   * The message id of a {@code {"type":"message","message":{"message_id":N,...}}} frame, or -1.
   * Store.Stored#frame writes message_id first; a frame of another shape is parsed fully.
   */
  static long messageId(String frame) {
    String prefix = "{\"type\":\"message\",\"message\":{\"message_id\":";
    if (frame.startsWith(prefix)) {
      long v = 0;
      int i = prefix.length();
      int start = i;
      while (i < frame.length() && Character.isDigit(frame.charAt(i)) && i - start < 18) {
        v = v * 10 + (frame.charAt(i++) - '0');
      }
      if (i > start && i < frame.length() && (frame.charAt(i) == ',' || frame.charAt(i) == '}')) {
        return v;
      }
    }
    try {
      JsonNode n = JsonBody.MAPPER.readTree(frame);
      JsonNode id = n.path("message").path("message_id");
      return "message".equals(n.path("type").asText()) && id.canConvertToLong() ? id.asLong() : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  // ---- client frames

  private void onMessage(WsMessageContext ctx) {
    Connection c = bySession.get(ctx.sessionId());
    if (c == null || c.closed()) {
      return;
    }
    if (rc.clock().instant().getEpochSecond() >= c.expiresAtEpochSecond) {
      c.close(4001, "token expired");
      return;
    }
    String clientMessageId = null;
    try {
      JsonNode n;
      try {
        n = JsonBody.MAPPER.readTree(ctx.message());
      } catch (IOException e) {
        throw ApiException.badRequest("malformed JSON");
      }
      if (n == null || !n.isObject()) {
        throw ApiException.badRequest("expected a JSON object");
      }
      JsonNode type = n.get("type");
      if (type == null || !type.isTextual()) {
        throw ApiException.badRequest("missing field: type");
      }
      ObjectNode rest = ((ObjectNode) n).deepCopy();
      rest.remove("type");
      switch (type.textValue()) {
        case "ping" -> {
          JsonBody.of(rest, Set.of());
          c.afterInflight(() -> c.send(PONG)); // after the answers to every earlier frame
        }
        case "send" -> {
          JsonNode cmid = rest.get("client_message_id");
          clientMessageId = cmid != null && cmid.isTextual() && cmid.textValue().length() <= 200 ? cmid.textValue() : null;
          admit(c);
          JsonBody body = JsonBody.of(rest, MessageService.SEND_FIELDS);
          JsonNode mt = rest.get("message_type");
          if (!MessageService.batchable(mt != null && mt.isTextual() ? mt.textValue() : null, rest.hasNonNull("room_id"))) {
            // a handshake, welcome or direct message runs on its own: after this client's earlier
            // sends are stored, and before its later ones are read
            c.awaitInflight();
          }
          String id = clientMessageId;
          c.track(answered(c, () -> api().submitAsync(c.principal, body)).whenComplete((answer, x) -> {
            if (x != null) {
              failed(c, x, id);
              return;
            }
            ObjectNode sent = JsonBody.object().put("type", "sent");
            sent.put("client_message_id", id);
            sent.set("message_id", answer.get("message_id"));
            sent.set("duplicate", answer.get("duplicate"));
            c.send(sent.toString());
          }));
        }
        case "ack" -> {
          admit(c);
          List<Long> ids = MessageService.messageIds(JsonBody.of(rest, ACK_FIELDS));
          c.track(answered(c, () -> api().ackAsync(c.principal, ids)).whenComplete((n2, x) -> {
            if (x != null) {
              failed(c, x, null);
            } else {
              c.send(JsonBody.object().put("type", "acked").put("acknowledged", n2).toString());
            }
          }));
        }
        default -> throw ApiException.badRequest("unknown frame type");
      }
      c.consecutiveBadFrames.set(0);
    } catch (RuntimeException e) {
      failed(c, e, clientMessageId);
    }
  }

  /**
   * The limits on a {@code send} or {@code ack} frame, before it is read further: the device's rate
   * limit (the budget its HTTP requests use too) and {@link #MAX_UNANSWERED}. Either answers 429
   * (an error frame naming the frame's client_message_id); the socket stays open.
   */
  private void admit(Connection c) {
    authn.rateLimit(c.principal.device());
    if (c.unanswered.get() >= MAX_UNANSWERED) {
      throw new ApiException(429, "too many frames awaiting an answer");
    }
  }

  /** Counts the frame as unanswered until {@code work}'s answer completes (or it fails at once). */
  private static <T> CompletableFuture<T> answered(Connection c, java.util.function.Supplier<CompletableFuture<T>> work) {
    c.unanswered.incrementAndGet();
    CompletableFuture<T> f;
    try {
      f = work.get();
    } catch (RuntimeException e) {
      c.unanswered.decrementAndGet();
      throw e;
    }
    return f.whenComplete((v, x) -> c.unanswered.decrementAndGet()); // counted down before the answer goes out
  }

  /** Answers a frame that failed (at once, or later from a group commit) with an error frame. */
  private static void failed(Connection c, Throwable x, String clientMessageId) {
    Throwable e = x instanceof java.util.concurrent.CompletionException && x.getCause() != null ? x.getCause() : x;
    if (e instanceof ApiException a) {
      if (a.status() == 400 && c.consecutiveBadFrames.incrementAndGet() >= MAX_BAD_FRAMES) {
        c.close(4000, "malformed frames");
        return;
      }
      if (a.status() != 400) {
        c.consecutiveBadFrames.set(0);
      }
      c.send(error(a, clientMessageId));
    } else if (e instanceof MessageService.UncheckedSql sql) {
      SQLException q = sql.sqlException();
      LOG.error("database error on a websocket frame: {} (SQLState {})", q.getMessage(), q.getSQLState());
      c.send(error(503, "database unavailable", clientMessageId));
    } else {
      LOG.error("internal error on a websocket frame", e);
      c.send(error(500, "internal error", clientMessageId));
    }
  }

  private MessageApi api() {
    MessageApi api = rc.messages();
    if (api == null) {
      throw new ApiException(503, "messaging unavailable");
    }
    return api;
  }

  /** {@code {"type":"error","status","detail",...extra fields (current_epoch),"client_message_id"?}}. */
  static String error(ApiException x, String clientMessageId) {
    ObjectNode e = JsonBody.object().put("type", "error").put("status", x.status());
    e.setAll(x.body());
    if (clientMessageId != null) {
      e.put("client_message_id", clientMessageId);
    }
    return e.toString();
  }

  static String error(int status, String detail, String clientMessageId) {
    ObjectNode e = JsonBody.object().put("type", "error").put("status", status).put("detail", detail);
    if (clientMessageId != null) {
      e.put("client_message_id", clientMessageId);
    }
    return e.toString();
  }

  /** Open sockets on this instance (for tests and metrics). */
  public int openConnections() {
    return bySession.size();
  }

  // ---- threads

  private static ScheduledThreadPoolExecutor timers() {
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, daemon("ws-timer"));
    t.setRemoveOnCancelPolicy(true);
    return t;
  }

  private static ExecutorService backlogPool() {
    ThreadPoolExecutor p = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        daemon("ws-backlog"));
    p.allowCoreThreadTimeOut(true);
    return p;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
