package chat.agentvault.relay.enroll;

import chat.agentvault.VaultException;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.ratchet.PreKeyBundle;
import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.http.Responses;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.SignatureException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Enrollment (docs/protocol.md, "Enrollment"): an agent (or owner) consumes an invite and registers
 * its public keys with a proof of possession: an Ed25519 signature by its identity key over a
 * relay challenge bound to the invite. Every failure to use the invite, the proof included, is the
 * one {@link InviteToken#invalid()} 400, so a caller learns nothing about why.
 *
 * <p>Two transactions: the first consumes the challenge (single use, even when the proof then
 * fails); the second consumes the invite with one conditional UPDATE, so of concurrent
 * enrollments with one invite exactly one succeeds, and stores the device and its keys.
 */
public final class EnrollRoutes {
  static final byte[] LABEL = "agentvault-enroll-v1\0".getBytes(StandardCharsets.US_ASCII);
  /** Upper bounds of one enrollment request. */
  public static final int MAX_PREKEY_BUNDLES = 100;
  public static final int MAX_KEY_PACKAGES = 100;
  public static final int MAX_KEY_PACKAGE_BYTES = 64 * 1024;
  public static final int MAX_NAME = 200;
  public static final int MAX_URL = 2048;
  private static final int MAX_BUNDLE_BYTES = 512;
  /** A hub address: 1..200 printable ASCII characters without spaces (an opaque routing name). */
  private static final Pattern HUB_ADDRESS = Pattern.compile("[\\x21-\\x7e]{1,200}");

  private static final Set<String> FIELDS = Set.of("invite", "challenge_id", "name", "public_identity",
      "signature", "hub_address", "webhook_url", "prekey_bundles", "fallback_prekey_bundle",
      "key_packages", "last_resort_key_package");

  private final RelayContext rc;

  private EnrollRoutes(RelayContext rc) {
    this.rc = rc;
  }

  public static void register(RoutesConfig r, RelayContext rc) {
    EnrollRoutes e = new EnrollRoutes(rc);
    r.post("/api/v1/enroll/challenge", e::challenge);
    r.post("/api/v1/enroll", e::enroll);
  }

  /**
   * What the enrolling device signs:
   * {@code "agentvault-enroll-v1" 0x00 || BLAKE2b-256(invite token) || challenge || public_identity}.
   */
  public static byte[] signedMessage(byte[] inviteHash, byte[] challenge, byte[] publicIdentity) {
    byte[] m = new byte[LABEL.length + inviteHash.length + challenge.length + publicIdentity.length];
    int p = 0;
    System.arraycopy(LABEL, 0, m, p, LABEL.length);
    p += LABEL.length;
    System.arraycopy(inviteHash, 0, m, p, inviteHash.length);
    p += inviteHash.length;
    System.arraycopy(challenge, 0, m, p, challenge.length);
    p += challenge.length;
    System.arraycopy(publicIdentity, 0, m, p, publicIdentity.length);
    return m;
  }

  // ------------------------------------------------------------------ challenge

  private void challenge(Context ctx) throws SQLException {
    JsonBody b = JsonBody.parse(ctx.bodyAsBytes(), Set.of("invite"));
    String token = b.string("invite");
    UUID tenant = InviteToken.tenantOf(token).orElseThrow(InviteToken::invalid);
    byte[] hash = InviteToken.hash(token);
    byte[] challenge = Csprng.randomBytes(32);
    UUID id = UUID.randomUUID();
    Instant now = rc.clock().instant();
    Instant expires = now.plus(rc.config().challengeLifetime());
    int stored = rc.db().inTenant(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement(
          "insert into enrollment_challenges (tenant_id, id, invite_id, challenge, expires_at)"
              + " select tenant_id, ?, id, ?, ? from invites where token_hash = ?"
              + " and consumed_at is null and revoked_at is null and expires_at > ?")) {
        p.setObject(1, id);
        p.setBytes(2, challenge);
        p.setTimestamp(3, Timestamp.from(expires));
        p.setBytes(4, hash);
        p.setTimestamp(5, Timestamp.from(now));
        return p.executeUpdate();
      }
    });
    if (stored != 1) {
      throw InviteToken.invalid();
    }
    Responses.json(ctx, 200, JsonBody.object()
        .put("challenge_id", id.toString())
        .put("challenge", JsonBody.b64(challenge))
        .put("expires_at", expires.toString()));
  }

  // ------------------------------------------------------------------ enroll

  /** A verified enrollment request, before it touches the database. */
  private record Request(String token, UUID tenant, UUID challengeId, String name, byte[] identity,
      PublicIdentity publicIdentity, byte[] signature, String hubAddress, String webhookUrl,
      List<byte[]> bundles, byte[] fallback, List<byte[]> keyPackages, byte[] lastResort) {}

  private record Enrolled(UUID device, String state, String role) {}

  private void enroll(Context ctx) throws SQLException {
    Request q = parse(JsonBody.parse(ctx.bodyAsBytes(), FIELDS));
    byte[] hash = InviteToken.hash(q.token);
    Instant now = rc.clock().instant();

    // 1. consume the challenge, whatever follows (one attempt per challenge), and find the invite
    //    it was issued for
    byte[] challenge = rc.db().inTenant(q.tenant, c -> {
      UUID challengeInvite;
      byte[] ch;
      try (PreparedStatement p = c.prepareStatement(
          "delete from enrollment_challenges where id = ? returning invite_id, challenge, expires_at")) {
        p.setObject(1, q.challengeId);
        ResultSet rs = p.executeQuery();
        if (!rs.next() || !rs.getTimestamp(3).toInstant().isAfter(now)) {
          return null;
        }
        challengeInvite = rs.getObject(1, UUID.class);
        ch = rs.getBytes(2);
      }
      try (PreparedStatement p = c.prepareStatement("select id from invites where token_hash = ?")) {
        p.setBytes(1, hash);
        ResultSet rs = p.executeQuery();
        if (!rs.next() || !challengeInvite.equals(rs.getObject(1, UUID.class))) {
          return null; // a challenge of another invite
        }
      }
      return ch;
    });
    if (challenge == null) {
      throw InviteToken.invalid();
    }

    // 2. the proof of possession, bound to this invite and this challenge
    try {
      q.publicIdentity.signingKey().verify(signedMessage(hash, challenge, q.identity), q.signature);
    } catch (SignatureException | RuntimeException e) {
      throw InviteToken.invalid();
    }

    // 3. consume the invite atomically and store the device with its keys
    UUID device = UUID.randomUUID();
    Enrolled enrolled;
    try {
      enrolled = rc.db().inTenant(q.tenant, c -> {
        String role;
        boolean autoApprove;
        UUID inviteId;
        try (PreparedStatement p = c.prepareStatement(
            "update invites set consumed_at = ?, consumed_by = ? where token_hash = ?"
                + " and consumed_at is null and revoked_at is null and expires_at > ?"
                + " returning id, role, auto_approve")) {
          p.setTimestamp(1, Timestamp.from(now));
          p.setObject(2, device);
          p.setBytes(3, hash);
          p.setTimestamp(4, Timestamp.from(now));
          ResultSet rs = p.executeQuery();
          if (!rs.next()) {
            return null;
          }
          inviteId = rs.getObject(1, UUID.class);
          role = rs.getString(2);
          autoApprove = rs.getBoolean(3);
        }
        String state = autoApprove ? "ACTIVE" : "PENDING";
        conflicts(c, q);
        try (PreparedStatement p = c.prepareStatement(
            "insert into devices (tenant_id, id, role, name, public_identity, fingerprint, state,"
                + " hub_address, webhook_url, invite_id, created_at, updated_at)"
                + " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          p.setObject(1, q.tenant);
          p.setObject(2, device);
          p.setString(3, role);
          p.setString(4, q.name);
          p.setBytes(5, q.identity);
          p.setString(6, q.publicIdentity.fingerprint().full());
          p.setString(7, state);
          p.setString(8, q.hubAddress);
          p.setString(9, q.webhookUrl);
          p.setObject(10, inviteId);
          p.setTimestamp(11, Timestamp.from(now));
          p.setTimestamp(12, Timestamp.from(now));
          p.executeUpdate();
        }
        storeKeys(c, q, device);
        try (PreparedStatement p = c.prepareStatement("delete from enrollment_challenges where invite_id = ?")) {
          p.setObject(1, inviteId);
          p.executeUpdate();
        }
        return new Enrolled(device, state, role);
      });
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState())) { // a concurrent enrollment of the same identity or hub address
        throw ApiException.conflict("identity or hub_address already enrolled");
      }
      throw e;
    }
    if (enrolled == null) {
      throw InviteToken.invalid();
    }
    Responses.json(ctx, 201, JsonBody.object()
        .put("tenant_id", q.tenant.toString())
        .put("device_id", enrolled.device.toString())
        .put("role", enrolled.role)
        .put("state", enrolled.state)
        .put("fingerprint", q.publicIdentity.fingerprint().full()));
  }

  /** 409 when the tenant already has this identity or hub address (the transaction rolls back: the invite stays usable). */
  private static void conflicts(Connection c, Request q) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "select 1 from devices where fingerprint = ? or (hub_address is not null and hub_address = ?)")) {
      p.setString(1, q.publicIdentity.fingerprint().full());
      p.setString(2, q.hubAddress);
      if (p.executeQuery().next()) {
        throw ApiException.conflict("identity or hub_address already enrolled");
      }
    }
  }

  private static void storeKeys(Connection c, Request q, UUID device) throws SQLException {
    if (!q.bundles.isEmpty() || q.fallback != null) {
      try (PreparedStatement p = c.prepareStatement(
          "insert into prekey_bundles (tenant_id, device_id, one_time, bundle) values (?, ?, ?, ?)")) {
        for (byte[] bundle : q.bundles) {
          p.setObject(1, q.tenant);
          p.setObject(2, device);
          p.setBoolean(3, true);
          p.setBytes(4, bundle);
          p.addBatch();
        }
        if (q.fallback != null) {
          p.setObject(1, q.tenant);
          p.setObject(2, device);
          p.setBoolean(3, false);
          p.setBytes(4, q.fallback);
          p.addBatch();
        }
        p.executeBatch();
      }
    }
    if (!q.keyPackages.isEmpty() || q.lastResort != null) {
      try (PreparedStatement p = c.prepareStatement(
          "insert into key_packages (tenant_id, device_id, last_resort, key_package) values (?, ?, ?, ?)")) {
        for (byte[] kp : q.keyPackages) {
          p.setObject(1, q.tenant);
          p.setObject(2, device);
          p.setBoolean(3, false);
          p.setBytes(4, kp);
          p.addBatch();
        }
        if (q.lastResort != null) {
          p.setObject(1, q.tenant);
          p.setObject(2, device);
          p.setBoolean(3, true);
          p.setBytes(4, q.lastResort);
          p.addBatch();
        }
        p.executeBatch();
      }
    }
  }

  // ------------------------------------------------------------------ request validation

  private static Request parse(JsonBody b) {
    String token = b.string("invite");
    UUID challengeId = b.uuid("challenge_id");
    String name = b.text("name", MAX_NAME);
    byte[] identity = b.bytes("public_identity", 1024);
    byte[] signature = b.bytes("signature", 64);
    Optional<String> hub = b.optText("hub_address", 200);
    if (hub.isPresent() && !HUB_ADDRESS.matcher(hub.get()).matches()) {
      throw ApiException.badRequest("field hub_address must be printable ASCII without spaces");
    }
    String webhook = b.optText("webhook_url", MAX_URL).map(EnrollRoutes::webhookUrl).orElse(null);
    List<JsonNode> bundleNodes = b.array("prekey_bundles", MAX_PREKEY_BUNDLES);
    List<JsonNode> kpNodes = b.array("key_packages", MAX_KEY_PACKAGES);
    Optional<byte[]> fallback = b.optBytes("fallback_prekey_bundle", MAX_BUNDLE_BYTES);
    Optional<byte[]> lastResort = b.optBytes("last_resort_key_package", MAX_KEY_PACKAGE_BYTES);

    UUID tenant = InviteToken.tenantOf(token).orElseThrow(InviteToken::invalid);
    PublicIdentity pub;
    try {
      pub = PublicIdentity.parse(identity);
    } catch (VaultException | IllegalArgumentException e) {
      throw ApiException.badRequest("invalid public_identity");
    }
    List<byte[]> bundles = new ArrayList<>();
    for (int i = 0; i < bundleNodes.size(); i++) {
      byte[] raw = element(bundleNodes.get(i), "prekey_bundles", i, MAX_BUNDLE_BYTES);
      if (bundle(raw, pub, "prekey_bundles[" + i + "]").oneTimePreKey().isEmpty()) {
        throw ApiException.badRequest("prekey_bundles[" + i + "] has no one-time prekey");
      }
      bundles.add(raw);
    }
    if (fallback.isPresent()
        && bundle(fallback.get(), pub, "fallback_prekey_bundle").oneTimePreKey().isPresent()) {
      throw ApiException.badRequest("fallback_prekey_bundle must not have a one-time prekey");
    }
    List<byte[]> kps = new ArrayList<>();
    for (int i = 0; i < kpNodes.size(); i++) {
      byte[] raw = element(kpNodes.get(i), "key_packages", i, MAX_KEY_PACKAGE_BYTES);
      if (raw.length == 0) {
        throw ApiException.badRequest("key_packages[" + i + "] is empty");
      }
      kps.add(raw);
    }
    if (lastResort.isPresent() && lastResort.get().length == 0) {
      throw ApiException.badRequest("last_resort_key_package is empty");
    }
    return new Request(token, tenant, challengeId, name, identity, pub, signature, hub.orElse(null), webhook,
        bundles, fallback.orElse(null), kps, lastResort.orElse(null));
  }

  /** A verified bundle of {@code identity}, or 400. */
  private static PreKeyBundle bundle(byte[] raw, PublicIdentity identity, String what) {
    PreKeyBundle b;
    try {
      b = PreKeyBundle.parse(raw);
    } catch (VaultException | IllegalArgumentException e) {
      throw ApiException.badRequest("invalid " + what);
    }
    if (!b.identity().equals(identity)) {
      throw ApiException.badRequest(what + " is not of the enrolling identity");
    }
    return b;
  }

  private static byte[] element(JsonNode n, String field, int i, int maxBytes) {
    if (n == null || !n.isTextual()) {
      throw ApiException.badRequest(field + "[" + i + "] must be a base64 string");
    }
    if (n.textValue().length() > (maxBytes / 3 + 1) * 4) {
      throw new ApiException(413, field + "[" + i + "] is larger than " + maxBytes + " bytes");
    }
    try {
      byte[] raw = Base64.getDecoder().decode(n.textValue());
      if (raw.length > maxBytes) {
        throw new ApiException(413, field + "[" + i + "] is larger than " + maxBytes + " bytes");
      }
      return raw;
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field + "[" + i + "] must be base64");
    }
  }

  /** An absolute http or https URL with a host; 400 otherwise. */
  public static String webhookUrl(String s) {
    try {
      URI u = new URI(s);
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || u.getRawUserInfo() != null
          || u.getRawFragment() != null) {
        throw ApiException.badRequest("webhook url must be an http or https URL with a host");
      }
      return u.toString();
    } catch (URISyntaxException e) {
      throw ApiException.badRequest("webhook url must be an http or https URL with a host");
    }
  }
}
