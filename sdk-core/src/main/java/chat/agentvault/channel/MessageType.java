package chat.agentvault.channel;

import java.util.regex.Pattern;

/**
 * Message types: the relay sees them ({@code message_type}), and they name the structured body
 * inside the envelope. Custom types: 1 to 64 of {@code a-z 0-9 _ . -}; {@code event}, {@code
 * mls_*} and {@code av.*} (the SDK's own events, such as {@link #RESYNC}) are reserved.
 */
public final class MessageType {
  /** Plain text. */
  public static final String TEXT = "text";
  /** A question for a decision: data {@code {question, options: [..]}}. */
  public static final String DECISION_REQUEST = "decision_request";
  /** The answer: data {@code {request_span_id, choice}}. */
  public static final String DECISION_RESPONSE = "decision_response";
  /** A reaction to a message: data {@code {target_span_id, emoji}}. */
  public static final String REACTION = "reaction";
  /**
   * Not sent by anyone: the client tells its listeners that it rejoined a room by external commit
   * after it could not process a message (a missed commit, lost or rolled-back group state). The
   * message that triggered it, and any others of the epochs it skipped, are not readable. Room
   * id set; sender = this device; text = the reason; data {@code {epoch, reason}}.
   */
  public static final String RESYNC = "av.resync";
  /** Prefix of the types the SDK reserves for its own events. */
  static final String RESERVED_PREFIX = "av.";

  private static final Pattern VALID = Pattern.compile("[a-z0-9_.-]{1,64}");

  private MessageType() {}

  /** Returns {@code type} if it is a valid application message type. */
  public static String check(String type) {
    if (type == null || !VALID.matcher(type).matches() || type.equals("event") || type.startsWith("mls_")
        || type.startsWith(RESERVED_PREFIX)) {
      throw new IllegalArgumentException("invalid message type: " + type);
    }
    return type;
  }
}
