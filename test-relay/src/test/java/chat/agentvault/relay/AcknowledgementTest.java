package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.relay.db.EmbeddedDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * Schema V6: an acknowledgement deletes its delivery row, so a row exists exactly while its delivery
 * is pending; the migration deletes the acknowledged rows earlier schemas kept, even when the schema's
 * owner is not a superuser, and leaves row-level security forced.
 */
class AcknowledgementTest {

  @Test
  void anAcknowledgedDeliveryIsDeletedAndCountedOnceAndThePendingOneStays() throws Exception {
    try (TestRelay relay = TestRelay.start()) {
      Http http = new Http(relay);
      UUID t = Fixtures.tenant(relay);
      Fixtures.Device a = Fixtures.active(relay, t, "agent");
      Fixtures.Device b = Fixtures.active(relay, t, "agent");
      String ta = Fixtures.login(relay, a);
      String tb = Fixtures.login(relay, b);
      String conv = Fixtures.conversation(relay, b, ta);
      long[] ids = new long[3];
      for (int i = 0; i < 3; i++) {
        ids[i] = Fixtures.directMessage(relay, conv, "m" + i, ta);
      }
      assertThat(rows(relay, t, b.id())).containsExactly(ids[0], ids[1], ids[2]);

      assertThat(Fixtures.ack(relay, tb, ids[0], ids[1])).isEqualTo(2);
      // the two rows are gone at once; the pending one stays and is still fetched
      assertThat(rows(relay, t, b.id())).containsExactly(ids[2]);
      Http.Response pending = http.get("/api/v1/messages?limit=10", tb);
      assertThat(pending.body().path("messages")).hasSize(1);
      assertThat(pending.body().path("messages").get(0).path("message_id").asLong()).isEqualTo(ids[2]);
      // the same acknowledgement again counts nothing; the sender cannot acknowledge b's delivery
      assertThat(Fixtures.ack(relay, tb, ids[0], ids[1])).isZero();
      assertThat(Fixtures.ack(relay, ta, ids[2])).isZero();
      assertThat(rows(relay, t, b.id())).containsExactly(ids[2]);
      // the messages themselves stay (only the deliveries go)
      long messages = relay.database().asAdmin(t, c -> {
        try (PreparedStatement p = c.prepareStatement("select count(*) from messages where id = any(?)")) {
          p.setArray(1, c.createArrayOf("bigint", new Long[] {ids[0], ids[1], ids[2]}));
          ResultSet rs = p.executeQuery();
          rs.next();
          return rs.getLong(1);
        }
      });
      assertThat(messages).isEqualTo(3);
    }
  }

  @Test
  void theMigrationDeletesAcknowledgedRowsKeepsPendingOnesAndKeepsRowLevelSecurityForced() throws Exception {
    Path dir = Files.createTempDirectory("migration-v6-");
    try (EmbeddedDatabase pg = EmbeddedDatabase.start(dir.resolve("pg"))) {
      try (Connection su = DriverManager.getConnection(pg.jdbcUrl()); Statement s = su.createStatement()) {
        s.execute("create role relay_owner login nosuperuser nobypassrls");
        s.execute("create database mig owner relay_owner");
      }
      String url = "jdbc:postgresql://localhost:" + pg.port() + "/mig";
      Flyway.configure().dataSource(url, "relay_owner", "").locations("classpath:db/migration")
          .target("5").load().migrate();
      UUID tenant = UUID.randomUUID();
      UUID device = UUID.randomUUID();
      try (Connection c = DriverManager.getConnection(url, "relay_owner", "")) {
        try (PreparedStatement p = c.prepareStatement("select set_config('app.current_tenant_id', ?, false)")) {
          p.setString(1, tenant.toString());
          p.executeQuery();
        }
        try (PreparedStatement p = c.prepareStatement("insert into deliveries (tenant_id, message_id,"
            + " recipient_device_id, status, delivered_at) values (?, ?, ?, ?, case when ? = 'pending' then null"
            + " else now() end)")) {
          String[] status = {"delivered", "pending", "delivered", "pending", "failed"};
          for (int i = 0; i < status.length; i++) {
            p.setObject(1, tenant);
            p.setLong(2, i + 1);
            p.setObject(3, device);
            p.setString(4, status[i]);
            p.setString(5, status[i]);
            p.addBatch();
          }
          p.executeBatch();
        }
      }

      Flyway.configure().dataSource(url, "relay_owner", "").locations("classpath:db/migration").load().migrate();

      try (Connection c = DriverManager.getConnection(url, "relay_owner", ""); Statement s = c.createStatement()) {
        ResultSet rs = s.executeQuery("select relforcerowsecurity, relrowsecurity, reloptions::text from pg_class"
            + " where relname = 'deliveries'");
        rs.next();
        assertThat(rs.getBoolean(1)).as("FORCE ROW LEVEL SECURITY").isTrue();
        assertThat(rs.getBoolean(2)).as("ROW LEVEL SECURITY").isTrue();
        assertThat(rs.getString(3)).contains("fillfactor=100");
        rs = s.executeQuery("select column_name from information_schema.columns where table_name = 'deliveries'"
            + " order by ordinal_position");
        List<String> columns = new ArrayList<>();
        while (rs.next()) {
          columns.add(rs.getString(1));
        }
        assertThat(columns).containsExactly("tenant_id", "message_id", "recipient_device_id");
        // forced again: the policy applies to the owner, who cannot read without a tenant set (the
        // policy's current_setting fails; without FORCE the owner would bypass it and count the rows)
        assertThatThrownBy(() -> s.executeQuery("select count(*) from deliveries"))
            .hasMessageContaining("app.current_tenant_id");
        s.execute("select set_config('app.current_tenant_id', '" + tenant + "', false)");
        rs = s.executeQuery("select message_id from deliveries order by 1");
        List<Long> left = new ArrayList<>();
        while (rs.next()) {
          left.add(rs.getLong(1));
        }
        assertThat(left).containsExactly(2L, 4L);
      }
    } finally {
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** The message ids of {@code recipient}'s delivery rows, read by the administrative role. */
  private static List<Long> rows(TestRelay relay, UUID tenant, UUID recipient) throws Exception {
    return relay.database().asAdmin(tenant, c -> {
      try (PreparedStatement p = c.prepareStatement(
          "select message_id from deliveries where tenant_id = ? and recipient_device_id = ? order by 1")) {
        p.setObject(1, tenant);
        p.setObject(2, recipient);
        ResultSet rs = p.executeQuery();
        List<Long> out = new ArrayList<>();
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
        return out;
      }
    });
  }
}
