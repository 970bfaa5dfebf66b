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
 * Deletes acknowledged deliveries once they are older than the retention. Since schema V2 a
 * device's pending read is a range scan of its primary-key range that also passes its acknowledged
 * rows (acks are HOT updates, not index changes), so without this sweep a device's backlog read
 * would grow with every delivery it ever had. Runs per tenant, as the application role, under RLS
 * like every other statement; in batches, so one sweep never holds a long transaction.
 */
public final class Retention implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
  private static final int BATCH = 10_000;

  private final Database db;
  private final Duration retention;
  private final ScheduledExecutorService timer;

  /** Sweeps every {@code interval}; {@code interval} zero or negative: only on {@link #sweep()}. */
  public Retention(Database db, Duration retention, Duration interval) {
    this.db = db;
    this.retention = retention;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "delivery-retention");
      t.setDaemon(true);
      return t;
    });
    if (!interval.isZero() && !interval.isNegative()) {
      timer.scheduleWithFixedDelay(this::sweepQuietly, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Deletes acknowledged deliveries older than the retention in every tenant; returns how many. */
  public long sweep() throws SQLException {
    List<UUID> tenants = new ArrayList<>();
    db.asAdmin(null, c -> {
      try (ResultSet rs = c.createStatement().executeQuery("select id from tenants")) {
        while (rs.next()) {
          tenants.add(rs.getObject(1, UUID.class));
        }
      }
      return null;
    });
    long total = 0;
    for (UUID tenant : tenants) {
      int n;
      do {
        n = db.inTenant(tenant, c -> {
          try (PreparedStatement p = c.prepareStatement(
              "delete from deliveries where ctid = any(array(select ctid from deliveries"
                  + " where status = 'delivered' and delivered_at < now() - make_interval(secs => ?)"
                  + " limit " + BATCH + "))")) {
            p.setDouble(1, retention.toMillis() / 1000.0);
            return p.executeUpdate();
          }
        });
        total += n;
      } while (n == BATCH);
    }
    return total;
  }

  private void sweepQuietly() {
    try {
      long n = sweep();
      if (n > 0) {
        LOG.debug("deleted {} acknowledged deliveries older than {}", n, retention);
      }
    } catch (SQLException | RuntimeException e) {
      LOG.warn("delivery retention sweep failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
