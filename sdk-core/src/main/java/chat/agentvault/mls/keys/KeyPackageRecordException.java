package chat.agentvault.mls.keys;

import chat.agentvault.VaultException;
import java.util.Objects;

/**
 * Stored {@link KeyPackageBundle} bytes could not be loaded. Nothing was loaded from them; the
 * message never carries key bytes.
 */
public final class KeyPackageRecordException extends VaultException {
  private static final long serialVersionUID = 1L;

  /** Why the record was refused. */
  public enum Reason {
    /**
     * Truncated, extended, or modified: it does not decode, its KeyPackage signature does not
     * verify, or its private keys do not match the KeyPackage's public keys.
     */
    CORRUPTED,
    /** A record format version this SDK cannot read (written by a newer one). */
    UNSUPPORTED_VERSION
  }

  private final Reason reason;

  KeyPackageRecordException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  KeyPackageRecordException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }

  @Override
  public String toString() {
    return "KeyPackageRecordException[" + reason + "]: " + getMessage();
  }
}
