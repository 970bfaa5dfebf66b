package chat.agentvault.relay.ws;

import chat.agentvault.relay.auth.Principal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.common.WebSocketSession;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * One open socket of one device. Writes are asynchronous (Jetty queues them and calls back when
 * written), so the fan-out thread never waits for a slow peer; what is queued and not yet written is
 * counted, and a socket that lets more than {@link #maxQueuedChars} pile up is closed with 1013
 * instead of eating memory (its deliveries stay pending in PostgreSQL and come back as backlog when it
 * reconnects).
 *
 * <p>Backlog then live: the connection is registered (and so receives live frames) before its
 * backlog is read. Live frames that arrive meanwhile are held back; when the backlog is written, the
 * held frames follow, minus those the backlog already contained. The ids of the backlog are kept a
 * while longer, because a message committed before the backlog query may be published just after it.
 */
final class Connection {
  static final int SLOW_CONSUMER = 1013;

  final Session session;
  final Principal principal;
  final long expiresAtEpochSecond;
  private final long maxQueuedChars;
  private final int maxHeld;
  private final AtomicLong queuedChars = new AtomicLong();
  private final Object lock = new Object();
  private boolean live;                          // guarded by lock
  private List<Held> held = new ArrayList<>();   // guarded by lock; live frames during the backlog
  private Set<Long> backlogIds = new HashSet<>(); // guarded by lock; null once forgotten
  private volatile boolean closed;
  volatile ScheduledFuture<?> expiry;
  /** Malformed frames in a row (the reader and, for answers that come later, the group commit's writers). */
  final AtomicInteger consecutiveBadFrames = new AtomicInteger();
  /** {@code send} and {@code ack} frames taken and not yet answered (WebSocketEndpoint#MAX_UNANSWERED). */
  final AtomicInteger unanswered = new AtomicInteger();
  /** The fan-out call that last queued a frame here to flush ({@link WebSocketEndpoint#frames}). */
  Object flushMark;
  /** Completes when every frame read so far is answered; touched only by the socket's reader. */
  private CompletableFuture<?> inflight = CompletableFuture.completedFuture(null);

  private record Held(long id, String frame, byte[] utf8) {}

  /** Jetty's core session under {@link #session}, to write frames encoded once for all recipients. */
  private final CoreSession core;

  Connection(Session session, Principal principal, long expiresAtEpochSecond, long maxQueuedChars, int maxHeld) {
    this.session = session;
    this.core = session instanceof WebSocketSession w ? w.getCoreSession() : null;
    this.principal = principal;
    this.expiresAtEpochSecond = expiresAtEpochSecond;
    this.maxQueuedChars = maxQueuedChars;
    this.maxHeld = maxHeld;
  }

  /** Adds a frame's answer (its future) to what {@link #awaitInflight} waits for. */
  void track(CompletableFuture<?> answer) {
    CompletableFuture<?> done = answer.handle((v, x) -> null);
    inflight = inflight.isDone() ? done : CompletableFuture.allOf(inflight, done);
  }

  /** Runs {@code r} once every frame read so far is answered (at once if they all are). */
  void afterInflight(Runnable r) {
    if (inflight.isDone()) {
      r.run();
    } else {
      track(inflight.thenRun(r));
    }
  }

  /** Blocks the reader until every frame read so far is answered (at most 30 s: then it goes on). */
  void awaitInflight() {
    try {
      inflight.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // answered with an error, or stuck: either way, no longer worth holding this frame for
    }
  }

  /**
   * A live frame from the fan-out ({@code id} = its message id, or -1 when it has none), with its
   * UTF-8 encoding (shared by every recipient: encoded once per message, not per socket). With
   * {@code batch} the frame is queued without being flushed, and the caller must then {@link #flush}
   * this connection. Returns whether it was so queued (false when held, dropped or sent alone).
   */
  boolean live(long id, String frame, byte[] utf8, boolean batch) {
    synchronized (lock) {
      if (!live) {
        if (held.size() >= maxHeld) {
          close(SLOW_CONSUMER, "slow consumer");
          return false;
        }
        held.add(new Held(id, frame, utf8));
        return false;
      }
      if (id >= 0 && backlogIds != null && backlogIds.contains(id)) {
        return false;
      }
    }
    return send(frame, utf8, batch);
  }

  /** Writes the frames queued with {@code batch} (a no-op when none are). */
  void flush() {
    if (core != null && !closed) {
      core.flush(org.eclipse.jetty.util.Callback.NOOP);
    }
  }

  /** Records a backlog message about to be written (for de-duplication against live frames). */
  void backlog(long id, String frame) {
    synchronized (lock) {
      backlogIds.add(id);
    }
    send(frame);
  }

  /** The backlog is written: release the held live frames (minus duplicates) and go live. */
  void backlogDone() {
    synchronized (lock) {
      for (Held h : held) {
        if (h.id() < 0 || !backlogIds.contains(h.id())) {
          send(h.frame(), h.utf8());
        }
      }
      held = null;
      live = true;
    }
  }

  /** Drops the backlog's ids: every message they could duplicate has been published by now. */
  void forgetBacklog() {
    synchronized (lock) {
      backlogIds = null;
    }
  }

  boolean isLive() {
    synchronized (lock) {
      return live;
    }
  }

  /** Characters written to Jetty and not yet on the wire. */
  long queuedChars() {
    return queuedChars.get();
  }

  long maxQueuedChars() {
    return maxQueuedChars;
  }

  /** Queues {@code frame} for writing; never blocks. */
  void send(String frame) {
    if (closed) {
      return;
    }
    long n = frame.length();
    if (queuedChars.addAndGet(n) > maxQueuedChars) {
      queuedChars.addAndGet(-n);
      close(SLOW_CONSUMER, "slow consumer");
      return;
    }
    session.sendText(frame, Callback.from(() -> queuedChars.addAndGet(-n), x -> queuedChars.addAndGet(-n)));
  }

  /** Queues a text frame already encoded as UTF-8 ({@code frame} is its text, for the fallback); never blocks. */
  void send(String frame, byte[] utf8) {
    send(frame, utf8, false);
  }

  /** As {@link #send(String, byte[])}; returns true when the frame was queued with {@code batch} (not flushed). */
  private boolean send(String frame, byte[] utf8, boolean batch) {
    if (core == null || utf8 == null) {
      send(frame);
      return false;
    }
    if (closed) {
      return false;
    }
    long n = utf8.length;
    if (queuedChars.addAndGet(n) > maxQueuedChars) {
      queuedChars.addAndGet(-n);
      close(SLOW_CONSUMER, "slow consumer");
      return false;
    }
    // a read-only view per socket: the writer advances its position, the bytes are shared
    core.sendFrame(new Frame(OpCode.TEXT, true, ByteBuffer.wrap(utf8).asReadOnlyBuffer()),
        org.eclipse.jetty.util.Callback.from(() -> queuedChars.addAndGet(-n), x -> queuedChars.addAndGet(-n)), batch);
    return batch;
  }

  boolean closed() {
    return closed || !session.isOpen();
  }

  void close(int code, String reason) {
    if (closed) {
      return;
    }
    closed = true;
    ScheduledFuture<?> e = expiry;
    if (e != null) {
      e.cancel(false);
    }
    session.close(code, reason, Callback.NOOP);
  }

  /** Called once the socket is gone. */
  void closedByPeer() {
    closed = true;
    ScheduledFuture<?> e = expiry;
    if (e != null) {
      e.cancel(false);
    }
  }
}
