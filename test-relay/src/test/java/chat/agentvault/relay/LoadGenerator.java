package chat.agentvault.relay;

import chat.agentvault.relay.auth.Principal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Load generator for the relay's WebSocket delivery path (docs/benchmarks.md, "Relay"): an embedded
 * relay in this JVM, rooms of N members each with a real WebSocket (JDK client) per member, senders
 * sending {@code send} frames with 1 KiB payloads for a fixed time with a window of outstanding
 * sends, recipients acknowledging in batches. Reports deliveries/s (message frames received by
 * recipients) and the end-to-end latency from the send call to the frame's arrival, p50 and p99.
 *
 * <p>Options: {@code --scenarios 10x50,100x5} (members x rooms), {@code --senders 1} per room,
 * {@code --window 8} outstanding sends per sender, {@code --seconds 20}, {@code --warmup 30},
 * {@code --payload 1024}, {@code --ack-batch 50} ids or {@code --ack-ms 1000} since the last ack,
 * {@code --pool 16} (database connections), {@code --http-threads N} (the relay's HTTP threads, default
 * {@link RelayConfig#defaultHttpThreads()}), {@code --client nio} ({@link NioWebSocketClient}: one
 * selector thread for every socket, frames parsed as bytes) or {@code jdk} ({@code
 * java.net.http.WebSocket}), {@code --clients 2} (JDK HttpClients, each with its own selector
 * thread), {@code --fanout-only RATE} (no database: RATE messages/s straight into the fan-out, no
 * acks; measures the WebSocket layer alone), {@code --pg-stats true} (the embedded PostgreSQL loads
 * pg_stat_statements; each scenario prints the relay's costliest statements, per row), {@code
 * --timeline true} (one line per measured second, with its wall-clock time: deliveries, p50, p99
 * and max of that second, to tell a steady tail from stalls). The CPU report covers this JVM's
 * threads by pool, its JIT compiler and GC threads (from /proc, which ThreadMXBean does not list),
 * every process named postgres, and the whole machine.
 */
public final class LoadGenerator {
  private static final String PREFIX = "{\"type\":\"message\",\"message\":{\"message_id\":";

  private final TestRelay relay;
  private final Map<String, String> o;
  private final List<HttpClient> clients = new ArrayList<>();
  private final NioWebSocketClient nio;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "load-timer");
    t.setDaemon(true);
    return t;
  });

  // per scenario
  private volatile boolean running;
  private volatile boolean measuring;
  private final LongAdder deliveries = new LongAdder();
  private final LongAdder sends = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final Histogram latency = new Histogram();
  private final Histogram lastSecond = new Histogram(); // --timeline true
  private volatile boolean timeline;

  private LoadGenerator(TestRelay relay, Map<String, String> o) {
    this.relay = relay;
    this.o = o;
    if (o.getOrDefault("client", "nio").equals("nio")) {
      try {
        nio = new NioWebSocketClient();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    } else {
      nio = null;
      for (int i = 0; i < num("clients", 2); i++) {
        clients.add(HttpClient.newHttpClient());
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    boolean pgStats = "true".equals(o.get("pg-stats"));
    if (pgStats) { // the embedded server loads pg_stat_statements (EmbeddedDatabase's pass-through)
      System.setProperty("agentvault.embedded-pg.shared_preload_libraries", "pg_stat_statements");
    }
    Path dir = Files.createTempDirectory("agentvault-load-");
    // the per-device rate limit (default 200/s, which send and ack frames share) still runs, but at
    // --rate-limit (default 100,000/s) it measures the relay, not an operator's limit
    RelayConfig cfg = RelayConfig.builder().dataDir(dir).poolSize(Integer.parseInt(o.getOrDefault("pool", "16")))
        .requestsPerSecond(Integer.parseInt(o.getOrDefault("rate-limit", "100000")))
        .httpThreads(Integer.parseInt(o.getOrDefault("http-threads", Integer.toString(RelayConfig.defaultHttpThreads()))))
        .tokenLifetime(Duration.ofHours(1)).build();
    System.out.printf("cores=%d jvm=%s maxHeap=%dMB%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.version"), Runtime.getRuntime().maxMemory() >> 20);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
    try (TestRelay relay = TestRelay.start(cfg)) {
      if (relay.context().messages() == null || o.containsKey("stub")) {
        System.out.println("NOTE: stub message service (Store.insert + room members + publish; ack by SQL),"
            + " not the relay's MessageService");
        relay.context().messages(new StubMessages(relay));
      }
      if (pgStats) {
        relay.database().asAdmin(null, c -> c.createStatement().execute("create extension if not exists pg_stat_statements"));
      }
      probeCommit(relay);
      LoadGenerator g = new LoadGenerator(relay, o);
      for (String sc : o.getOrDefault("scenarios", "10x50,100x5").split(",")) {
        String[] p = sc.split("x");
        g.scenario(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
      }
    }
    System.exit(0);
  }

  /**
   * {@code --fanout-only RATE}: RATE messages/s (1 KiB payload, sender = the room's first member) handed
   * straight to the relay's fan-out, as MessageService does after its commit, without the database:
   * what the WebSocket layer alone delivers.
   */
  private Thread fanoutPublisher(UUID tenant, List<Member> all, int members, int rate, int payloadBytes) {
    byte[] p = new byte[payloadBytes];
    ThreadLocalRandom.current().nextBytes(p);
    String payload = Base64.getEncoder().encodeToString(p);
    int rooms = all.size() / members;
    Thread t = new Thread(() -> {
      long id = 1_000_000_000L;
      long start = System.nanoTime();
      long n = 0;
      while (running) {
        long due = start + n * 1_000_000_000L / rate;
        long now = System.nanoTime();
        if (due > now) {
          java.util.concurrent.locks.LockSupport.parkNanos(due - now);
          continue;
        }
        int r = (int) (n % rooms);
        List<UUID> to = new ArrayList<>(members - 1);
        for (int m = 1; m < members; m++) {
          to.add(all.get(r * members + m).device);
        }
        UUID sender = all.get(r * members).device;
        String frame = "{\"type\":\"message\",\"message\":{\"message_id\":" + (id++) + ",\"sender_device_id\":\""
            + sender + "\",\"message_type\":\"application\",\"content_type\":\"application/octet-stream\","
            + "\"client_message_id\":\"t" + System.nanoTime() + "-" + n + "\",\"payload\":\"" + payload
            + "\",\"created_at\":\"2026-01-01T00:00:00Z\",\"room_id\":\"" + all.get(r * members).room
            + "\",\"conversation_id\":null,\"epoch\":null}}";
        relay.context().fanout().toDevices(tenant, to, frame);
        sends.increment();
        n++;
      }
    }, "fanout-publisher");
    t.start();
    return t;
  }

  private static void deleteTree(Path dir) {
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException e) {
      System.err.println("could not delete " + dir + ": " + e);
    }
  }

  /** The latency of one durable commit on this machine (a transaction that writes WAL, alone). */
  private static void probeCommit(TestRelay relay) throws Exception {
    UUID t = Fixtures.tenant(relay);
    long[] ns = new long[200];
    for (int i = 0; i < ns.length; i++) {
      long t0 = System.nanoTime();
      relay.database().inTenant(t, c -> {
        try (var s = c.createStatement()) {
          s.execute("select txid_current()");
        }
        return null;
      });
      ns[i] = System.nanoTime() - t0;
    }
    java.util.Arrays.sort(ns);
    System.out.printf("durable commit, one connection alone: p50 %.2f ms  p99 %.2f ms%n", ns[100] / 1e6, ns[197] / 1e6);
  }

  private int num(String k, int d) {
    return Integer.parseInt(o.getOrDefault(k, Integer.toString(d)));
  }

  private void scenario(int members, int rooms) throws Exception {
    int sendersPerRoom = num("senders", 1);
    int window = num("window", 8);
    int seconds = num("seconds", 20);
    int warmup = num("warmup", 30); // 2 cores: C2 still takes ~0.25 of a core 10 s in (docs/benchmarks.md)
    int payloadBytes = num("payload", 1024);
    int ackBatch = num("ack-batch", 50);
    deliveries.reset();
    sends.reset();
    errors.reset();
    latency.reset();
    UUID tenant = Fixtures.tenant(relay);
    List<Member> all = new ArrayList<>();
    List<Member> senders = new ArrayList<>();
    for (int r = 0; r < rooms; r++) {
      List<Fixtures.Device> ds = new ArrayList<>();
      for (int m = 0; m < members; m++) {
        ds.add(Fixtures.active(relay, tenant, "agent"));
      }
      UUID room = RealtimeFixtures.room(relay, tenant, ds);
      for (int m = 0; m < members; m++) {
        Fixtures.Device d = ds.get(m);
        String token = relay.context().jwt().issue(new Principal(tenant, d.id(), "agent")).token();
        Member mem = new Member(room, d.id(), m < sendersPerRoom, o.containsKey("fanout-only") ? Integer.MAX_VALUE : ackBatch,
            payloadBytes, window);
        if (nio != null) {
          mem.connect(nio, relay.webSocketUrl(), token);
        } else {
          mem.connect(clients.get(all.size() % clients.size()), relay.webSocketUrl(), token);
        }
        all.add(mem);
        if (mem.sender) {
          senders.add(mem);
        }
      }
    }
    System.out.printf("%nscenario: %d rooms x %d members (%d sockets, %s client), %d sender(s)/room, window %d,"
        + " payload %d B, ack batch %d or %d ms, %d s measured after %d s warm-up%n", rooms, members, all.size(),
        nio != null ? "NIO" : "JDK", sendersPerRoom, window, payloadBytes, ackBatch, num("ack-ms", 1000), seconds,
        warmup);
    boolean fanoutOnly = o.containsKey("fanout-only");
    int ackMs = fanoutOnly ? 3_600_000 : num("ack-ms", 1000);
    var flusher = timer.scheduleAtFixedRate(() -> all.forEach(Member::flushAcks), ackMs, ackMs, TimeUnit.MILLISECONDS);
    running = true;
    Thread publisher = null;
    if (fanoutOnly) {
      publisher = fanoutPublisher(tenant, all, members, Integer.parseInt(o.get("fanout-only")), payloadBytes);
    } else {
      for (Member s : senders) {
        s.start();
      }
    }
    Thread.sleep(warmup * 1000L);
    long d0 = deliveries.sum();
    long s0 = sends.sum();
    latency.reset();
    Map<String, Long> cpu0 = threadCpu();
    long[] sys0 = machineCpu();
    timeline = Boolean.parseBoolean(o.getOrDefault("timeline", "false"));
    lastSecond.reset();
    measuring = true;
    long t0 = System.nanoTime();
    if (timeline) { // one line per second: where in the run the slow deliveries are
      long dPrev = d0;
      for (int i = 1; i <= seconds; i++) {
        Thread.sleep(Math.max(0, t0 + i * 1_000_000_000L - System.nanoTime()) / 1_000_000L);
        long dNow = deliveries.sum();
        System.out.printf("    %s second %2d: deliveries %,7d  p50 %5.1f ms  p99 %5.1f ms  max %6.1f ms%n",
            java.time.LocalTime.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), i, dNow - dPrev,
            lastSecond.percentile(0.50) / 1000.0, lastSecond.percentile(0.99) / 1000.0, lastSecond.max() / 1000.0);
        lastSecond.reset();
        dPrev = dNow;
      }
    } else {
      Thread.sleep(seconds * 1000L);
    }
    measuring = false;
    double secs = (System.nanoTime() - t0) / 1e9;
    Map<String, Long> cpu1 = threadCpu();
    long[] sys1 = machineCpu();
    long d = deliveries.sum() - d0;
    long s = sends.sum() - s0;
    running = false;
    if (publisher != null) {
      publisher.join();
    }
    Thread.sleep(1000);
    flusher.cancel(false);
    for (Member m : all) {
      m.close();
    }
    System.out.printf("  deliveries/s %,.0f   messages/s %,.0f   latency p50 %.1f ms  p99 %.1f ms  max %.1f ms"
        + "   errors %d%n", d / secs, s / secs, latency.percentile(0.50) / 1000.0, latency.percentile(0.99) / 1000.0,
        latency.max() / 1000.0, errors.sum());
    if (fanoutOnly) { // every published frame reaches every other member: the client counts them all
      System.out.printf("  whole run: %,d frames published x %d recipients = %,d expected, %,d received%n",
          sends.sum(), members - 1, sends.sum() * (members - 1), deliveries.sum());
    }
    // where the CPU went: this JVM's threads by pool (server: Jetty; client: the JDK HttpClients), the machine
    StringBuilder b = new StringBuilder("  CPU, cores busy:");
    cpu1.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - cpu0.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() / 1e9 / secs >= 0.02)
        .sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
        .forEach(e -> b.append(String.format(" %s %.2f,", e.getKey(), e.getValue() / 1e9 / secs)));
    if (sys0 != null && sys1 != null) {
      double ticks = 100.0; // USER_HZ
      b.append(String.format(" | machine %.2f of %d", (sys1[0] - sys0[0]) / ticks / secs,
          Runtime.getRuntime().availableProcessors()));
    }
    System.out.println(b);
    if (!fanoutOnly) {
      tableStats();
    }
  }

  /** Row counters of deliveries since the relay started: inserted, deleted (acknowledged), vacuumed. */
  private void tableStats() throws Exception {
    Thread.sleep(1200); // backends report their counters at most once a second
    try {
      tableStats0();
    } catch (java.sql.SQLException e) {
      System.out.println("  (table statistics unavailable: " + e.getMessage() + ")");
    }
  }

  private void tableStats0() throws java.sql.SQLException {
    relay.database().asAdmin(null, c -> {
      try (var rs = c.createStatement().executeQuery("select n_tup_ins, n_tup_del, n_live_tup, n_dead_tup,"
          + " autovacuum_count, pg_relation_size('deliveries') / 8192 from pg_stat_user_tables"
          + " where relname = 'deliveries'")) {
        if (rs.next()) {
          System.out.printf("  deliveries table so far: %,d inserted, %,d deleted (acknowledged); now %,d live,"
              + " %,d dead rows; %d autovacuums; %,d pages%n",
              rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6));
        }
      }
      if ("true".equals(o.get("pg-stats"))) {
        statementStats(c);
      }
      // the one read path (Store.pending) for some device: which index it uses
      try (var rs = c.createStatement().executeQuery("explain select m.id from deliveries d join messages m"
          + " on m.id = d.message_id where d.recipient_device_id = (select recipient_device_id from deliveries"
          + " limit 1) and d.message_id > 0 order by d.message_id limit 100")) {
        StringBuilder plan = new StringBuilder("  pending-read plan:");
        while (rs.next()) {
          String l = rs.getString(1).trim();
          if (l.contains("Scan")) {
            plan.append(" | ").append(l.replaceAll("\\s+\\(cost=.*", ""));
          }
        }
        System.out.println(plan);
      }
      return null;
    });
  }

  /**
   * {@code --pg-stats true}: the relay's statements by execution time since the last scenario (warm-up
   * included), per call and per row. Execution only: parse, bind, commit and WAL flush are not in it.
   */
  private static void statementStats(java.sql.Connection c) throws java.sql.SQLException {
    try (var rs = c.createStatement().executeQuery("select calls, rows, total_exec_time, wal_bytes,"
        + " left(regexp_replace(query, '\\s+', ' ', 'g'), 90) from pg_stat_statements"
        + " where query not like '%pg_stat_statements%' order by total_exec_time desc limit 6")) {
      System.out.println("  statements (pg_stat_statements, execution time since the last scenario):");
      while (rs.next()) {
        long calls = rs.getLong(1);
        long rows = rs.getLong(2);
        double ms = rs.getDouble(3);
        System.out.printf("    %8.0f ms %8d calls %9d rows %8.1f us/row %7.0f B WAL/row  %s%n", ms, calls, rows,
            rows == 0 ? 0 : ms * 1000 / rows, rows == 0 ? 0 : rs.getDouble(4) / rows, rs.getString(5));
      }
    }
    c.createStatement().execute("select pg_stat_statements_reset()");
  }

  /** CPU nanoseconds per thread group (thread name without digits). */
  private static Map<String, Long> threadCpu() {
    var mx = java.lang.management.ManagementFactory.getThreadMXBean();
    Map<String, Long> m = new HashMap<>();
    for (long id : mx.getAllThreadIds()) {
      var info = mx.getThreadInfo(id);
      long t = mx.getThreadCpuTime(id);
      if (info != null && t > 0) {
        m.merge(info.getThreadName().replaceAll("[0-9]+", "N"), t, Long::sum);
      }
    }
    // threads the JVM hides from ThreadMXBean (JIT compilers, GC), and the database's processes
    m.putAll(procCpu());
    return m;
  }

  /**
   * From /proc (Linux; empty elsewhere): CPU nanoseconds of this JVM's JIT compiler and GC threads,
   * which ThreadMXBean does not list, and of every process named postgres (the embedded database).
   */
  private static Map<String, Long> procCpu() {
    Map<String, Long> m = new HashMap<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        String comm = readQuietly(t.resolve("comm"));
        String group = comm.contains("CompilerThre") ? "JIT compiler" : comm.startsWith("GC Thread")
            || comm.startsWith("G1 ") ? "GC" : null;
        if (group != null) {
          m.merge(group, jiffies(readQuietly(t.resolve("stat"))), Long::sum);
        }
      }
    } catch (Exception e) {
      return Map.of();
    }
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        if (p.getFileName().toString().chars().allMatch(Character::isDigit)
            && readQuietly(p.resolve("comm")).equals("postgres")) {
          m.merge("postgres (all processes)", jiffies(readQuietly(p.resolve("stat"))), Long::sum);
        }
      }
    } catch (Exception e) {
      // no postgres figure
    }
    return m;
  }

  private static String readQuietly(Path p) {
    try {
      return Files.readString(p).trim();
    } catch (Exception e) {
      return "";
    }
  }

  /** utime + stime of a /proc stat line (fields 14 and 15; the command name may hold spaces), in ns. */
  private static long jiffies(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      return 0;
    }
    String[] f = stat.substring(close + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L; // USER_HZ 100
  }

  /** Busy jiffies of the whole machine (user + nice + system + irq + softirq), from /proc/stat. */
  private static long[] machineCpu() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      return new long[] {Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
          + Long.parseLong(f[7])};
    } catch (Exception e) {
      return null;
    }
  }

  /** One member's socket: sends (if a sender), receives, acknowledges in batches. */
  private final class Member implements WebSocket.Listener {
    final UUID room;
    final UUID device;
    final boolean sender;
    final int ackBatch;
    final int window;
    final String payload;
    private WebSocket ws;
    private NioWebSocketClient.Conn conn;
    private final StringBuilder partial = new StringBuilder();
    private final List<Long> toAck = new ArrayList<>();
    private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);
    private final AtomicLong seq = new AtomicLong();

    Member(UUID room, UUID device, boolean sender, int ackBatch, int payloadBytes, int window) {
      this.room = room;
      this.device = device;
      this.sender = sender;
      this.ackBatch = ackBatch;
      this.window = window;
      byte[] p = new byte[payloadBytes];
      ThreadLocalRandom.current().nextBytes(p);
      this.payload = Base64.getEncoder().encodeToString(p);
    }

    void connect(HttpClient client, String url, String token) {
      ws = client.newWebSocketBuilder().header("Authorization", "Bearer " + token)
          .buildAsync(URI.create(url), this).join();
    }

    void connect(NioWebSocketClient client, String url, String token) throws java.io.IOException {
      conn = client.connect(URI.create(url), token, this::onBytes);
    }

    /** The NIO client's text message, as bytes: the same handling as {@link #onFrame}, without a String. */
    private void onBytes(byte[] a, int from, int to) {
      long now = System.nanoTime();
      if (startsWith(a, from, to, PREFIX_B)) {
        long id = digits(a, from + PREFIX_B.length, to);
        int t = indexOf(a, from + PREFIX_B.length, to, CMID_B);
        if (t > 0) {
          delivered(now, digits(a, t + CMID_B.length, to));
        }
        queueAck(id);
      } else if (startsWith(a, from, to, SENT_B)) {
        sends.increment();
        sendOne();
      } else if (startsWith(a, from, to, ERROR_B)) {
        onError(new String(a, from, to - from, java.nio.charset.StandardCharsets.UTF_8));
      }
    }

    private void delivered(long now, long sentAt) {
      deliveries.increment();
      if (measuring) {
        latency.record((now - sentAt) / 1000);
        if (timeline) {
          lastSecond.record((now - sentAt) / 1000);
        }
      }
    }

    private void queueAck(long id) {
      boolean flush;
      synchronized (toAck) {
        toAck.add(id);
        flush = toAck.size() >= ackBatch;
      }
      if (flush) {
        flushAcks();
      }
    }

    private void onError(String f) {
      errors.increment();
      if (errors.sum() < 5) {
        System.out.println("  error frame: " + f);
      }
      if (sender) {
        sendOne();
      }
    }

    void start() {
      for (int i = 0; i < window; i++) {
        sendOne();
      }
    }

    void sendOne() {
      if (!running) {
        return;
      }
      String frame = "{\"type\":\"send\",\"room_id\":\"" + room + "\",\"message_type\":\"application\","
          + "\"content_type\":\"application/octet-stream\",\"client_message_id\":\"t" + System.nanoTime() + "-"
          + seq.incrementAndGet() + "\",\"payload\":\"" + payload + "\"}";
      write(frame);
    }

    synchronized void write(String text) {
      if (conn != null) {
        try {
          conn.sendText(text);
        } catch (java.io.IOException e) {
          errors.increment();
        }
        return;
      }
      tail = tail.thenCompose(x -> ws.sendText(text, true)).exceptionally(e -> {
        errors.increment();
        return null;
      });
    }

    void flushAcks() {
      List<Long> ids;
      synchronized (toAck) {
        if (toAck.isEmpty()) {
          return;
        }
        ids = new ArrayList<>(toAck);
        toAck.clear();
      }
      StringBuilder b = new StringBuilder("{\"type\":\"ack\",\"message_ids\":[");
      for (int i = 0; i < ids.size(); i++) {
        b.append(i == 0 ? "" : ",").append(ids.get(i));
      }
      write(b.append("]}").toString());
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      String f;
      if (last && partial.length() == 0) {
        f = data.toString();
      } else {
        partial.append(data);
        if (!last) {
          webSocket.request(1);
          return null;
        }
        f = partial.toString();
        partial.setLength(0);
      }
      onFrame(f);
      webSocket.request(1);
      return null;
    }

    private void onFrame(String f) {
      long now = System.nanoTime();
      if (f.startsWith(PREFIX)) {
        long id = digits(f, PREFIX.length());
        int t = f.indexOf("\"client_message_id\":\"t");
        if (t > 0) {
          delivered(now, digits(f, t + "\"client_message_id\":\"t".length()));
        }
        queueAck(id);
      } else if (f.startsWith("{\"type\":\"sent\"")) {
        sends.increment();
        sendOne();
      } else if (f.startsWith("{\"type\":\"error\"")) {
        onError(f);
      }
    }

    void close() {
      if (conn != null) {
        conn.close();
        return;
      }
      try {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // gone
      }
      ws.abort();
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      errors.increment();
    }
  }

  /** The minimum of a message service: for measuring the WebSocket layer before MessageService exists. */
  private static final class StubMessages implements chat.agentvault.relay.message.MessageApi {
    private final TestRelay relay;

    StubMessages(TestRelay relay) {
      this.relay = relay;
    }

    @Override
    public com.fasterxml.jackson.databind.node.ObjectNode submit(Principal p, chat.agentvault.relay.http.JsonBody b) {
      UUID room = b.uuid("room_id");
      byte[] payload = b.bytes("payload", relay.config().maxPayloadBytes());
      try {
        chat.agentvault.relay.message.Store.Stored s = relay.database().inTenant(p.tenant(), c -> {
          List<UUID> to = new ArrayList<>();
          try (var q = c.prepareStatement(
              "select device_id from room_members where room_id = ? and status = 'joined' and device_id <> ?")) {
            q.setObject(1, room);
            q.setObject(2, p.device());
            var rs = q.executeQuery();
            while (rs.next()) {
              to.add(rs.getObject(1, UUID.class));
            }
          }
          return chat.agentvault.relay.message.Store.insert(c, p.tenant(), p.device(), room, null,
              b.string("message_type"), b.string("content_type"), b.string("client_message_id"), null, payload, to);
        });
        chat.agentvault.relay.message.Store.publish(relay.context().fanout(), List.of(s));
        return chat.agentvault.relay.http.JsonBody.object().put("message_id", s.id()).put("duplicate", false);
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public int ack(Principal p, List<Long> ids) {
      try {
        return relay.database().inTenant(p.tenant(),
            c -> chat.agentvault.relay.message.Store.ack(c, p.device(), ids));
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static final byte[] PREFIX_B = PREFIX.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] CMID_B = "\"client_message_id\":\"t".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] SENT_B = "{\"type\":\"sent\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] ERROR_B = "{\"type\":\"error\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private static boolean startsWith(byte[] a, int from, int to, byte[] p) {
    if (to - from < p.length) {
      return false;
    }
    for (int i = 0; i < p.length; i++) {
      if (a[from + i] != p[i]) {
        return false;
      }
    }
    return true;
  }

  /** First index of {@code p} in {@code a[from, to)}, or -1 (naive: the field is near the start). */
  private static int indexOf(byte[] a, int from, int to, byte[] p) {
    outer:
    for (int i = from; i <= to - p.length; i++) {
      for (int j = 0; j < p.length; j++) {
        if (a[i + j] != p[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static long digits(byte[] a, int i, int to) {
    long v = 0;
    while (i < to) {
      byte c = a[i++];
      if (c < '0' || c > '9') {
        break;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static long digits(String s, int i) {
    long v = 0;
    while (i < s.length()) {
      char c = s.charAt(i++);
      if (c < '0' || c > '9') {
        break;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  /** Microsecond latencies: 1 µs buckets to 10 ms, then 100 µs buckets to 10 s. */
  static final class Histogram {
    private final AtomicLongArray fine = new AtomicLongArray(10_000);
    private final AtomicLongArray coarse = new AtomicLongArray(100_000);
    private final AtomicLong max = new AtomicLong();

    void record(long micros) {
      if (micros < 0) {
        micros = 0;
      }
      if (micros < 10_000) {
        fine.incrementAndGet((int) micros);
      } else {
        coarse.incrementAndGet((int) Math.min(99_999, micros / 100));
      }
      max.accumulateAndGet(micros, Math::max);
    }

    void reset() {
      for (int i = 0; i < fine.length(); i++) {
        fine.set(i, 0);
      }
      for (int i = 0; i < coarse.length(); i++) {
        coarse.set(i, 0);
      }
      max.set(0);
    }

    long max() {
      return max.get();
    }

    long percentile(double q) {
      long total = 0;
      for (int i = 0; i < fine.length(); i++) {
        total += fine.get(i);
      }
      for (int i = 100; i < coarse.length(); i++) {
        total += coarse.get(i);
      }
      long rank = (long) Math.ceil(q * total);
      long seen = 0;
      for (int i = 0; i < fine.length(); i++) {
        seen += fine.get(i);
        if (seen >= rank && rank > 0) {
          return i;
        }
      }
      for (int i = 100; i < coarse.length(); i++) {
        seen += coarse.get(i);
        if (seen >= rank) {
          return i * 100L;
        }
      }
      return max.get();
    }
  }
}
