package chat.agentvault.relay;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a relay runs. Immutable; built with {@link #builder()}. Without a JDBC URL the relay starts
 * an embedded PostgreSQL in {@code dataDir/pg}; without a Redis URL it fans out within its own
 * process only.
 */
public final class RelayConfig {
  private final String host;
  private final int port;
  private final Path dataDir;
  private final String jdbcUrl;
  private final String adminUser;
  private final String adminPassword;
  private final String appUser;
  private final String appPassword;
  private final String redisUrl;
  private final byte[] jwtSecret;
  private final Duration tokenLifetime;
  private final Duration inviteLifetime;
  private final Duration challengeLifetime;
  private final long maxBodyBytes;
  private final int maxFrameBytes;
  private final int maxPayloadBytes;
  private final int requestsPerSecond;
  private final int publicRequestsPerSecond;
  private final int poolSize;
  private final int httpThreads;
  private final boolean bootstrapTenant;
  private final Clock clock;
  private final Duration messageRetention;
  private final Duration retentionSweepInterval;

  private RelayConfig(Builder b) {
    this.host = b.host;
    this.port = b.port;
    this.dataDir = b.dataDir;
    this.jdbcUrl = b.jdbcUrl;
    this.adminUser = b.adminUser;
    this.adminPassword = b.adminPassword;
    this.appUser = b.appUser;
    this.appPassword = b.appPassword;
    this.redisUrl = b.redisUrl;
    this.jwtSecret = b.jwtSecret == null ? null : b.jwtSecret.clone();
    this.tokenLifetime = b.tokenLifetime;
    this.inviteLifetime = b.inviteLifetime;
    this.challengeLifetime = b.challengeLifetime;
    this.maxBodyBytes = b.maxBodyBytes;
    this.maxFrameBytes = b.maxFrameBytes;
    this.maxPayloadBytes = b.maxPayloadBytes;
    this.requestsPerSecond = b.requestsPerSecond;
    this.publicRequestsPerSecond = b.publicRequestsPerSecond;
    this.poolSize = b.poolSize;
    this.httpThreads = b.httpThreads;
    this.bootstrapTenant = b.bootstrapTenant;
    this.clock = b.clock;
    this.messageRetention = b.messageRetention;
    this.retentionSweepInterval = b.retentionSweepInterval;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder newBuilder() {
    Builder b = new Builder();
    b.host = host;
    b.port = port;
    b.dataDir = dataDir;
    b.jdbcUrl = jdbcUrl;
    b.adminUser = adminUser;
    b.adminPassword = adminPassword;
    b.appUser = appUser;
    b.appPassword = appPassword;
    b.redisUrl = redisUrl;
    b.jwtSecret = jwtSecret == null ? null : jwtSecret.clone();
    b.tokenLifetime = tokenLifetime;
    b.inviteLifetime = inviteLifetime;
    b.challengeLifetime = challengeLifetime;
    b.maxBodyBytes = maxBodyBytes;
    b.maxFrameBytes = maxFrameBytes;
    b.maxPayloadBytes = maxPayloadBytes;
    b.requestsPerSecond = requestsPerSecond;
    b.publicRequestsPerSecond = publicRequestsPerSecond;
    b.poolSize = poolSize;
    b.httpThreads = httpThreads;
    b.bootstrapTenant = bootstrapTenant;
    b.clock = clock;
    b.messageRetention = messageRetention;
    b.retentionSweepInterval = retentionSweepInterval;
    return b;
  }

  public String host() { return host; }
  public int port() { return port; }
  /** Where the embedded database and the generated JWT key live; null with an external database and a given JWT secret. */
  public Path dataDir() { return dataDir; }
  public Optional<String> jdbcUrl() { return Optional.ofNullable(jdbcUrl); }
  public String adminUser() { return adminUser; }
  String adminPassword() { return adminPassword; }
  public String appUser() { return appUser; }
  String appPassword() { return appPassword; }
  public Optional<String> redisUrl() { return Optional.ofNullable(redisUrl); }
  Optional<byte[]> jwtSecret() { return Optional.ofNullable(jwtSecret).map(byte[]::clone); }
  public Duration tokenLifetime() { return tokenLifetime; }
  public Duration inviteLifetime() { return inviteLifetime; }
  public Duration challengeLifetime() { return challengeLifetime; }
  public long maxBodyBytes() { return maxBodyBytes; }
  public int maxFrameBytes() { return maxFrameBytes; }
  public int maxPayloadBytes() { return maxPayloadBytes; }
  public int requestsPerSecond() { return requestsPerSecond; }
  public int publicRequestsPerSecond() { return publicRequestsPerSecond; }
  public int poolSize() { return poolSize; }
  /**
   * The HTTP server's threads (at most): they read every socket, HTTP and WebSocket, and run the
   * request handlers, which block on the database pool ({@link #poolSize}). Default
   * {@link #defaultHttpThreads()}.
   */
  public int httpThreads() { return httpThreads; }

  /**
   * 32, or 8 per core on a machine with more than 4 cores. Not Javalin's 250: every thread of Jetty's
   * pool that ever started stays 60 s after its last job, and each job goes to the thread that has
   * waited longest (a FIFO condition queue), so the more threads a busy relay has started, the colder
   * the one that runs a read. Under the load generator the default pool had grown to 191 threads;
   * with 32, Jetty's threads used about 13 % less CPU per delivery, with 16 about 25 % less, but a
   * burst of frames (every recipient of a room acknowledging at once) then waits in the pool's queue
   * behind fewer threads (docs/benchmarks.md, relay, eighth round). Handlers that block wait for a
   * database connection ({@link #poolSize}) anyway.
   */
  public static int defaultHttpThreads() {
    return Math.max(32, 8 * Runtime.getRuntime().availableProcessors());
  }

  /** The fewest {@link #httpThreads} accepted: Jetty's acceptor and selector, reserved threads and workers. */
  public static final int MIN_HTTP_THREADS = 8;
  /** The most {@link #httpThreads} accepted. */
  public static final int MAX_HTTP_THREADS = 10_000;
  public boolean bootstrapTenant() { return bootstrapTenant; }
  public Clock clock() { return clock; }
  /** How long a message every recipient acknowledged is kept before the sweep deletes it. */
  public Duration messageRetention() { return messageRetention; }
  public Duration retentionSweepInterval() { return retentionSweepInterval; }

  @Override
  public String toString() {
    // no passwords, no JWT secret
    return "RelayConfig{host=" + host + ", port=" + port + ", dataDir=" + dataDir
        + ", database=" + (jdbcUrl == null ? "embedded" : "external") + ", redis=" + (redisUrl != null) + "}";
  }

  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 0;
    private Path dataDir;
    private String jdbcUrl;
    private String adminUser = "postgres";
    private String adminPassword = "";
    private String appUser = "agentvault_app";
    private String appPassword;
    private String redisUrl;
    private byte[] jwtSecret;
    private Duration tokenLifetime = Duration.ofMinutes(15);
    private Duration inviteLifetime = Duration.ofMinutes(10);
    private Duration challengeLifetime = Duration.ofMinutes(2);
    private long maxBodyBytes = 1 << 20;
    private int maxFrameBytes = 1 << 20;
    private int maxPayloadBytes = 512 * 1024;
    private int requestsPerSecond = 200;
    private int publicRequestsPerSecond = 100;
    private int poolSize = 16;
    private int httpThreads = defaultHttpThreads();
    private boolean bootstrapTenant = false;
    private Clock clock = Clock.systemUTC();
    private Duration messageRetention = Duration.ofHours(24);
    private Duration retentionSweepInterval = Duration.ofMinutes(10);

    private Builder() {}

    public Builder host(String host) { this.host = Objects.requireNonNull(host); return this; }
    /** 0 picks a free port. */
    public Builder port(int port) { this.port = port; return this; }
    public Builder dataDir(Path dataDir) { this.dataDir = dataDir; return this; }
    /** Use this PostgreSQL instead of the embedded one. */
    public Builder jdbcUrl(String url) { this.jdbcUrl = url; return this; }
    /** The role that owns the schema and runs migrations. */
    public Builder adminCredentials(String user, String password) {
      this.adminUser = Objects.requireNonNull(user);
      this.adminPassword = Objects.requireNonNull(password);
      return this;
    }
    /** The login role requests run as (created or updated at start; owns nothing, cannot bypass RLS). */
    public Builder appCredentials(String user, String password) {
      this.appUser = Objects.requireNonNull(user);
      this.appPassword = Objects.requireNonNull(password);
      return this;
    }
    /** {@code redis://host:port}: fan out through Redis to the other relay instances on the same database. */
    public Builder redisUrl(String url) { this.redisUrl = url; return this; }
    /** HMAC-SHA256 key for access tokens, at least 32 bytes; the instances of one deployment share it. */
    public Builder jwtSecret(byte[] secret) {
      if (secret.length < 32) {
        throw new IllegalArgumentException("JWT secret must be at least 32 bytes");
      }
      this.jwtSecret = secret.clone();
      return this;
    }
    public Builder tokenLifetime(Duration d) { this.tokenLifetime = d; return this; }
    public Builder inviteLifetime(Duration d) { this.inviteLifetime = d; return this; }
    public Builder challengeLifetime(Duration d) { this.challengeLifetime = d; return this; }
    public Builder maxBodyBytes(long n) { this.maxBodyBytes = n; return this; }
    public Builder maxFrameBytes(int n) { this.maxFrameBytes = n; return this; }
    public Builder maxPayloadBytes(int n) { this.maxPayloadBytes = n; return this; }
    /** HTTP requests per second and device (bursts of twice that); 0 disables the limit. */
    public Builder requestsPerSecond(int n) { this.requestsPerSecond = n; return this; }
    /** Unauthenticated requests (login, enrollment) per second and client address (bursts of twice that); 0 disables. */
    public Builder publicRequestsPerSecond(int n) { this.publicRequestsPerSecond = n; return this; }
    public Builder poolSize(int n) { this.poolSize = n; return this; }

    /** See {@link RelayConfig#httpThreads()}; from {@link #MIN_HTTP_THREADS} to {@link #MAX_HTTP_THREADS}. */
    public Builder httpThreads(int n) {
      if (n < MIN_HTTP_THREADS || n > MAX_HTTP_THREADS) {
        throw new IllegalArgumentException("httpThreads must be from " + MIN_HTTP_THREADS + " to " + MAX_HTTP_THREADS);
      }
      this.httpThreads = n;
      return this;
    }
    /** Create a first tenant and print its owner's one-time bootstrap token when the database has none. */
    public Builder bootstrapTenant(boolean b) { this.bootstrapTenant = b; return this; }
    public Builder clock(Clock clock) { this.clock = Objects.requireNonNull(clock); return this; }
    /**
     * A message every recipient has acknowledged is deleted once it is older than this (default 24
     * hours); until then a resend with the same {@code client_message_id} is answered as a duplicate.
     * A message some recipient has not acknowledged is kept however old.
     */
    public Builder messageRetention(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("messageRetention must not be negative");
      }
      this.messageRetention = d;
      return this;
    }
    /** How often the message retention sweep runs (default 10 minutes; zero: never on its own). */
    public Builder retentionSweepInterval(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("retentionSweepInterval must not be negative");
      }
      this.retentionSweepInterval = d;
      return this;
    }

    public RelayConfig build() {
      if (jdbcUrl == null && dataDir == null) {
        throw new IllegalStateException("an embedded database needs a dataDir");
      }
      return new RelayConfig(this);
    }
  }
}
