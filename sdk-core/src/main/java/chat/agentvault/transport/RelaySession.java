package chat.agentvault.transport;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import java.util.UUID;

/**
 * A logged-in device (docs/protocol.md "Authentication"): challenge-response login signed with
 * the device key through a {@link Signer} (this package never holds a key), the access token
 * renewed by a new login before it expires, and one new login and retry when a request is
 * answered 401. Thread-safe. Not API: public for {@code chat.agentvault.channel}.
 */
public final class RelaySession {
  static final byte[] LABEL = "agentvault-auth-v1\0".getBytes(StandardCharsets.US_ASCII);
  /** Renew when less than this is left of the token's lifetime. */
  static final Duration RENEW_BEFORE = Duration.ofSeconds(60);

  /** Signs the login message with the device's Ed25519 identity key. */
  @FunctionalInterface
  public interface Signer {
    byte[] sign(byte[] message);
  }

  private final RelayHttp http;
  private final UUID tenant;
  private final UUID device;
  private final Signer signer;
  private final Clock clock;
  private String token;
  private Instant expiresAt = Instant.MIN;
  private String role = "";
  private int logins;

  private RelaySession(RelayHttp http, UUID tenant, UUID device, Signer signer, Clock clock) {
    this.http = http;
    this.tenant = tenant;
    this.device = device;
    this.signer = signer;
    this.clock = clock;
  }

  /**
   * Logs in once (so that a device that may not act fails here).
   *
   * @throws RelayException 403 {@code device pending approval} / {@code device suspended} /
   *     {@code device revoked}, 401 {@code authentication failed}, or status 0
   */
  public static RelaySession login(RelayHttp http, String tenantId, String deviceId, Signer signer, Clock clock) {
    RelaySession s = new RelaySession(Objects.requireNonNull(http, "http"), UUID.fromString(tenantId),
        UUID.fromString(deviceId), Objects.requireNonNull(signer, "signer"), Objects.requireNonNull(clock, "clock"));
    s.relogin();
    return s;
  }

  /** What the device signs: {@code "agentvault-auth-v1" 0x00 || tenant || device || challenge}. */
  static byte[] signedMessage(UUID tenant, UUID device, byte[] challenge) {
    return ByteBuffer.allocate(LABEL.length + 32 + challenge.length).put(LABEL)
        .putLong(tenant.getMostSignificantBits()).putLong(tenant.getLeastSignificantBits())
        .putLong(device.getMostSignificantBits()).putLong(device.getLeastSignificantBits())
        .put(challenge).array();
  }

  private synchronized void relogin() {
    JsonNode ch = http.post("/api/v1/auth/challenge", RelayHttp.object()
        .put("tenant_id", tenant.toString()).put("device_id", device.toString()), null);
    byte[] challenge = Base64.getDecoder().decode(ch.path("challenge").asText());
    byte[] sig = signer.sign(signedMessage(tenant, device, challenge));
    JsonNode t = http.post("/api/v1/auth/token", RelayHttp.object()
        .put("tenant_id", tenant.toString()).put("device_id", device.toString())
        .put("challenge_id", ch.path("challenge_id").asText())
        .put("signature", RelayHttp.b64(sig)), null);
    token = t.path("token").asText();
    expiresAt = Instant.parse(t.path("expires_at").asText());
    role = t.path("role").asText();
    logins++;
  }

  /** A token valid for at least {@link #RENEW_BEFORE} (logs in again when needed). */
  public synchronized String token() {
    if (token == null || clock.instant().plus(RENEW_BEFORE).isAfter(expiresAt)) {
      relogin();
    }
    return token;
  }

  /** Forgets the token (the relay refused it): the next {@link #token()} logs in again. */
  synchronized void invalidate(String refused) {
    if (Objects.equals(refused, token)) {
      token = null;
    }
  }

  public String deviceId() {
    return device.toString();
  }

  public String tenantId() {
    return tenant.toString();
  }

  /** {@code agent} or {@code owner}, as the relay's last token said. */
  public synchronized String role() {
    return role;
  }

  synchronized int logins() {
    return logins;
  }

  RelayHttp http() {
    return http;
  }

  public JsonNode get(String path) {
    return call("GET", path, null);
  }

  public JsonNode post(String path, JsonNode body) {
    return call("POST", path, body == null ? RelayHttp.object() : body);
  }

  public JsonNode put(String path, JsonNode body) {
    return call("PUT", path, body);
  }

  public JsonNode delete(String path) {
    return call("DELETE", path, null);
  }

  /** One authenticated request; a 401 logs in again and retries once. */
  JsonNode call(String method, String path, JsonNode body) {
    String t = token();
    try {
      return http.call(method, path, body, t);
    } catch (RelayException e) {
      if (e.status() != 401) {
        throw e;
      }
      invalidate(t);
      return http.call(method, path, body, token());
    }
  }

  @Override
  public String toString() {
    return "RelaySession[device=" + device + ", role=" + role + "]";
  }
}
