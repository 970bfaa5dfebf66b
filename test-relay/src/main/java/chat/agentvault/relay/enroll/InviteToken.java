package chat.agentvault.relay.enroll;

import chat.agentvault.crypto.Blake2b;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.relay.http.ApiException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;

/**
 * Invite tokens: {@code "avi1_" + base64url(tenant id (16 bytes) || 32 random bytes)}. The tenant id
 * in the clear lets the relay set the tenant of the transaction before it looks the invite up, so
 * even enrollment runs under RLS. The relay stores only BLAKE2b-256 of the whole token.
 */
public final class InviteToken {
  private static final String PREFIX = "avi1_";
  private static final int RANDOM = 32;

  private InviteToken() {}

  /** A fresh token for {@code tenant}. */
  public static String generate(UUID tenant) {
    ByteBuffer b = ByteBuffer.allocate(16 + RANDOM);
    b.putLong(tenant.getMostSignificantBits()).putLong(tenant.getLeastSignificantBits());
    b.put(Csprng.randomBytes(RANDOM));
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  /** The tenant a well-formed token names; empty for anything else. */
  public static Optional<UUID> tenantOf(String token) {
    if (token == null || !token.startsWith(PREFIX) || token.length() != PREFIX.length() + 64) {
      return Optional.empty();
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(token.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (raw.length != 16 + RANDOM) {
      return Optional.empty();
    }
    ByteBuffer b = ByteBuffer.wrap(raw);
    return Optional.of(new UUID(b.getLong(), b.getLong()));
  }

  /** What the database stores: BLAKE2b-256 of the token's bytes. */
  public static byte[] hash(String token) {
    return Blake2b.hash(token.getBytes(StandardCharsets.US_ASCII), 32);
  }

  /** The one answer to every failed use of an invite (unknown, expired, consumed, revoked, bad proof). */
  public static ApiException invalid() {
    return ApiException.badRequest("invalid invite");
  }
}
