package chat.agentvault.transport;

import java.time.Instant;
import java.util.Objects;

/**
 * A message as the relay delivers it (docs/protocol.md, "Messages"): routing fields in the clear,
 * the payload opaque. {@code roomId} or {@code conversationId} is null when absent; {@code epoch}
 * is null when the sender gave none.
 */
public record WireMessage(long messageId, String senderDeviceId, String roomId, String conversationId,
    String messageType, String contentType, String clientMessageId, Long epoch, byte[] payload, Instant createdAt) {

  public WireMessage {
    Objects.requireNonNull(senderDeviceId, "senderDeviceId");
    Objects.requireNonNull(messageType, "messageType");
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(payload, "payload");
    payload = payload.clone();
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WireMessage w && w.messageId == messageId && w.senderDeviceId.equals(senderDeviceId)
        && java.util.Arrays.equals(w.payload, payload);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(messageId);
  }

  @Override
  public String toString() {
    return "WireMessage[id=" + messageId + ", type=" + messageType + ", room=" + roomId + ", conversation="
        + conversationId + ", payload=" + payload.length + " bytes]";
  }
}
