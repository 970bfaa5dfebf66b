package chat.agentvault.ratchet;

import chat.agentvault.VaultException;
import java.util.Objects;

/**
 * A 1:1 session operation was refused: a prekey bundle, an initial message or a ratchet message
 * could not be used. The session state, stored and in memory, is exactly as before the call. The
 * {@link #reason()} tells the channel layer what to do next: drop the message ({@link
 * Reason#DUPLICATE}, {@link Reason#BAD_MAC}, {@link Reason#MALFORMED}), or re-initialise the session
 * from a fresh bundle and emit a resync event ({@link Reason#UNKNOWN_SESSION}, {@link
 * Reason#TOO_MANY_SKIPPED}, {@link Reason#EXPIRED}, repeated {@link Reason#BAD_MAC}). The message
 * text never carries key, nonce or plaintext bytes.
 */
public final class RatchetException extends VaultException {
  private static final long serialVersionUID = 1L;

  /** Why a bundle or message was refused. */
  public enum Reason {
    /** Not a well-formed encoding of what it claims to be (truncated, trailing bytes, bad flag). */
    MALFORMED,
    /** A version byte this SDK does not know. */
    UNSUPPORTED_VERSION,
    /** The signed prekey's signature or the identity binding does not verify. */
    BAD_SIGNATURE,
    /** A public key is of low order: the X25519 output would be all zeros (RFC 7748 §6.1). */
    SMALL_ORDER_KEY,
    /** The initial message names a signed prekey this device no longer (or never) had. */
    SIGNED_PREKEY_UNKNOWN,
    /** The initial message names a one-time prekey that was never issued or was already used. */
    ONE_TIME_PREKEY_UNKNOWN_OR_USED,
    /** There is no session with this peer (or none this message belongs to). */
    UNKNOWN_SESSION,
    /** Decrypting would skip more message keys than {@code maxSkip} allows in one chain. */
    TOO_MANY_SKIPPED,
    /** Authentication failed: the message or its header was modified, or belongs elsewhere. */
    BAD_MAC,
    /** The message was already decrypted: its key is consumed and deleted. */
    DUPLICATE,
    /** The message's skipped key was deleted because it aged out or was evicted by the bound. */
    EXPIRED
  }

  private final Reason reason;

  RatchetException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  RatchetException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }
}
