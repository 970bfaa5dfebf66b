package chat.agentvault.relay;

import java.sql.PreparedStatement;
import java.util.UUID;

/** Logged-in test devices and direct settings of device columns owned by other endpoints. */
final class Agents {
  private Agents() {}

  /** An ACTIVE device with a fresh access token. */
  record Agent(Fixtures.Device device, String token) {
    UUID id() {
      return device.id();
    }

    UUID tenant() {
      return device.tenant();
    }
  }

  static Agent agent(TestRelay relay, UUID tenant) throws Exception {
    return agent(relay, tenant, "agent");
  }

  static Agent agent(TestRelay relay, UUID tenant, String role) throws Exception {
    Fixtures.Device d = Fixtures.active(relay, tenant, role);
    return new Agent(d, Fixtures.login(relay, d));
  }

  /** Sets a device column as the administrative role (hub_address, webhook_url, trust_tier, state). */
  static void set(TestRelay relay, Agent a, String column, Object value) throws Exception {
    relay.database().asAdmin(a.tenant(), c -> {
      try (PreparedStatement p = c.prepareStatement("update devices set " + column + " = ? where id = ?")) {
        p.setObject(1, value);
        p.setObject(2, a.id());
        p.executeUpdate();
      }
      return null;
    });
  }
}
