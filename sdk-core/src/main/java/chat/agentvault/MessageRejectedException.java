package chat.agentvault;

/**
 * An inbound message was refused. The conversation or group state is unchanged; the caller drops
 * the message (or, for {@link Reason#WRONG_EPOCH} and {@link Reason#DECRYPT_FAILED}, may try to
 * resynchronise). The message text names the reason, never key, nonce or plaintext bytes.
 */
public class MessageRejectedException extends VaultException {
  private static final long serialVersionUID = 1L;

  /** Why a message was refused. */
  public enum Reason {
    /** Not a well-formed encoding of what it claims to be, or it violates a protocol rule. */
    MALFORMED,
    /** A signature or membership tag did not verify. */
    BAD_SIGNATURE,
    /** Authenticated decryption failed. */
    DECRYPT_FAILED,
    /** Already processed, or its key was already consumed and deleted. */
    DUPLICATE,
    /** For another epoch (or group) than any this member can process. */
    WRONG_EPOCH,
    /** Further ahead in a ratchet than the configured bound allows. */
    TOO_FAR_AHEAD,
    /** Larger than the configured limit. */
    OVERSIZED,
    /** Its key or credential has expired. */
    EXPIRED
  }

  private final Reason reason;

  public MessageRejectedException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = reason;
  }

  public MessageRejectedException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
