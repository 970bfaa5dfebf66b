package chat.agentvault.channel;

import java.util.Optional;

/**
 * What became of a send. {@code stored} is true only when the relay answered that it stored the
 * message ({@code messageId}; {@code duplicate} when an earlier try with the same {@code
 * clientMessageId} was stored). When false, {@code failure} says why; resending with
 * {@link SendOptions.Builder#clientMessageId} set to {@code clientMessageId} is idempotent.
 */
public record SendResult(boolean stored, long messageId, boolean duplicate, String clientMessageId,
    String roomId, String conversationId, String spanId, String failure) {

  public Optional<String> room() {
    return Optional.ofNullable(roomId);
  }

  public Optional<String> conversation() {
    return Optional.ofNullable(conversationId);
  }

  public Optional<String> failureReason() {
    return Optional.ofNullable(failure);
  }
}
