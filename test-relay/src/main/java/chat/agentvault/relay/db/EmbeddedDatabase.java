package chat.agentvault.relay.db;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL (zonky's binaries from Maven Central) in {@code dataDir}, kept across restarts.
 * Durable settings: {@code fsync} and {@code synchronous_commit} on, so a commit the relay
 * acknowledged survives a crash of the relay and of the database server. Other server settings can be
 * given as system properties {@code agentvault.embedded-pg.NAME=VALUE} (fsync, synchronous_commit and
 * full_page_writes cannot be changed that way). New WAL segments are not zero-filled
 * ({@code wal_init_zero = off}), backends flush their data writes as they go ({@code
 * backend_flush_after = 256kB}) and the buffer pool is small ({@code shared_buffers = 32MB}), so
 * pages the relay adds reach the disk steadily rather than in bursts; see {@link #start}.
 */
public final class EmbeddedDatabase implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);

  private final EmbeddedPostgres pg;

  private EmbeddedDatabase(EmbeddedPostgres pg) {
    this.pg = pg;
  }

  public static EmbeddedDatabase start(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    stopOrphan(dataDir);
    EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(false)
        .setServerConfig("max_connections", "200")
        // A new WAL segment is created by writing its last byte instead of 16 MB of zeros. The zeros
        // only pre-allocate disk space: they are written inside XLogWrite by whichever backend's
        // commit crosses into the new segment, which stalls that commit (and every send batch
        // queued behind it) for the time of a 16 MB write. A relay's database is new and its WAL
        // grows until max_wal_size before segments are recycled, so this happened every 0.6 s
        // under load (docs/benchmarks.md, relay, fourth round: p99 60 -> 34 ms). Commits are
        // still fsync'd (fdatasync persists the blocks a write allocated); what changes is that a
        // full disk is met at a WAL write (a PANIC, then crash recovery: no committed transaction
        // is lost) rather than at segment creation. Overridable like the settings below.
        .setServerConfig("wal_init_zero", "off")
        // Backends write the dirty buffers they evict (under the load generator's load the tables
        // grow far past shared_buffers; the disk took about 50 MB/s, WAL included). Without this,
        // those writes sat in the kernel's page cache until its 30 s expiry and then went to disk in
        // bursts of hundreds of MB, and every commit's WAL fsync queued behind such a burst waited
        // for it: send batches stalled 100-250 ms every 15-30 s (docs/benchmarks.md, relay, fifth
        // round). With it, each backend asks the kernel to write back every 256 kB it wrote
        // (PostgreSQL's checkpointer and bgwriter already do so by default on Linux; backends
        // default to 0). Overridable like the settings below.
        .setServerConfig("backend_flush_after", "256kB")
        // A small buffer pool, so that a page the relay adds is written back within seconds. The
        // relay's tables only grow at their end, and PostgreSQL 16+ adds a page by writing 8 kB of
        // zeros (mdzeroextend) that stay dirty in the kernel's page cache until the page's buffer
        // is evicted and written (then flushed, above): about shared_buffers / growth rate, 6 s with
        // the default 128 MB under the load generator's 20 MB/s. The kernel's flusher writes every
        // dirty page of a file that has been dirty for 30 s, every 5 s: with 128 MB that was
        // 100-120 MB at once, and the WAL fsyncs queued behind it (p99 60-90 ms in those seconds).
        // With 32 MB the pages stay dirty about 1.5 s and such a write is about 25 MB
        // (docs/benchmarks.md, relay, sixth round). Reads still hit the kernel's page cache.
        // Overridable like the settings below: an operator who wants a larger pool sets it.
        .setServerConfig("shared_buffers", "32MB")
        .setPGStartupWait(Duration.ofSeconds(60));
    // operators' settings (-Dagentvault.embedded-pg.NAME=VALUE), e.g. shared_buffers, or
    // shared_preload_libraries=pg_stat_statements for the load generator's --pg-stats
    String prefix = "agentvault.embedded-pg.";
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith(prefix) && name.length() > prefix.length()) {
        b.setServerConfig(name.substring(prefix.length()), System.getProperty(name));
      }
    }
    // durability is not negotiable: set last, so no property can turn it off
    b.setServerConfig("synchronous_commit", "on").setServerConfig("fsync", "on").setServerConfig("full_page_writes", "on");
    EmbeddedPostgres pg = b.start();
    return new EmbeddedDatabase(pg);
  }

  /**
   * A relay killed without shutdown leaves its PostgreSQL running on the data directory; the data
   * directory is ours alone, so stop that server (its data is intact: fsync'd WAL) before starting.
   */
  private static void stopOrphan(Path dataDir) {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    try {
      List<String> lines = Files.readAllLines(pidFile);
      long pid = Long.parseLong(lines.get(0).trim());
      Optional<ProcessHandle> h = ProcessHandle.of(pid);
      if (h.isPresent() && h.get().info().command().map(c -> c.contains("postgres")).orElse(false)) {
        LOG.warn("stopping an orphaned PostgreSQL (pid {}) left on {}", pid, dataDir);
        h.get().destroy(); // SIGTERM: smart shutdown
        h.get().onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      LOG.warn("could not stop an orphaned PostgreSQL on {}: {}", dataDir, e.toString());
    }
  }

  public String jdbcUrl() {
    return pg.getJdbcUrl("postgres", "postgres");
  }

  public int port() {
    return pg.getPort();
  }

  @Override
  public void close() throws IOException {
    pg.close();
  }
}
