package chat.agentvault.identity;

import chat.agentvault.VaultException;
import java.util.Objects;

/**
 * An encoded {@link PublicIdentity} was refused: it is malformed, of an unknown version, or its
 * X25519 key is not bound to its Ed25519 key. The caller rejects the identity; nothing about it
 * may be used.
 */
public final class InvalidIdentityException extends VaultException {
  private static final long serialVersionUID = 1L;

  /** Why the identity was refused. */
  public enum Reason {
    /** Wrong length or structure. */
    MALFORMED,
    /** A version byte this SDK does not know. */
    UNSUPPORTED_VERSION,
    /** The binding signature over the X25519 key does not verify under the Ed25519 key. */
    BAD_BINDING
  }

  private final Reason reason;

  InvalidIdentityException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  InvalidIdentityException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }

  @Override
  public String toString() {
    return "InvalidIdentityException[" + reason + "]: " + getMessage();
  }
}
