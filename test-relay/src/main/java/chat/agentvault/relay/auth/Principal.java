package chat.agentvault.relay.auth;

import java.util.UUID;

/** Who a request (or WebSocket) acts for, from a verified access token. */
public record Principal(UUID tenant, UUID device, String role) {
  public boolean isOwner() {
    return "owner".equals(role);
  }
}
