package chat.agentvault.channel;

import java.util.regex.Pattern;

/**
 * Message types: the relay sees them ({@code message_type}), and they name the structured body
 * inside the envelope. Custom types: 1 to 64 of {@code a-z 0-9 _ . -}; {@code event} and {@code
 * mls_*} are reserved.
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

  private static final Pattern VALID = Pattern.compile("[a-z0-9_.-]{1,64}");

  private MessageType() {}

  /** Returns {@code type} if it is a valid application message type. */
  public static String check(String type) {
    if (type == null || !VALID.matcher(type).matches() || type.equals("event") || type.startsWith("mls_")) {
      throw new IllegalArgumentException("invalid message type: " + type);
    }
    return type;
  }
}
