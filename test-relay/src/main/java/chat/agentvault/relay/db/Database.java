package chat.agentvault.relay.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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

  /**
   * Work done in one transaction whose first query travels with the tenant's {@code set_config}:
   * {@code first} is that query, prepared behind the {@code set_config} (one round trip for both);
   * its own parameters are numbered from 2, and {@link #resultOf} executes it.
   */
  @FunctionalInterface
  public interface FirstQueryTx<T> {
    T run(Connection c, PreparedStatement first) throws SQLException;
  }

  private static final String SET_TENANT = "select set_config('app.current_tenant_id', ?, true)";

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
    // uuid[] parameters in binary (UuidArray): the driver's default list has uuid, not uuid[]
    c.addDataSourceProperty("binaryTransferEnable", String.valueOf(UuidArray.OID));
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
    return transaction(app, c -> {
      setTenant(c, tenant);
      return work.run(c);
    });
  }

  /**
   * {@link #inTenant(UUID, Tx)} with the tenant set in the same round trip as the transaction's first
   * query, {@code firstQuery} (a single statement returning rows): on a busy relay every round trip
   * is also a wait for the database backend to be scheduled, and the send batches pay it in
   * latency. Statements of one round trip run in order, so RLS sees the tenant in {@code firstQuery}
   * as in any later statement; a {@code work} that never executes it leaves the tenant unset, and
   * every tenant table then fails closed.
   */
  public <T> T inTenant(UUID tenant, String firstQuery, FirstQueryTx<T> work) throws SQLException {
    return transaction(app, c -> {
      try (PreparedStatement first = c.prepareStatement(SET_TENANT + "; " + firstQuery)) {
        first.setString(1, tenant.toString());
        return work.run(c, first);
      }
    });
  }

  /**
   * {@code statement} (a single statement returning rows) with the tenant set, as one transaction in
   * one round trip, commit included: the connection is in autocommit mode, so the driver sends no
   * BEGIN, and PostgreSQL runs the statements of one Sync of the extended query protocol in one
   * implicit transaction that it commits when it reaches the Sync, before it reports the Sync done
   * (PostgreSQL's protocol docs, "Extended Query" and "Pipelining"). The driver returns only after
   * that report, so when {@code work}'s execute returns the rows, they are committed (durably, with
   * {@code synchronous_commit = on}); if any part fails, the driver throws and nothing of it is
   * committed. {@code work} executes {@code first} ({@link #resultOf}) and runs no other statement:
   * a later one would be a transaction of its own, without the tenant.
   */
  public <T> T inTenantInOneRoundTrip(UUID tenant, String statement, FirstQueryTx<T> work) throws SQLException {
    try (Connection c = app.getConnection()) {
      c.setAutoCommit(true); // the pool sets it back when the connection returns
      try (PreparedStatement first = c.prepareStatement(SET_TENANT + "; " + statement)) {
        first.setString(1, tenant.toString());
        return work.run(c, first);
      }
    }
  }

  /** Executes the first query of {@link #inTenant(UUID, String, FirstQueryTx)} and returns its rows. */
  public static ResultSet resultOf(PreparedStatement first) throws SQLException {
    first.execute(); // the set_config's row, then the query's
    if (!first.getMoreResults()) {
      throw new SQLException("the first query of a tenant transaction returned no rows");
    }
    return first.getResultSet();
  }

  /** Runs {@code work} in one transaction of the administrative role, scoped to {@code tenant}. */
  public <T> T asAdmin(UUID tenant, Tx<T> work) throws SQLException {
    return transaction(admin, c -> {
      if (tenant != null) {
        setTenant(c, tenant);
      }
      return work.run(c);
    });
  }

  /** {@code work} on a connection of {@code pool}, committed, or rolled back when it throws. */
  private static <T> T transaction(DataSource pool, Tx<T> work) throws SQLException {
    try (Connection c = pool.getConnection()) {
      try {
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
    try (PreparedStatement p = c.prepareStatement(SET_TENANT)) {
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
