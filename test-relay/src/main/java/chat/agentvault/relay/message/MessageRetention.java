package chat.agentvault.relay.message;

import chat.agentvault.relay.db.Database;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the ciphertext the relay no longer needs: a message no delivery waits for (every
 * recipient acknowledged it, schema V6) once it is older than the retention. Until then it is kept
 * so that a resend with the same {@code client_message_id} is still recognized as a duplicate. A
 * message some device has not acknowledged is never deleted here, however old.
 *
 * <p>Runs per tenant, as the application role, under RLS like every other statement, in ranges of
 * message ids so that no sweep holds one long transaction. Nothing finds old messages by an index
 * of their own (the relay's inserts would pay for it): each range is a scan of the primary key from
 * where the previous one ended, and a message's id grows with its creation time, so the sweep stops
 * at the first range holding a message newer than the retention. Whether a delivery waits for a
 * message is one anti-join against {@code deliveries} per range (its rows are only the pending
 * deliveries, and an old message never gets new ones: deliveries are inserted with their message).
 */
public final class MessageRetention implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MessageRetention.class);
  /** Messages per range (one transaction) by default. */
  public static final int RANGE = 50_000;

  /**
   * One range: the next {@code range} messages of the tenant after an id; deletes those older than
   * the retention that no delivery waits for. Answers how many were deleted, the range's last id, and
   * whether the range reached messages newer than the retention.
   */
  private static final String SWEEP_RANGE =
      "with r as (select id, created_at from messages where id > ? order by id limit ?),"
          + " x as (delete from messages m"
          + "   where m.id = any(array(select id from r where created_at < now() - make_interval(secs => ?)))"
          + "   and not exists (select 1 from deliveries d where d.message_id = m.id) returning 1)"
          + " select (select count(*) from x), (select max(id) from r),"
          + " coalesce((select bool_or(created_at >= now() - make_interval(secs => ?)) from r), true)";

  private final Database db;
  private final Duration retention;
  private final int range;
  private final ScheduledExecutorService timer;

  /** Sweeps every {@code interval}; {@code interval} zero: only when {@link #sweep()} is called. */
  public MessageRetention(Database db, Duration retention, Duration interval) {
    this(db, retention, interval, RANGE);
  }

  /** As above, {@code range} messages per transaction. */
  public MessageRetention(Database db, Duration retention, Duration interval, int range) {
    if (retention.isNegative() || interval.isNegative() || range < 1) {
      throw new IllegalArgumentException("retention and interval must not be negative, range must be positive");
    }
    this.db = db;
    this.retention = retention;
    this.range = range;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "message-retention");
      t.setDaemon(true);
      return t;
    });
    if (!interval.isZero()) {
      timer.scheduleWithFixedDelay(this::sweepQuietly, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Deletes, in every tenant, the messages older than the retention that no delivery waits for; returns how many. */
  public long sweep() throws SQLException {
    List<UUID> tenants = new ArrayList<>();
    db.asAdmin(null, c -> { // tenants is the one table without row-level security
      try (ResultSet rs = c.createStatement().executeQuery("select id from tenants")) {
        while (rs.next()) {
          tenants.add(rs.getObject(1, UUID.class));
        }
      }
      return null;
    });
    double secs = retention.toMillis() / 1000.0;
    long total = 0;
    for (UUID tenant : tenants) {
      long after = 0;
      boolean reachedNewer;
      do {
        long from = after;
        long[] done = db.inTenant(tenant, c -> {
          try (PreparedStatement p = c.prepareStatement(SWEEP_RANGE)) {
            p.setLong(1, from);
            p.setInt(2, range);
            p.setDouble(3, secs);
            p.setDouble(4, secs);
            ResultSet rs = p.executeQuery();
            rs.next();
            long deleted = rs.getLong(1);
            long last = rs.getLong(2);
            if (rs.wasNull()) {
              last = -1; // no message after from
            }
            return new long[] {deleted, last, rs.getBoolean(3) ? 1 : 0};
          }
        });
        total += done[0];
        reachedNewer = done[1] < 0 || done[2] == 1;
        after = done[1];
      } while (!reachedNewer);
    }
    return total;
  }

  private void sweepQuietly() {
    try {
      long n = sweep();
      if (n > 0) {
        LOG.debug("deleted {} delivered messages older than {}", n, retention);
      }
    } catch (SQLException | RuntimeException e) {
      LOG.warn("message retention sweep failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
