package chat.agentvault.relay;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.relay.auth.AuthRoutes;
import chat.agentvault.relay.auth.Authenticator;
import chat.agentvault.relay.auth.Jwt;
import chat.agentvault.relay.db.Database;
import chat.agentvault.relay.db.EmbeddedDatabase;
import chat.agentvault.relay.enroll.InviteToken;
import chat.agentvault.relay.fanout.Fanout;
import chat.agentvault.relay.fanout.LocalFanout;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.http.Responses;
import chat.agentvault.relay.keys.KeyRoutes;
import chat.agentvault.relay.message.MessageRetention;
import chat.agentvault.relay.message.MessageRoutes;
import chat.agentvault.relay.message.MessageService;
import chat.agentvault.relay.room.RoomRoutes;
import chat.agentvault.relay.ws.WebSocketEndpoint;
import io.javalin.Javalin;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BiConsumer;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A relay running in this process: an HTTP + WebSocket server on its own port, on an embedded or
 * external PostgreSQL. {@code TestRelay.start()} gives a throwaway relay on a free port (a
 * temporary data directory, deleted on close) for other modules' tests ({@link TestRelayExtension}
 * starts and closes one per test class); {@link #start(RelayConfig)} runs a configured one (what
 * {@link RelayMain} does).
 */
public final class TestRelay implements AutoCloseable {
  public static final String VERSION = "0.1.0";
  private static final Logger LOG = LoggerFactory.getLogger(TestRelay.class);

  /** Route registrations of the feature packages, in order (see {@link #routes()}). */
  private static final List<BiConsumer<io.javalin.config.RoutesConfig, RelayContext>> FEATURES = routes();

  private final RelayConfig config;
  private final EmbeddedDatabase embedded;
  private final Database db;
  private final RelayContext rc;
  private final Javalin app;
  private final Path tempDir;
  private final Authenticator authenticator;

  private TestRelay(RelayConfig config, EmbeddedDatabase embedded, Database db, RelayContext rc,
      Javalin app, Path tempDir, Authenticator authenticator) {
    this.config = config;
    this.embedded = embedded;
    this.db = db;
    this.rc = rc;
    this.app = app;
    this.tempDir = tempDir;
    this.authenticator = authenticator;
  }

  /** A throwaway relay: embedded PostgreSQL in a temporary directory, a free port on 127.0.0.1. */
  public static TestRelay start() {
    try {
      Path dir = Files.createTempDirectory("agentvault-relay-");
      return start(RelayConfig.builder().dataDir(dir).build(), dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A relay as configured. */
  public static TestRelay start(RelayConfig config) {
    return start(config, null);
  }

  private static TestRelay start(RelayConfig config, Path tempDir) {
    EmbeddedDatabase embedded = null;
    Database db = null;
    Fanout fanout = null;
    try {
      String url;
      String adminUser = config.adminUser();
      String adminPassword = config.adminPassword();
      String appPassword = config.appPassword();
      if (config.jdbcUrl().isPresent()) {
        url = config.jdbcUrl().get();
        if (appPassword == null) {
          throw new IllegalStateException("an external database needs appCredentials(user, password)");
        }
      } else {
        embedded = EmbeddedDatabase.start(config.dataDir().resolve("pg"));
        url = "jdbc:postgresql://localhost:" + embedded.port() + "/postgres";
        adminUser = "postgres";
        adminPassword = "";
        if (appPassword == null) {
          appPassword = Base64Url.encode(Csprng.randomBytes(24)); // embedded: local trust auth; still set one
        }
      }
      db = Database.open(url, adminUser, adminPassword, config.appUser(), appPassword, config.poolSize());
      Jwt jwt = new Jwt(jwtSecret(config), config.clock(), config.tokenLifetime());
      fanout = Fanouts.create(config);
      RelayContext rc = new RelayContext(config, db, jwt, fanout);
      rc.messages(new MessageService(rc));
      rc.retention(new MessageRetention(db, config.messageRetention(), config.retentionSweepInterval()));
      Authenticator authn = new Authenticator(rc);
      Javalin app = server(config, rc, authn);
      app.start(config.host(), config.port());
      TestRelay relay = new TestRelay(config, embedded, db, rc, app, tempDir, authn);
      if (config.bootstrapTenant()) {
        relay.bootstrapIfEmpty();
      }
      LOG.info("relay {} listening on {}:{} ({})", VERSION, config.host(), app.port(), config);
      return relay;
    } catch (IOException | SQLException | RuntimeException e) {
      if (fanout != null) {
        fanout.close();
      }
      if (db != null) {
        db.close();
      }
      if (embedded != null) {
        try {
          embedded.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e instanceof RuntimeException r ? r : new IllegalStateException("relay failed to start: " + e.getMessage(), e);
    }
  }

  private static byte[] jwtSecret(RelayConfig config) throws IOException {
    if (config.jwtSecret().isPresent()) {
      return config.jwtSecret().get();
    }
    if (config.dataDir() == null) {
      return Csprng.randomBytes(32); // one instance, tokens die with it
    }
    Path f = config.dataDir().resolve("jwt.key");
    if (Files.exists(f)) {
      return Files.readAllBytes(f);
    }
    byte[] k = Csprng.randomBytes(32);
    Files.createDirectories(config.dataDir());
    Files.write(f, k);
    try {
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system
    }
    return k;
  }

  private static Javalin server(RelayConfig config, RelayContext rc, Authenticator authn) {
    return Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      // Jetty's pool, sized by the config (RelayConfig#httpThreads: Javalin's default is 250)
      QueuedThreadPool threads = new QueuedThreadPool(config.httpThreads(), 4, 60_000); // at most, at least, idle ms
      threads.setName("relay-http");
      cfg.jetty.threadPool = threads;
      cfg.http.maxRequestSize = config.maxBodyBytes();
      cfg.jetty.modifyWebSocketServletFactory(f -> {
        f.setMaxTextMessageSize(config.maxFrameBytes());
        f.setMaxBinaryMessageSize(config.maxFrameBytes());
        f.setIdleTimeout(Duration.ofMinutes(2));
        // frames queued in batch mode (the fan-out, WebSocketEndpoint#frames) are aggregated into
        // this buffer and written together; Jetty aggregates only frames under a quarter of it
        f.setOutputBufferSize(64 * 1024);
      });
      var r = cfg.routes;
      r.exception(ApiException.class, (e, ctx) -> Responses.json(ctx, e.status(), e.body()));
      r.exception(HttpResponseException.class, (e, ctx) -> Responses.error(ctx, e.getStatus(), e.getMessage()));
      r.exception(SQLException.class, (e, ctx) -> {
        LOG.error("database error on {} {}: {} (SQLState {})", ctx.method(), ctx.path(), e.getMessage(), e.getSQLState());
        Responses.error(ctx, 503, "database unavailable");
      });
      r.exception(Exception.class, (e, ctx) -> {
        LOG.error("internal error on {} {}", ctx.method(), ctx.path(), e);
        Responses.error(ctx, 500, "internal error");
      });
      r.error(404, ctx -> {
        if (ctx.result() == null || ctx.result().isEmpty()) {
          Responses.error(ctx, 404, "not found");
        }
      });
      r.error(405, ctx -> Responses.error(ctx, 405, "method not allowed"));
      r.before("/api/v1/*", authn::handle);
      r.get("/health", ctx -> Responses.json(ctx, 200, JsonBody.object()
          .put("status", "ok").put("version", VERSION)));
      AuthRoutes.register(r, rc);
      WebSocketEndpoint ws = WebSocketEndpoint.register(r, rc, authn);
      cfg.events.serverStopping(ws::closeAll); // 1001 to every socket before Jetty stops
      for (var feature : FEATURES) {
        feature.accept(r, rc);
      }
    });
  }

  /**
   * The feature packages' routes. Each package owns its endpoints; this list is the one place that
   * knows them all.
   */
  private static List<BiConsumer<io.javalin.config.RoutesConfig, RelayContext>> routes() {
    List<BiConsumer<io.javalin.config.RoutesConfig, RelayContext>> l = new ArrayList<>();
    l.add(chat.agentvault.relay.enroll.InviteRoutes::register);
    l.add(chat.agentvault.relay.enroll.EnrollRoutes::register);
    l.add(chat.agentvault.relay.device.DeviceRoutes::register);
    l.add(KeyRoutes::register);
    l.add(RoomRoutes::register);
    l.add(MessageRoutes::register);
    return l;
  }

  /** A new tenant and the one-time token its first owner enrolls with (valid 24 hours). */
  public TenantBootstrap createTenant(String name) {
    UUID tenant = UUID.randomUUID();
    String token = InviteToken.generate(tenant);
    try {
      db.asAdmin(tenant, c -> {
        try (PreparedStatement p = c.prepareStatement("insert into tenants (id, name) values (?, ?)")) {
          p.setObject(1, tenant);
          p.setString(2, name);
          p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement(
            "insert into invites (tenant_id, id, token_hash, role, auto_approve, expires_at)"
                + " values (?, ?, ?, 'owner', true, ?)")) {
          p.setObject(1, tenant);
          p.setObject(2, UUID.randomUUID());
          p.setBytes(3, InviteToken.hash(token));
          p.setTimestamp(4, Timestamp.from(config.clock().instant().plus(Duration.ofHours(24))));
          p.executeUpdate();
        }
        return null;
      });
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create tenant: " + e.getMessage(), e);
    }
    return new TenantBootstrap(tenant, token);
  }

  private void bootstrapIfEmpty() throws SQLException {
    boolean empty = db.asAdmin(null, c -> {
      try (var s = c.createStatement()) {
        return !s.executeQuery("select 1 from tenants limit 1").next();
      }
    });
    if (empty) {
      TenantBootstrap b = createTenant("default");
      // Printed once, on purpose, to the console only (not to the log): the owner enrolls with it.
      System.out.println("AgentVault relay: first start. Tenant " + b.tenantId()
          + ". Owner bootstrap token (single use, 24 h): " + b.ownerToken());
    }
  }

  /** A tenant's id and its first owner's single-use enrollment token. */
  public record TenantBootstrap(UUID tenantId, String ownerToken) {
    @Override
    public String toString() {
      return "TenantBootstrap[tenantId=" + tenantId + "]";
    }
  }

  public int port() {
    return app.port();
  }

  /** {@code http://host:port}. */
  public String baseUrl() {
    return "http://" + config.host() + ":" + port();
  }

  /** {@code ws://host:port/ws}. */
  public String webSocketUrl() {
    return "ws://" + config.host() + ":" + port() + "/ws";
  }

  public RelayConfig config() {
    return config;
  }

  /** The JDBC URL of the database (for tests that inspect it as the application role). */
  public Database database() {
    return db;
  }

  RelayContext context() {
    return rc;
  }

  @Override
  public void close() {
    try {
      app.stop();
    } finally {
      if (rc.messages() instanceof AutoCloseable m) {
        try {
          m.close();
        } catch (Exception e) {
          LOG.warn("message service did not close cleanly: {}", e.toString());
        }
      }
      if (rc.retention() != null) {
        rc.retention().close();
      }
      rc.fanout().close();
      db.close();
      if (embedded != null) {
        try {
          embedded.close();
        } catch (IOException e) {
          LOG.warn("embedded PostgreSQL did not stop cleanly: {}", e.toString());
        }
      }
      if (tempDir != null) {
        deleteTree(tempDir);
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", dir, e.toString());
    }
  }

  private static final class Base64Url {
    static String encode(byte[] b) {
      return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
  }
}
