package chat.agentvault.channel;

import chat.agentvault.identity.EncryptedFileStore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The routing state of {@link AgentClient#send}: the room of the last inbound room message (the
 * sticky room) and the owner device of this agent's owner conversation. Persisted encrypted in the
 * data directory on every change (one blob, written atomically).
 */
final class RoutingContext {
  static final String NAME = "routing";
  private final EncryptedFileStore store;
  private String lastRoomId;
  private String ownerDeviceId;

  private RoutingContext(EncryptedFileStore store) {
    this.store = store;
  }

  static RoutingContext load(EncryptedFileStore store) {
    RoutingContext c = new RoutingContext(store);
    Optional<byte[]> b = store.get(NAME);
    if (b.isPresent()) {
      try {
        JsonNode o = Envelope.MAPPER.readTree(b.get());
        c.lastRoomId = o.hasNonNull("last_room_id") ? o.get("last_room_id").asText() : null;
        c.ownerDeviceId = o.hasNonNull("owner_device_id") ? o.get("owner_device_id").asText() : null;
      } catch (IOException e) {
        // unreadable: start without a sticky room (routing is a convenience, not a secret)
      }
    }
    return c;
  }

  synchronized Optional<String> lastRoom() {
    return Optional.ofNullable(lastRoomId);
  }

  synchronized Optional<String> ownerDevice() {
    return Optional.ofNullable(ownerDeviceId);
  }

  /** Makes {@code roomId} sticky (persisted when it changed). */
  synchronized void roomMessage(String roomId) {
    if (!roomId.equals(lastRoomId)) {
      lastRoomId = roomId;
      save();
    }
  }

  /** Forgets {@code roomId} if it is the sticky room (left or removed). */
  synchronized void forgetRoom(String roomId) {
    if (roomId.equals(lastRoomId)) {
      lastRoomId = null;
      save();
    }
  }

  synchronized void ownerDevice(String deviceId) {
    if (!deviceId.equals(ownerDeviceId)) {
      ownerDeviceId = deviceId;
      save();
    }
  }

  private void save() {
    ObjectNode o = Envelope.MAPPER.createObjectNode().put("v", 1);
    o.put("last_room_id", lastRoomId);
    o.put("owner_device_id", ownerDeviceId);
    store.put(NAME, o.toString().getBytes(StandardCharsets.UTF_8));
  }
}
