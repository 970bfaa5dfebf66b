package chat.agentvault.relay.auth;

import chat.agentvault.relay.http.ApiException;

/**
 * The device state machine (docs/protocol.md, "Devices"): PENDING -> APPROVED -> ACTIVE;
 * ACTIVE <-> SUSPENDED; any state -> REVOKED, which nothing leaves.
 */
public final class DeviceStates {
  private DeviceStates() {}

  /** Refuses a device that may not act (pending, suspended, revoked) with 403 and the reason. */
  public static void requireUsable(String state) {
    switch (state) {
      case "APPROVED", "ACTIVE" -> { }
      case "PENDING" -> throw ApiException.forbidden("device pending approval");
      case "SUSPENDED" -> throw ApiException.forbidden("device suspended");
      case "REVOKED" -> throw ApiException.forbidden("device revoked");
      default -> throw ApiException.forbidden("device not usable");
    }
  }

  /** Whether {@code from -> to} is a legal transition. */
  public static boolean allowed(String from, String to) {
    return switch (from) {
      case "PENDING" -> to.equals("APPROVED") || to.equals("REVOKED");
      case "APPROVED" -> to.equals("ACTIVE") || to.equals("SUSPENDED") || to.equals("REVOKED");
      case "ACTIVE" -> to.equals("SUSPENDED") || to.equals("REVOKED");
      case "SUSPENDED" -> to.equals("ACTIVE") || to.equals("REVOKED");
      default -> false; // REVOKED is final
    };
  }
}
