package chat.agentvault.relay.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The relay's two database identities. Migrations, role set-up and tenant creation run as the
 * administrative role (it owns the tables); everything a request does runs as the application role,
 * which owns nothing, cannot bypass RLS, and sees one tenant per transaction (set with
 * {@code set_config('app.current_tenant_id', ?, true)}, transaction-local, so a pooled connection
 * never carries a previous tenant).
 */
public final class Database implements AutoCloseable {

  private static final Pattern ROLE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /** Work done in one transaction. */
  @FunctionalInterface
  public interface Tx<T> {
    T run(Connection c) throws SQLException;
  }

  private final HikariDataSource app;
  private final HikariDataSource admin;

  private Database(HikariDataSource app, HikariDataSource admin) {
    this.app = app;
    this.admin = admin;
  }

  /**
   * Migrates the schema as {@code adminUser}, makes sure {@code appUser} exists as a plain login
   * role with the table privileges it needs and nothing else, and opens the application pool.
   */
  public static Database open(String jdbcUrl, String adminUser, String adminPassword,
      String appUser, String appPassword, int poolSize) {
    if (!ROLE_NAME.matcher(appUser).matches()) {
      throw new IllegalArgumentException("application role name must match " + ROLE_NAME);
    }
    HikariDataSource admin = pool(jdbcUrl, adminUser, adminPassword, 2, "relay-admin");
    try {
      Flyway.configure().dataSource(admin).locations("classpath:db/migration").load().migrate();
      grantAppRole(admin, appUser, appPassword);
      HikariDataSource app = pool(jdbcUrl, appUser, appPassword, poolSize, "relay-app");
      return new Database(app, admin);
    } catch (RuntimeException e) {
      admin.close();
      throw e;
    }
  }

  private static HikariDataSource pool(String url, String user, String password, int size, String name) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    c.setUsername(user);
    c.setPassword(password);
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(Math.min(2, size));
    c.setPoolName(name);
    c.setAutoCommit(false);
    c.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    return new HikariDataSource(c);
  }

  private static void grantAppRole(DataSource admin, String appUser, String appPassword) {
    try (Connection c = admin.getConnection(); Statement s = c.createStatement()) {
      boolean exists;
      try (PreparedStatement p = c.prepareStatement("select 1 from pg_roles where rolname = ?")) {
        p.setString(1, appUser);
        exists = p.executeQuery().next();
      }
      String pw = "'" + appPassword.replace("'", "''") + "'";
      // NOSUPERUSER NOBYPASSRLS: with FORCE ROW LEVEL SECURITY on every table this role sees
      // exactly one tenant's rows, and none at all without app.current_tenant_id.
      s.execute((exists ? "ALTER ROLE " : "CREATE ROLE ") + appUser
          + " LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD " + pw);
      s.execute("GRANT USAGE ON SCHEMA public TO " + appUser);
      s.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM " + appUser);
      s.execute("GRANT SELECT ON tenants TO " + appUser);
      s.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON devices, invites, enrollment_challenges,"
          + " auth_challenges, prekey_bundles, key_packages, rooms, room_members, conversations,"
          + " messages, deliveries TO " + appUser);
      s.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + appUser);
      c.commit();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot set up the application role: " + e.getMessage(), e);
    }
  }

  /** Runs {@code work} in one transaction of the application role, scoped to {@code tenant}. */
  public <T> T inTenant(UUID tenant, Tx<T> work) throws SQLException {
    try (Connection c = app.getConnection()) {
      try {
        setTenant(c, tenant);
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    }
  }

  /** Runs {@code work} in one transaction of the administrative role, scoped to {@code tenant}. */
  public <T> T asAdmin(UUID tenant, Tx<T> work) throws SQLException {
    try (Connection c = admin.getConnection()) {
      try {
        if (tenant != null) {
          setTenant(c, tenant);
        }
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c, e);
        throw e;
      }
    }
  }

  /** A connection of the application role with no tenant set: for tests that prove RLS. */
  public Connection rawAppConnection() throws SQLException {
    return app.getConnection();
  }

  private static void setTenant(Connection c, UUID tenant) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("select set_config('app.current_tenant_id', ?, true)")) {
      p.setString(1, tenant.toString());
      p.execute();
    }
  }

  private static void rollbackQuietly(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException r) {
      cause.addSuppressed(r);
    }
  }

  @Override
  public void close() {
    app.close();
    admin.close();
  }
}
