package chat.agentvault.relay.keys;

import chat.agentvault.ratchet.PreKeyBundle;
import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.auth.Authenticator;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.http.Requests;
import chat.agentvault.relay.http.Responses;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The key directory (docs/protocol.md, "Key directory"): X3DH prekey bundles and MLS KeyPackages
 * that a device publishes and others fetch while it is offline. A one-time bundle and an ordinary
 * KeyPackage are handed out once each, atomically ({@code DELETE ... WHERE id = (SELECT ... FOR
 * UPDATE SKIP LOCKED)}: concurrent fetches never get the same one and never wait on each other);
 * the fallback bundle and the last-resort KeyPackage are handed out when those run out and are
 * never consumed, only replaced by their device.
 */
public final class KeyRoutes {
  /** At most this many bundles or KeyPackages per upload, and stored per device. */
  public static final int MAX_PER_UPLOAD = 100;
  public static final int MAX_STORED = 500;
  /** Largest KeyPackage accepted (opaque to the relay). */
  public static final int MAX_KEY_PACKAGE_BYTES = 16 * 1024;
  private static final int MAX_BUNDLE_BYTES = 512;

  private final RelayContext rc;

  private KeyRoutes(RelayContext rc) {
    this.rc = rc;
  }

  public static void register(RoutesConfig r, RelayContext rc) {
    KeyRoutes k = new KeyRoutes(rc);
    r.post("/api/v1/keys/prekey-bundles", k::uploadBundles);
    r.get("/api/v1/devices/{id}/prekey-bundle", k::fetchBundle);
    r.post("/api/v1/keys/key-packages", k::uploadKeyPackages);
    r.get("/api/v1/devices/{id}/key-package", k::fetchKeyPackage);
    r.get("/api/v1/keys/status", k::status);
  }

  private void uploadBundles(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    JsonBody b = Requests.body(ctx, Set.of("bundles", "fallback"));
    List<JsonNode> raw = b.array("bundles", MAX_PER_UPLOAD);
    List<byte[]> oneTime = new ArrayList<>(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      oneTime.add(decode(raw.get(i), "bundles[" + i + "]", MAX_BUNDLE_BYTES));
    }
    byte[] fallback = b.optBytes("fallback", MAX_BUNDLE_BYTES).orElse(null);
    long available = rc.db().inTenant(p.tenant(), c -> {
      byte[] identity = identityOf(c, p.device());
      for (int i = 0; i < oneTime.size(); i++) {
        verifyBundle(oneTime.get(i), identity, true, "bundles[" + i + "]");
      }
      if (fallback != null) {
        verifyBundle(fallback, identity, false, "fallback");
      }
      if (countOf(c, "prekey_bundles", "one_time", p.device()) + oneTime.size() > MAX_STORED) {
        throw new ApiException(409, "too many one-time prekey bundles stored (at most " + MAX_STORED + ")");
      }
      insertAll(c, "prekey_bundles", "one_time", "bundle", p, oneTime, true);
      if (fallback != null) {
        try (PreparedStatement s = c.prepareStatement("delete from prekey_bundles where device_id = ? and not one_time")) {
          s.setObject(1, p.device());
          s.executeUpdate();
        }
        insertAll(c, "prekey_bundles", "one_time", "bundle", p, List.of(fallback), false);
      }
      return countOf(c, "prekey_bundles", "one_time", p.device());
    });
    Responses.json(ctx, 200, JsonBody.object().put("one_time_available", available));
  }

  private void fetchBundle(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID device = Requests.uuidParam(ctx, "id");
    Taken t = rc.db().inTenant(p.tenant(), c -> take(c, "prekey_bundles", "one_time", "bundle", device, true));
    if (t == null) {
      throw ApiException.notFound("no prekey bundle");
    }
    Responses.json(ctx, 200, JsonBody.object().put("bundle", JsonBody.b64(t.bytes)).put("one_time", t.consumed));
  }

  private void uploadKeyPackages(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    JsonBody b = Requests.body(ctx, Set.of("key_packages", "last_resort"));
    List<JsonNode> raw = b.array("key_packages", MAX_PER_UPLOAD);
    List<byte[]> packages = new ArrayList<>(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      packages.add(decode(raw.get(i), "key_packages[" + i + "]", MAX_KEY_PACKAGE_BYTES));
    }
    byte[] lastResort = b.optBytes("last_resort", MAX_KEY_PACKAGE_BYTES).orElse(null);
    if (lastResort != null && lastResort.length == 0) {
      throw ApiException.badRequest("field last_resort must not be empty");
    }
    long available = rc.db().inTenant(p.tenant(), c -> {
      if (countOf(c, "key_packages", "not last_resort", p.device()) + packages.size() > MAX_STORED) {
        throw new ApiException(409, "too many key packages stored (at most " + MAX_STORED + ")");
      }
      insertAll(c, "key_packages", "last_resort", "key_package", p, packages, false);
      if (lastResort != null) {
        try (PreparedStatement s = c.prepareStatement("delete from key_packages where device_id = ? and last_resort")) {
          s.setObject(1, p.device());
          s.executeUpdate();
        }
        insertAll(c, "key_packages", "last_resort", "key_package", p, List.of(lastResort), true);
      }
      return countOf(c, "key_packages", "not last_resort", p.device());
    });
    Responses.json(ctx, 200, JsonBody.object().put("available", available));
  }

  private void fetchKeyPackage(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    UUID device = Requests.uuidParam(ctx, "id");
    Taken t = rc.db().inTenant(p.tenant(), c -> take(c, "key_packages", "last_resort", "key_package", device, false));
    if (t == null) {
      throw ApiException.notFound("no key package");
    }
    Responses.json(ctx, 200, JsonBody.object().put("key_package", JsonBody.b64(t.bytes)).put("last_resort", !t.consumed));
  }

  private void status(Context ctx) throws SQLException {
    Principal p = Authenticator.principal(ctx);
    long[] n = rc.db().inTenant(p.tenant(), c -> new long[] {
        countOf(c, "prekey_bundles", "one_time", p.device()),
        countOf(c, "key_packages", "not last_resort", p.device())});
    Responses.json(ctx, 200, JsonBody.object().put("one_time_available", n[0]).put("key_packages_available", n[1]));
  }

  // ------------------------------------------------------------------ helpers

  private record Taken(byte[] bytes, boolean consumed) {}

  /**
   * Consumes the oldest consumable row of {@code device} (the one-time bundle or ordinary
   * KeyPackage), else reads the device's reusable one; null when there is neither.
   * {@code flag} is the boolean column; {@code consumableWhen} its value on consumable rows.
   */
  private static Taken take(Connection c, String table, String flag, String column, UUID device,
      boolean consumableWhen) throws SQLException {
    String consumable = consumableWhen ? flag : "not " + flag;
    String reusable = consumableWhen ? "not " + flag : flag;
    try (PreparedStatement s = c.prepareStatement("delete from " + table + " where id = (select id from " + table
        + " where device_id = ? and " + consumable + " order by id limit 1 for update skip locked) returning " + column)) {
      s.setObject(1, device);
      ResultSet rs = s.executeQuery();
      if (rs.next()) {
        return new Taken(rs.getBytes(1), true);
      }
    }
    try (PreparedStatement s = c.prepareStatement("select " + column + " from " + table
        + " where device_id = ? and " + reusable + " order by id desc limit 1")) {
      s.setObject(1, device);
      ResultSet rs = s.executeQuery();
      return rs.next() ? new Taken(rs.getBytes(1), false) : null;
    }
  }

  private static void insertAll(Connection c, String table, String flag, String column, Principal p,
      List<byte[]> rows, boolean flagValue) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement s = c.prepareStatement("insert into " + table + " (tenant_id, device_id, " + flag + ", "
        + column + ") select ?, ?, ?, x from unnest(?::bytea[]) with ordinality as u(x, n) order by n")) {
      s.setObject(1, p.tenant());
      s.setObject(2, p.device());
      s.setBoolean(3, flagValue);
      s.setArray(4, c.createArrayOf("bytea", rows.toArray(new byte[0][])));
      s.executeUpdate();
    }
  }

  private static long countOf(Connection c, String table, String where, UUID device) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("select count(*) from " + table + " where device_id = ? and " + where)) {
      s.setObject(1, device);
      ResultSet rs = s.executeQuery();
      rs.next();
      return rs.getLong(1);
    }
  }

  private static byte[] identityOf(Connection c, UUID device) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("select public_identity from devices where id = ?")) {
      s.setObject(1, device);
      ResultSet rs = s.executeQuery();
      if (!rs.next()) {
        throw ApiException.notFound("unknown device");
      }
      return rs.getBytes(1);
    }
  }

  /** Parses (which verifies the identity binding and the signed-prekey signature) and checks ownership. */
  private static void verifyBundle(byte[] bytes, byte[] identity, boolean oneTime, String field) {
    PreKeyBundle bundle;
    try {
      bundle = PreKeyBundle.parse(bytes);
    } catch (RuntimeException e) {
      throw ApiException.badRequest(field + " is not a valid prekey bundle");
    }
    if (!Arrays.equals(bundle.identity().encode(), identity)) {
      throw ApiException.badRequest(field + " is not of this device's identity");
    }
    if (bundle.oneTimePreKey().isPresent() != oneTime) {
      throw ApiException.badRequest(oneTime ? field + " has no one-time prekey" : field + " must not have a one-time prekey");
    }
  }

  private static byte[] decode(JsonNode n, String field, int max) {
    if (n == null || !n.isTextual()) {
      throw ApiException.badRequest("field " + field + " must be a string");
    }
    String s = n.textValue();
    if (s.length() > (max / 3 + 1) * 4) {
      throw new ApiException(413, "field " + field + " is larger than " + max + " bytes");
    }
    byte[] b;
    try {
      b = Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("field " + field + " must be base64");
    }
    if (b.length == 0) {
      throw ApiException.badRequest("field " + field + " must not be empty");
    }
    if (b.length > max) {
      throw new ApiException(413, "field " + field + " is larger than " + max + " bytes");
    }
    return b;
  }
}
