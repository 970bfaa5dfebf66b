package chat.agentvault.relay.ws;

import chat.agentvault.relay.auth.Principal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

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
  int consecutiveBadFrames; // touched only by the socket's reader

  private record Held(long id, String frame) {}

  Connection(Session session, Principal principal, long expiresAtEpochSecond, long maxQueuedChars, int maxHeld) {
    this.session = session;
    this.principal = principal;
    this.expiresAtEpochSecond = expiresAtEpochSecond;
    this.maxQueuedChars = maxQueuedChars;
    this.maxHeld = maxHeld;
  }

  /** A live frame from the fan-out ({@code id} = its message id, or -1 when it has none). */
  void live(long id, String frame) {
    synchronized (lock) {
      if (!live) {
        if (held.size() >= maxHeld) {
          close(SLOW_CONSUMER, "slow consumer");
          return;
        }
        held.add(new Held(id, frame));
        return;
      }
      if (id >= 0 && backlogIds != null && backlogIds.contains(id)) {
        return;
      }
    }
    send(frame);
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
          send(h.frame());
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
