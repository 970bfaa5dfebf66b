package chat.agentvault.relay.auth;

import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.http.ApiException;
import io.javalin.http.Context;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one middleware chain of every authenticated request (docs/protocol.md, "Authentication"):
 * bearer token -> verified principal -> the device's current state from the database (so a
 * suspended or revoked device is refused on its very next request, whatever its token says) ->
 * per-device rate limit. The tenant of the principal scopes every later transaction.
 */
public final class Authenticator {
  public static final String ATTR = "agentvault.principal";

  /** Paths under /api/v1 that need no token. */
  private static final Set<String> PUBLIC = Set.of(
      "/api/v1/auth/challenge", "/api/v1/auth/token",
      "/api/v1/enroll/challenge", "/api/v1/enroll");

  private final RelayContext rc;
  private final ConcurrentHashMap<UUID, Bucket> buckets = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Bucket> publicBuckets = new ConcurrentHashMap<>();

  public Authenticator(RelayContext rc) {
    this.rc = rc;
  }

  /** The {@code before} handler for {@code /api/v1/*}. */
  public void handle(Context ctx) throws SQLException {
    if (PUBLIC.contains(ctx.path())) {
      // unauthenticated: limited per client address (login and enrollment attempts)
      limit(publicBuckets, ctx.ip(), rc.config().publicRequestsPerSecond());
      return;
    }
    String h = ctx.header("Authorization");
    if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw ApiException.unauthorized("missing bearer token");
    }
    ctx.attribute(ATTR, authenticate(h.substring(7).trim()));
  }

  /** Verifies {@code token} and the device's current state; used by HTTP and by the WebSocket upgrade. */
  public Principal authenticate(String token) throws SQLException {
    Principal p = rc.jwt().verify(token);
    String state = currentState(p);
    if (state == null) {
      throw ApiException.unauthorized("unknown device");
    }
    DeviceStates.requireUsable(state);
    rateLimit(p.device());
    return p;
  }

  /** The device's state now, or null when it does not exist (in the token's tenant). */
  public String currentState(Principal p) throws SQLException {
    return rc.db().inTenant(p.tenant(), c -> {
      try (PreparedStatement s = c.prepareStatement("select state from devices where id = ?")) {
        s.setObject(1, p.device());
        ResultSet rs = s.executeQuery();
        return rs.next() ? rs.getString(1) : null;
      }
    });
  }

  /** The principal the middleware put on {@code ctx}. */
  public static Principal principal(Context ctx) {
    Principal p = ctx.attribute(ATTR);
    if (p == null) {
      throw ApiException.unauthorized("missing bearer token");
    }
    return p;
  }

  /** Refuses with 403 unless the caller is an owner device. */
  public static Principal owner(Context ctx) {
    Principal p = principal(ctx);
    if (!p.isOwner()) {
      throw ApiException.forbidden("owner device required");
    }
    return p;
  }

  /**
   * Takes one request from {@code device}'s budget, or refuses with 429: every authenticated HTTP
   * request, and every {@code send} and {@code ack} frame of its WebSockets, share that budget.
   */
  public void rateLimit(UUID device) {
    limit(buckets, device, rc.config().requestsPerSecond());
  }

  private static <K> void limit(ConcurrentHashMap<K, Bucket> map, K key, int rps) {
    if (rps <= 0) {
      return;
    }
    if (map.size() > 100_000) {
      map.clear(); // bounded memory under a flood of distinct keys; limits restart, nothing else
    }
    if (!map.computeIfAbsent(key, k -> new Bucket(rps)).take(System.nanoTime())) {
      throw new ApiException(429, "rate limit exceeded");
    }
  }

  /** A token bucket of {@code rate} per second with a burst of {@code 2 * rate}. */
  private static final class Bucket {
    private final double rate;
    private double tokens;
    private long last;

    Bucket(int rate) {
      this.rate = rate;
      this.tokens = 2.0 * rate;
      this.last = System.nanoTime();
    }

    synchronized boolean take(long now) {
      tokens = Math.min(2.0 * rate, tokens + (now - last) / 1e9 * rate);
      last = now;
      if (tokens < 1) {
        return false;
      }
      tokens -= 1;
      return true;
    }
  }
}
