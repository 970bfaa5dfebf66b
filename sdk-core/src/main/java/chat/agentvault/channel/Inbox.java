package chat.agentvault.channel;

import chat.agentvault.identity.EncryptedFileStore;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Decrypted inbound messages not yet acknowledged to the relay, encrypted at rest (one blob per
 * relay message id). The crash-safety record of docs/channel.md: an id found here was decrypted
 * and its advanced state stored; {@code dispatched} says whether listeners saw it. A message the
 * client could not process is kept as {@code rejected} (so it is not tried twice). Entries are
 * deleted once the relay acknowledged the id.
 */
final class Inbox {
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};
  private final EncryptedFileStore store;

  Inbox(EncryptedFileStore store) {
    this.store = store;
  }

  /** An entry: the message (null when rejected) and whether it was dispatched. */
  record Entry(long messageId, InboundMessage message, boolean dispatched) {}

  static String name(long id) {
    return String.format("m%020d", id);
  }

  Optional<Entry> get(long id) {
    Optional<byte[]> b = store.get(name(id));
    if (b.isEmpty()) {
      return Optional.empty();
    }
    try {
      JsonNode o = Envelope.MAPPER.readTree(b.get());
      InboundMessage m = null;
      JsonNode j = o.get("message");
      if (j != null && !j.isNull()) {
        m = new InboundMessage(id, text(j, "room_id"), text(j, "conversation_id"), text(j, "sender_device_id"),
            text(j, "sender_name"), text(j, "message_type"), text(j, "text"),
            j.hasNonNull("data") ? Envelope.MAPPER.convertValue(j.get("data"), MAP) : null,
            text(j, "span_id"), text(j, "parent_span_id"),
            j.hasNonNull("server_time") ? Instant.parse(j.get("server_time").asText()) : null,
            j.path("encrypted").asBoolean());
      }
      return Optional.of(new Entry(id, m, o.path("dispatched").asBoolean()));
    } catch (IOException e) {
      throw new IllegalStateException("inbox entry " + id + " unreadable", e);
    }
  }

  /** Stores a decrypted message (durable when this returns). */
  void put(long id, InboundMessage m, boolean dispatched) {
    ObjectNode o = Envelope.MAPPER.createObjectNode().put("v", 1).put("dispatched", dispatched);
    if (m != null) {
      ObjectNode j = o.putObject("message");
      j.put("room_id", m.roomId()).put("conversation_id", m.conversationId())
          .put("sender_device_id", m.senderDeviceId()).put("sender_name", m.senderName())
          .put("message_type", m.messageType()).put("text", m.text())
          .put("span_id", m.spanId()).put("parent_span_id", m.parentSpanId())
          .put("server_time", m.serverTime() == null ? null : m.serverTime().toString())
          .put("encrypted", m.encrypted());
      if (m.data() != null) {
        j.set("data", Envelope.MAPPER.valueToTree(m.data()));
      }
    } else {
      o.putNull("message");
    }
    store.put(name(id), o.toString().getBytes(StandardCharsets.UTF_8));
  }

  void delete(long id) {
    store.delete(name(id));
  }

  int size() {
    return store.list().size();
  }

  private static String text(JsonNode j, String f) {
    return j.hasNonNull(f) ? j.get(f).asText() : null;
  }
}
