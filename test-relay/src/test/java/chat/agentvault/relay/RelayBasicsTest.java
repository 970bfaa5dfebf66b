package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Health, authentication, and RLS as the application role sees it. */
@ExtendWith(TestRelayExtension.class)
class RelayBasicsTest {
  static TestRelay relay;
  static Http http;

  @BeforeAll
  static void start() {
    http = new Http(relay);
  }

  @Test
  void healthAnswersStatusAndVersion() {
    Http.Response r = http.get("/health", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body().path("status").asText()).isEqualTo("ok");
    assertThat(r.body().path("version").asText()).isEqualTo(TestRelay.VERSION);
  }

  @Test
  void loginGivesATokenThatAuthenticates() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Fixtures.Device d = Fixtures.active(relay, t, "agent");
    String token = Fixtures.login(relay, d);
    assertThat(token).isNotBlank();
    assertThat(http.get("/api/v1/nothing-here", token).status()).isEqualTo(404);
    assertThat(http.get("/api/v1/nothing-here", null).status()).isEqualTo(401);
    assertThat(http.get("/api/v1/nothing-here", token + "x").status()).isEqualTo(401);
  }

  @Test
  void aForgedLoginSignatureIsRefusedAndConsumesTheChallenge() throws Exception {
    UUID t = Fixtures.tenant(relay);
    Fixtures.Device d = Fixtures.active(relay, t, "agent");
    Http.Response ch = http.post("/api/v1/auth/challenge",
        Http.json().put("tenant_id", t.toString()).put("device_id", d.id().toString()), null);
    Http.Response bad = http.post("/api/v1/auth/token", Http.json().put("tenant_id", t.toString())
        .put("device_id", d.id().toString()).put("challenge_id", ch.body().path("challenge_id").asText())
        .put("signature", chat.agentvault.relay.http.JsonBody.b64(new byte[64])), null);
    assertThat(bad.status()).isEqualTo(401);
    assertThat(bad.detail()).isEqualTo("authentication failed");
  }

  @Test
  void suspendedAndPendingDevicesCannotLogIn() throws Exception {
    UUID t = Fixtures.tenant(relay);
    for (String state : new String[] {"PENDING", "SUSPENDED", "REVOKED"}) {
      Fixtures.Device d = Fixtures.device(relay, t, "agent", state);
      assertThatThrownBy(() -> Fixtures.login(relay, d)).hasMessageContaining("403");
    }
  }

  @Test
  void unknownFieldsAndMalformedJsonAreClear400s() {
    Http.Response r = http.postRaw("/api/v1/auth/challenge", "{\"tenant_id\": 1", null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.detail()).isEqualTo("malformed JSON");
    r = http.post("/api/v1/auth/challenge", Http.json().put("tenant_id", UUID.randomUUID().toString())
        .put("device_id", UUID.randomUUID().toString()).put("evil", 1), null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.detail()).isEqualTo("unknown field: evil");
    r = http.post("/api/v1/auth/challenge", Http.json().put("tenant_id", 7).put("device_id", "x"), null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.detail()).isEqualTo("field tenant_id must be a string");
  }

  @Test
  void theApplicationRoleSeesNothingWithoutATenantAndOnlyItsTenantWithOne() throws Exception {
    UUID a = Fixtures.tenant(relay);
    UUID b = Fixtures.tenant(relay);
    Fixtures.active(relay, a, "agent");
    Fixtures.active(relay, b, "agent");
    try (Connection c = relay.database().rawAppConnection()) {
      // no tenant set: the policy's cast of '' fails: fail closed with an error, never rows
      assertThatThrownBy(() -> count(c, "devices", null)).isInstanceOf(SQLException.class);
      c.rollback();
      try (PreparedStatement p = c.prepareStatement("select set_config('app.current_tenant_id', ?, true)")) {
        p.setString(1, a.toString());
        p.execute();
      }
      assertThat(count(c, "devices", b)).isZero();
      assertThat(count(c, "invites", b)).isZero();
      assertThat(count(c, "devices", a)).isEqualTo(1);
      // writing a row of another tenant is refused by WITH CHECK
      assertThatThrownBy(() -> {
        try (PreparedStatement p = c.prepareStatement(
            "update devices set name = 'x' where tenant_id = ? returning id")) {
          p.setObject(1, b);
          ResultSet rs = p.executeQuery();
          assertThat(rs.next()).isFalse();
        }
        try (PreparedStatement p = c.prepareStatement(
            "insert into invites (tenant_id, id, token_hash, role, expires_at) values (?, ?, ?, 'agent', now())")) {
          p.setObject(1, b);
          p.setObject(2, UUID.randomUUID());
          p.setBytes(3, new byte[32]);
          p.executeUpdate();
        }
      }).isInstanceOf(SQLException.class).hasMessageContaining("row-level security");
      c.rollback();
    }
  }

  @Test
  void everyTenantTableHasTheTenantPolicyEvaluatedOncePerStatement() throws Exception {
    relay.database().asAdmin(null, c -> {
      // V3: the policy compares with a scalar subquery (an InitPlan), for reads and writes alike
      try (ResultSet rs = c.createStatement().executeQuery("select c.relname, c.relrowsecurity, c.relforcerowsecurity,"
          + " p.polname, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)"
          + " from pg_class c left join pg_policy p on p.polrelid = c.oid"
          + " where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'"
          + " and c.relname not in ('tenants', 'flyway_schema_history') order by 1")) {
        int tables = 0;
        while (rs.next()) {
          tables++;
          String t = rs.getString(1);
          assertThat(rs.getBoolean(2)).as(t + " RLS enabled").isTrue();
          assertThat(rs.getBoolean(3)).as(t + " RLS forced").isTrue();
          assertThat(rs.getString(4)).as(t + " policy").isEqualTo("tenant_isolation");
          String once = "(tenant_id = ( SELECT (current_setting('app.current_tenant_id'::text))::uuid AS current_setting))";
          assertThat(rs.getString(5)).as(t + " USING").isEqualTo(once);
          assertThat(rs.getString(6)).as(t + " WITH CHECK").isEqualTo(once);
        }
        assertThat(tables).isEqualTo(11);
      }
      return null;
    });
  }

  @Test
  void theEmbeddedDatabaseCommitsDurablyAndSmoothsItsDiskWrites() throws Exception {
    relay.database().asAdmin(null, c -> {
      try (ResultSet rs = c.createStatement().executeQuery("select name, setting from pg_settings"
          + " where name in ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_init_zero',"
          + " 'backend_flush_after', 'shared_buffers') order by 1")) {
        java.util.Map<String, String> settings = new java.util.TreeMap<>();
        while (rs.next()) {
          settings.put(rs.getString(1), rs.getString(2));
        }
        assertThat(settings).containsExactly(java.util.Map.entry("backend_flush_after", "32"), // 8 kB pages
            java.util.Map.entry("fsync", "on"),
            java.util.Map.entry("full_page_writes", "on"),
            java.util.Map.entry("shared_buffers", "4096"), // 8 kB pages: 32 MB
            java.util.Map.entry("synchronous_commit", "on"),
            java.util.Map.entry("wal_init_zero", "off"));
      }
      return null;
    });
  }

  private static long count(Connection c, String table, UUID tenant) throws SQLException {
    String sql = "select count(*) from " + table + (tenant == null ? "" : " where tenant_id = ?");
    try (PreparedStatement p = c.prepareStatement(sql)) {
      if (tenant != null) {
        p.setObject(1, tenant);
      }
      ResultSet rs = p.executeQuery();
      rs.next();
      return rs.getLong(1);
    }
  }
}
