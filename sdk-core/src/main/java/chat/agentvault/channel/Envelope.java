package chat.agentvault.channel;

import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Objects;

/**
 * What is inside the ciphertext (docs/channel.md "Envelope"): {@code {v, type, text?, data?,
 * span_id, parent_span_id?, sender_name, sent_at}} as JSON. Unknown fields are ignored (a newer
 * sender may add some); a missing or ill-typed required field is {@code MALFORMED}.
 */
record Envelope(String type, String text, Map<String, Object> data, String spanId, String parentSpanId,
    String senderName, Instant sentAt) {
  static final int VERSION = 1;
  static final ObjectMapper MAPPER = new ObjectMapper();
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  Envelope {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(spanId, "spanId");
    Objects.requireNonNull(senderName, "senderName");
    Objects.requireNonNull(sentAt, "sentAt");
    data = data == null ? null : Map.copyOf(data);
  }

  byte[] encode() {
    ObjectNode o = MAPPER.createObjectNode().put("v", VERSION).put("type", type);
    if (text != null) {
      o.put("text", text);
    }
    if (data != null) {
      o.set("data", MAPPER.valueToTree(data));
    }
    o.put("span_id", spanId);
    if (parentSpanId != null) {
      o.put("parent_span_id", parentSpanId);
    }
    o.put("sender_name", senderName).put("sent_at", sentAt.toString());
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  static Envelope decode(byte[] bytes) {
    JsonNode o;
    try {
      o = MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw malformed("not JSON");
    }
    if (o == null || !o.isObject()) {
      throw malformed("not an object");
    }
    if (!o.path("v").isInt() || o.path("v").asInt() != VERSION) {
      throw malformed("unsupported version");
    }
    String type = string(o, "type", true);
    if (type.startsWith(MessageType.RESERVED_PREFIX)) {
      throw malformed("reserved type"); // av.* are the SDK's own events, never a peer's
    }
    String text = string(o, "text", false);
    Map<String, Object> data = null;
    if (o.has("data") && !o.get("data").isNull()) {
      if (!o.get("data").isObject()) {
        throw malformed("data is not an object");
      }
      data = MAPPER.convertValue(o.get("data"), MAP);
    }
    Instant sentAt;
    try {
      sentAt = Instant.parse(string(o, "sent_at", true));
    } catch (DateTimeParseException e) {
      throw malformed("sent_at");
    }
    return new Envelope(type, text, data, string(o, "span_id", true), string(o, "parent_span_id", false),
        string(o, "sender_name", true), sentAt);
  }

  private static String string(JsonNode o, String field, boolean required) {
    JsonNode n = o.get(field);
    if (n == null || n.isNull()) {
      if (required) {
        throw malformed("missing " + field);
      }
      return null;
    }
    if (!n.isTextual()) {
      throw malformed(field + " is not a string");
    }
    return n.asText();
  }

  private static MessageRejectedException malformed(String what) {
    return new MessageRejectedException(Reason.MALFORMED, "envelope: " + what);
  }

  @Override
  public String toString() {
    return "Envelope[type=" + type + ", span=" + spanId + "]";
  }
}
