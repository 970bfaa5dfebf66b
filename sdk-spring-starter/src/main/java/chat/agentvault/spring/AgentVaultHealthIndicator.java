package chat.agentvault.spring;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The client's connection and enrollment as health: {@code agentvault} in the health endpoint.
 *
 * <table>
 *   <caption>Status by {@link ClientState}</caption>
 *   <tr><td>ONLINE</td><td>UP</td></tr>
 *   <tr><td>PENDING_APPROVAL, SUSPENDED</td><td>OUT_OF_SERVICE (the owner has to act)</td></tr>
 *   <tr><td>OFFLINE, REVOKED, CLOSED; or the start failed</td><td>DOWN</td></tr>
 *   <tr><td>CREATED, ENROLLING, CONNECTING</td><td>UNKNOWN (starting)</td></tr>
 * </table>
 *
 * <p>Details: {@code state}, {@code deviceId} and {@code role} once enrolled, {@code fingerprint}
 * once the identity is loaded (what the owner compares before approving), and {@code error}, the
 * exception type of a failed start (its message is in the log). Never a secret: no passphrase,
 * key or invite token is known to this class.
 */
public final class AgentVaultHealthIndicator implements HealthIndicator {
  private final AgentClient client;
  private final AgentVaultLifecycle lifecycle;

  /**
   * @param client the client
   * @param lifecycle its lifecycle (for a failed start), or null when the application starts the client
   */
  AgentVaultHealthIndicator(AgentClient client, AgentVaultLifecycle lifecycle) {
    this.client = Objects.requireNonNull(client, "client");
    this.lifecycle = lifecycle;
  }

  /** The status a state maps to (without a failed start). */
  static Status status(ClientState state) {
    return switch (state) {
      case ONLINE -> Status.UP;
      case PENDING_APPROVAL, SUSPENDED -> Status.OUT_OF_SERVICE;
      case OFFLINE, REVOKED, CLOSED -> Status.DOWN;
      case CREATED, ENROLLING, CONNECTING -> Status.UNKNOWN;
    };
  }

  @Override
  public Health health() {
    ClientState state = client.state();
    RuntimeException failure = lifecycle == null ? null : lifecycle.startFailure().orElse(null);
    Health.Builder b = Health.status(failure != null && state != ClientState.ONLINE ? Status.DOWN : status(state))
        .withDetail("state", state.name());
    client.deviceId().ifPresent(id -> b.withDetail("deviceId", id));
    client.role().ifPresent(r -> b.withDetail("role", r));
    try {
      b.withDetail("fingerprint", client.fingerprint().full());
    } catch (RuntimeException notLoaded) {
      // no identity loaded yet (not started), or already closed: nothing to show
    }
    if (failure != null) {
      b.withDetail("error", failure.getClass().getName());
    }
    return b.build();
  }

  @Override
  public String toString() {
    return "AgentVaultHealthIndicator[" + client + "]";
  }
}
