package chat.agentvault.mls;

import chat.agentvault.VaultException;
import java.util.Objects;

/**
 * A stored group could not be loaded ({@link MlsGroup#load}, {@link GroupStore#load}): nothing was
 * loaded from it. The message never carries key bytes.
 */
public final class GroupRecordException extends VaultException {
  private static final long serialVersionUID = 1L;

  /** Why the record was refused. */
  public enum Reason {
    /** Truncated, extended or modified: the checksum or the structure does not check. */
    CORRUPTED,
    /** A record format version this SDK cannot read (written by a newer one). */
    UNSUPPORTED_VERSION
  }

  private final Reason reason;

  GroupRecordException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  GroupRecordException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }

  @Override
  public String toString() {
    return "GroupRecordException[" + reason + "]: " + getMessage();
  }
}
