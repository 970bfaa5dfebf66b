package chat.agentvault.relay;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The relay's command line: {@code java -jar test-relay-VERSION-all.jar serve [options]} and
 * {@code create-tenant NAME [options]}. Every option can also come from the environment as
 * {@code AGENTVAULT_} + its name in upper case with underscores ({@code --data-dir} =
 * {@code AGENTVAULT_DATA_DIR}); the flag wins. Passwords are better given through the environment
 * (the command line is visible to every user of the machine).
 *
 * <p>Without {@code --jdbc-url} the relay starts an embedded PostgreSQL in {@code DATA_DIR/pg}
 * (default {@code ./agentvault-data}), so it runs on a bare machine; a data directory is locked by the
 * process using it.
 */
public final class RelayMain {
  private static final Set<String> VALUED = Set.of("data-dir", "port", "host", "jdbc-url", "db-admin-user",
      "db-admin-password", "db-app-user", "db-app-password", "redis-url", "jwt-secret-file",
      "message-retention-hours", "http-threads");
  private static final Set<String> SWITCHES = Set.of("bootstrap");
  /** 100 years. */
  static final long MAX_RETENTION_HOURS = 876_000;

  private RelayMain() {}

  public static void main(String[] args) {
    try {
      int status = run(args, System.out, System.err, System.getenv());
      if (status != SERVING) {
        System.exit(status);
      }
    } catch (Usage u) {
      System.err.println("error: " + u.getMessage());
      System.err.println(USAGE);
      System.exit(2);
    }
  }

  static final String USAGE = String.join("\n",
      "usage: java -jar test-relay-VERSION-all.jar serve [options]",
      "       java -jar test-relay-VERSION-all.jar create-tenant NAME [options]",
      "options (or environment AGENTVAULT_<NAME>):",
      "  --data-dir DIR            embedded PostgreSQL and the generated JWT key (default ./agentvault-data)",
      "  --host HOST               listen address (default 127.0.0.1)",
      "  --port N                  listen port (default 8080; 0 picks a free one)",
      "  --jdbc-url URL            use this PostgreSQL instead of the embedded one",
      "  --db-admin-user U         role that owns the schema and runs migrations (default postgres)",
      "  --db-admin-password P     (prefer AGENTVAULT_DB_ADMIN_PASSWORD)",
      "  --db-app-user U           login role requests run as (default agentvault_app)",
      "  --db-app-password P       (prefer AGENTVAULT_DB_APP_PASSWORD; required with --jdbc-url)",
      "  --redis-url URL           redis://host:port: fan out across instances on one database",
      "  --jwt-secret-file FILE    HS256 key (>= 32 bytes) shared by the instances of a deployment",
      "  --message-retention-hours N  delete a message N hours after it was sent once every",
      "                            recipient acknowledged it (default 24; unacknowledged ones are kept)",
      "  --http-threads N          the HTTP server's threads, which read every socket and run the",
      "                            handlers (default 32, or 8 per core above 4 cores: " + RelayConfig.defaultHttpThreads() + " here)",
      "  --bootstrap               create a first tenant when there is none and print its owner token");

  /** What {@link #run} returns for a relay that now serves (until the process is stopped). */
  static final int SERVING = -1;

  /** Runs a command; returns its exit status, or {@link #SERVING}. */
  static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    if (args.length == 0) {
      throw new Usage("missing command");
    }
    String command = args[0];
    List<String> positional = new ArrayList<>();
    Map<String, String> opts = parse(args, positional, env);
    switch (command) {
      case "serve" -> {
        if (!positional.isEmpty()) {
          throw new Usage("serve takes no arguments: " + positional);
        }
        RelayConfig config = config(opts, 8080);
        FileLock lock = lock(config);
        TestRelay relay = TestRelay.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          relay.close();
          release(lock);
        }, "relay-shutdown"));
        out.println("AgentVault relay " + TestRelay.VERSION + " listening on " + relay.baseUrl());
        out.flush();
        return SERVING;
      }
      case "create-tenant" -> {
        if (positional.size() != 1) {
          throw new Usage("create-tenant takes one NAME");
        }
        Map<String, String> o = new HashMap<>(opts);
        o.put("port", "0");
        o.put("host", "127.0.0.1");
        o.remove("bootstrap");
        RelayConfig config = config(o, 0);
        FileLock lock = lock(config);
        try (TestRelay relay = TestRelay.start(config)) {
          TestRelay.TenantBootstrap b = relay.createTenant(positional.get(0));
          out.println("tenant " + b.tenantId());
          out.println("owner bootstrap token (single use, 24 h): " + b.ownerToken());
          return 0;
        } finally {
          release(lock);
        }
      }
      case "help", "--help", "-h" -> {
        out.println(USAGE);
        return 0;
      }
      default -> throw new Usage("unknown command: " + command);
    }
  }

  private static Map<String, String> parse(String[] args, List<String> positional, Map<String, String> env) {
    Map<String, String> o = new HashMap<>();
    for (String name : VALUED) {
      String v = env.get(envName(name));
      if (v != null && !v.isEmpty()) {
        o.put(name, v);
      }
    }
    for (String name : SWITCHES) {
      String v = env.get(envName(name));
      if (v != null && (v.equals("1") || v.equalsIgnoreCase("true"))) {
        o.put(name, "true");
      }
    }
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        positional.add(a);
        continue;
      }
      String name = a.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      if (SWITCHES.contains(name)) {
        o.put(name, "true");
      } else if (VALUED.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.length) {
            throw new Usage("--" + name + " needs a value");
          }
          value = args[++i];
        }
        o.put(name, value);
      } else {
        throw new Usage("unknown option --" + name);
      }
    }
    return o;
  }

  private static String envName(String option) {
    return "AGENTVAULT_" + option.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  static RelayConfig config(Map<String, String> o, int defaultPort) {
    RelayConfig.Builder b = RelayConfig.builder();
    b.host(o.getOrDefault("host", "127.0.0.1"));
    try {
      b.port(Integer.parseInt(o.getOrDefault("port", Integer.toString(defaultPort))));
    } catch (NumberFormatException e) {
      throw new Usage("--port must be a number");
    }
    String jdbc = o.get("jdbc-url");
    if (o.containsKey("data-dir") || jdbc == null) {
      b.dataDir(Paths.get(o.getOrDefault("data-dir", "agentvault-data")).toAbsolutePath());
    }
    if (jdbc != null) {
      b.jdbcUrl(jdbc);
      b.adminCredentials(o.getOrDefault("db-admin-user", "postgres"), o.getOrDefault("db-admin-password", ""));
      if (!o.containsKey("db-app-password")) {
        throw new Usage("an external database needs --db-app-password (or AGENTVAULT_DB_APP_PASSWORD)");
      }
    }
    if (o.containsKey("db-app-password")) {
      b.appCredentials(o.getOrDefault("db-app-user", "agentvault_app"), o.get("db-app-password"));
    }
    if (o.containsKey("redis-url")) {
      b.redisUrl(o.get("redis-url"));
    }
    if (o.containsKey("jwt-secret-file")) {
      try {
        byte[] k = Files.readAllBytes(Paths.get(o.get("jwt-secret-file")));
        int n = k.length;
        while (n > 0 && (k[n - 1] == '\n' || k[n - 1] == '\r')) {
          n--;
        }
        b.jwtSecret(java.util.Arrays.copyOf(k, n));
      } catch (IOException e) {
        throw new Usage("cannot read --jwt-secret-file: " + e.getMessage());
      } catch (IllegalArgumentException e) {
        throw new Usage(e.getMessage());
      }
    } else if (jdbc != null && !o.containsKey("data-dir")) {
      throw new Usage("an external database needs --jwt-secret-file or --data-dir (where the key is kept)");
    }
    if (o.containsKey("message-retention-hours")) {
      try {
        long h = Long.parseLong(o.get("message-retention-hours"));
        if (h < 0 || h > MAX_RETENTION_HOURS) { // beyond it Duration's millisecond arithmetic can overflow
          throw new NumberFormatException();
        }
        b.messageRetention(java.time.Duration.ofHours(h));
      } catch (NumberFormatException e) {
        throw new Usage("--message-retention-hours must be a whole number of hours from 0 to " + MAX_RETENTION_HOURS);
      }
    }
    if (o.containsKey("http-threads")) {
      try {
        b.httpThreads(Integer.parseInt(o.get("http-threads")));
      } catch (IllegalArgumentException e) { // NumberFormatException too
        throw new Usage("--http-threads must be a whole number from " + RelayConfig.MIN_HTTP_THREADS + " to "
            + RelayConfig.MAX_HTTP_THREADS);
      }
    }
    b.bootstrapTenant(o.containsKey("bootstrap"));
    return b.build();
  }

  /** One process per data directory: a second one would stop the first one's PostgreSQL. */
  private static FileLock lock(RelayConfig config) {
    if (config.dataDir() == null) {
      return null;
    }
    try {
      Files.createDirectories(config.dataDir());
      FileChannel ch = FileChannel.open(config.dataDir().resolve("relay.lock"),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock l = ch.tryLock();
      if (l == null) {
        ch.close();
        throw new Usage("another relay is using " + config.dataDir() + "; stop it first");
      }
      return l;
    } catch (IOException e) {
      throw new Usage("cannot lock " + config.dataDir() + ": " + e.getMessage());
    }
  }

  private static void release(FileLock l) {
    if (l != null) {
      try {
        l.release();
        l.channel().close();
      } catch (IOException ignored) {
        // the OS releases it with the process
      }
    }
  }

  /** A command-line mistake: printed with the usage, exit status 2. */
  static final class Usage extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Usage(String m) {
      super(m, null, false, false);
    }
  }

}
