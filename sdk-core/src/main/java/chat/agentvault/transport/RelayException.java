package chat.agentvault.transport;

import chat.agentvault.VaultException;
import java.util.OptionalLong;

/**
 * The relay refused a request ({@code status} 400..599 with the relay's {@code detail}), or could
 * not be reached ({@code status} 0). Whether to retry: {@link #isRetriable()}.
 */
public final class RelayException extends VaultException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String detail;
  private final Long currentEpoch;

  RelayException(int status, String detail, Long currentEpoch, Throwable cause) {
    super(status == 0 ? "relay unreachable: " + detail : "relay answered " + status + ": " + detail, cause);
    this.status = status;
    this.detail = detail == null ? "" : detail;
    this.currentEpoch = currentEpoch;
  }

  /** The HTTP status; 0 when the relay could not be reached (no answer). */
  public int status() {
    return status;
  }

  /** The relay's {@code detail} ({@code "device pending approval"}, {@code "epoch conflict"}, ...). */
  public String detail() {
    return detail;
  }

  /** The room's epoch of a 409 {@code epoch conflict} or {@code stale group info}. */
  public OptionalLong currentEpoch() {
    return currentEpoch == null ? OptionalLong.empty() : OptionalLong.of(currentEpoch);
  }

  /** True for no answer, 429 and 5xx: the same request may succeed later. */
  public boolean isRetriable() {
    return status == 0 || status == 429 || status >= 500;
  }

  @Override
  public String toString() {
    return "RelayException[" + status + " " + detail + "]";
  }
}
