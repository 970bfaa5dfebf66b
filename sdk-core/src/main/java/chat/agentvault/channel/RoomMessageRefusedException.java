package chat.agentvault.channel;

import chat.agentvault.MessageRejectedException;

/**
 * {@link RoomEngine#process} refused a room message that failed authentication or did not decode
 * (bad signature or membership tag, bad AEAD tag, garbled framing): a forgery or corruption, not a
 * desync. The group is unchanged, no resync is attempted; the engine counted it as a security
 * violation of the room and rekeys the room (at the next {@link RoomEngine#commitState()} or {@link
 * RoomEngine#rollbackState()}). The runtime drops (and acknowledges) the message.
 */
final class RoomMessageRefusedException extends MessageRejectedException {
  private static final long serialVersionUID = 1L;
  private final String roomId;

  RoomMessageRefusedException(String roomId, MessageRejectedException cause) {
    super(cause.reason(), "room " + roomId + ": " + cause.getMessage(), cause);
    this.roomId = roomId;
  }

  String roomId() {
    return roomId;
  }
}
