package chat.agentvault.identity;

import chat.agentvault.VaultException;
import java.util.Objects;

/**
 * A key store or backup could not be created, opened, read or written.
 *
 * <p>The caller branches on {@link #reason()}: ask for the passphrase again ({@link
 * Reason#WRONG_KEY}), restore from a backup ({@link Reason#CORRUPTED}), upgrade the SDK ({@link
 * Reason#UNSUPPORTED_VERSION}), create or open instead ({@link Reason#NOT_FOUND}, {@link
 * Reason#ALREADY_EXISTS}), or fix the environment ({@link Reason#IO}). Messages name files and
 * parameters, never key, passphrase or plaintext bytes.
 */
public final class KeyStoreException extends VaultException {
  private static final long serialVersionUID = 1L;

  /** Why the operation failed. */
  public enum Reason {
    /**
     * The passphrase or key does not unwrap the data key (or the store uses the other kind of
     * protection), while the header itself is intact.
     */
    WRONG_KEY,
    /**
     * A file was modified, truncated, renamed or replaced, or carries parameters out of bounds
     * (for instance absurd Argon2id costs). Nothing was loaded from it.
     */
    CORRUPTED,
    /** A well-formed file written by a newer format version this SDK cannot read. */
    UNSUPPORTED_VERSION,
    /** There is no key store (or no such file) where one was expected. */
    NOT_FOUND,
    /** A key store already exists where a new one was to be created. */
    ALREADY_EXISTS,
    /** The file system failed (permissions, disk full, I/O error) or memory ran out. */
    IO
  }

  private final Reason reason;

  KeyStoreException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  KeyStoreException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }

  @Override
  public String toString() {
    return "KeyStoreException[" + reason + "]: " + getMessage();
  }
}
