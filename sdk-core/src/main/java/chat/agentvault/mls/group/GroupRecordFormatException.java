package chat.agentvault.mls.group;

import chat.agentvault.VaultException;
import java.util.Objects;

/**
 * Stored group record bytes ({@link Group#toRecord()}) could not be loaded. Nothing was loaded
 * from them; the message never carries key bytes. Internal: the public API reports it as {@link
 * chat.agentvault.mls.GroupRecordException}.
 */
public final class GroupRecordFormatException extends VaultException {
  private static final long serialVersionUID = 1L;

  /** Why the record was refused. */
  public enum Reason {
    /** Truncated, extended or modified: the checksum or the structure does not check. */
    CORRUPTED,
    /** A record format version this SDK cannot read (written by a newer one). */
    UNSUPPORTED_VERSION
  }

  private final Reason reason;

  public GroupRecordFormatException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public GroupRecordFormatException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }

  @Override
  public String toString() {
    return "GroupRecordFormatException[" + reason + "]: " + getMessage();
  }
}
