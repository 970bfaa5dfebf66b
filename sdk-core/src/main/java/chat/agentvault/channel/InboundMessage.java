package chat.agentvault.channel;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A message delivered to {@link AgentClient#onMessage} listeners, decrypted: where it came from
 * (a room, or a direct conversation), who sent it, its type, text and structured body, span ids
 * and the relay's time. Immutable.
 *
 * @param messageId the relay's id (increasing)
 * @param roomId the room, or null for a direct conversation
 * @param conversationId the direct conversation, or null for a room message
 * @param senderDeviceId the sending device
 * @param senderName the sender's name (as the sender's device states it)
 * @param messageType {@link MessageType}
 * @param text the text, possibly empty
 * @param data the structured body (decision request, reaction...), or null
 * @param spanId the sender's span id of this message
 * @param parentSpanId the span it answers, or null
 * @param serverTime when the relay stored it
 * @param encrypted whether it was end-to-end encrypted (false in a plaintext room)
 */
public record InboundMessage(long messageId, String roomId, String conversationId, String senderDeviceId,
    String senderName, String messageType, String text, Map<String, Object> data, String spanId,
    String parentSpanId, Instant serverTime, boolean encrypted) {

  public InboundMessage {
    data = data == null ? null : Map.copyOf(data);
  }

  public Optional<String> room() {
    return Optional.ofNullable(roomId);
  }

  public Optional<Map<String, Object>> structured() {
    return Optional.ofNullable(data);
  }

  /** Metadata only: never the text or body. */
  @Override
  public String toString() {
    return "InboundMessage[id=" + messageId + ", " + (roomId != null ? "room=" + roomId : "conversation=" + conversationId)
        + ", from=" + senderDeviceId + ", type=" + messageType + "]";
  }
}
