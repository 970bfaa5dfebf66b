package chat.agentvault.ratchet;

import chat.agentvault.identity.Fingerprint;
import java.util.Objects;

/**
 * Whom a session is with: the peer device's identity fingerprint and a device number the
 * application assigns (as Signal's {@code name:deviceId}). One session record per address.
 */
public record PeerAddress(Fingerprint fingerprint, int deviceId) {
  public PeerAddress {
    Objects.requireNonNull(fingerprint, "fingerprint");
    if (deviceId < 0) {
      throw new IllegalArgumentException("deviceId must not be negative: " + deviceId);
    }
  }

  /** Short fingerprint and device, for logs. */
  @Override
  public String toString() {
    return fingerprint.shortForm() + ":" + deviceId;
  }
}
