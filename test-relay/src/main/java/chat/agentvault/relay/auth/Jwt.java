package chat.agentvault.relay.auth;

import chat.agentvault.crypto.ConstantTime;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.HmacSha256;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;

/**
 * Access tokens: compact JWS (RFC 7515) with HS256 (RFC 7518 §3.2) over a fixed header. Verification
 * accepts exactly that header (no {@code alg} negotiation, so no "none" and no key confusion),
 * compares the MAC in constant time and checks {@code exp}/{@code iat} against the relay's clock.
 */
public final class Jwt {
  static final String ISSUER = "agentvault-relay";
  private static final String HEADER = b64u("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.US_ASCII));
  private static final Duration LEEWAY = Duration.ofSeconds(30);

  private final byte[] key;
  private final Clock clock;
  private final Duration lifetime;

  public Jwt(byte[] key, Clock clock, Duration lifetime) {
    if (key.length < 32) {
      throw new IllegalArgumentException("HS256 key must be at least 32 bytes");
    }
    this.key = key.clone();
    this.clock = clock;
    this.lifetime = lifetime;
  }

  /** A token for {@code p}, valid for the configured lifetime. */
  public Issued issue(Principal p) {
    long now = clock.instant().getEpochSecond();
    long exp = now + lifetime.toSeconds();
    ObjectNode claims = JsonBody.object()
        .put("iss", ISSUER)
        .put("sub", p.device().toString())
        .put("tid", p.tenant().toString())
        .put("role", p.role())
        .put("iat", now)
        .put("exp", exp)
        .put("jti", b64u(Csprng.randomBytes(12)));
    String signingInput = HEADER + "." + b64u(claims.toString().getBytes(StandardCharsets.UTF_8));
    String token = signingInput + "." + b64u(HmacSha256.compute(key, signingInput.getBytes(StandardCharsets.US_ASCII)));
    return new Issued(token, exp);
  }

  /** An issued token and its expiry (epoch seconds). */
  public record Issued(String token, long expiresAt) {
    @Override
    public String toString() {
      return "Issued[expiresAt=" + expiresAt + "]";
    }
  }

  /**
   * The principal of a valid token.
   *
   * @throws ApiException 401 when the token is malformed, forged or expired
   */
  public Principal verify(String token) {
    if (token == null || token.length() > 4096) {
      throw ApiException.unauthorized("invalid token");
    }
    int a = token.indexOf('.');
    int b = token.indexOf('.', a + 1);
    if (a < 0 || b < 0 || token.indexOf('.', b + 1) >= 0) {
      throw ApiException.unauthorized("invalid token");
    }
    if (!token.substring(0, a).equals(HEADER)) {
      throw ApiException.unauthorized("invalid token");
    }
    byte[] mac;
    byte[] payload;
    try {
      mac = Base64.getUrlDecoder().decode(token.substring(b + 1));
      payload = Base64.getUrlDecoder().decode(token.substring(a + 1, b));
    } catch (IllegalArgumentException e) {
      throw ApiException.unauthorized("invalid token");
    }
    byte[] expected = HmacSha256.compute(key, token.substring(0, b).getBytes(StandardCharsets.US_ASCII));
    if (!ConstantTime.equals(expected, mac)) {
      throw ApiException.unauthorized("invalid token");
    }
    JsonNode c;
    try {
      c = JsonBody.MAPPER.readTree(payload);
    } catch (java.io.IOException e) {
      throw ApiException.unauthorized("invalid token");
    }
    long now = clock.instant().getEpochSecond();
    if (c == null || !c.path("exp").canConvertToLong() || !ISSUER.equals(c.path("iss").asText())) {
      throw ApiException.unauthorized("invalid token");
    }
    if (c.path("exp").asLong() <= now || c.path("iat").asLong() > now + LEEWAY.toSeconds()) {
      throw ApiException.unauthorized("token expired");
    }
    try {
      return new Principal(UUID.fromString(c.path("tid").asText()), UUID.fromString(c.path("sub").asText()),
          c.path("role").asText());
    } catch (IllegalArgumentException e) {
      throw ApiException.unauthorized("invalid token");
    }
  }

  private static String b64u(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  @Override
  public String toString() {
    return "Jwt{lifetime=" + lifetime + "}";
  }
}
