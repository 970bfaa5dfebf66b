package chat.agentvault.relay.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A request's JSON object, read field by field with explicit types: no data binding by reflection
 * on the relay's security paths. Every mistake is an {@link ApiException} 400 that names the field:
 * not an object, an unknown field, a missing field, a wrong type, bad base64, a bad UUID.
 */
public final class JsonBody {

  /** The one mapper: strict about duplicates, trailing tokens and numbers. */
  public static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  private final ObjectNode node;

  private JsonBody(ObjectNode node) {
    this.node = node;
  }

  /** Parses {@code bytes} as one JSON object whose fields are all in {@code allowed}. */
  public static JsonBody parse(byte[] bytes, Set<String> allowed) {
    JsonNode n;
    try {
      n = MAPPER.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest("malformed JSON");
    } catch (java.io.IOException e) {
      throw ApiException.badRequest("malformed JSON");
    }
    return of(n, allowed);
  }

  /** Wraps an already parsed node (a WebSocket frame) with the same checks. */
  public static JsonBody of(JsonNode n, Set<String> allowed) {
    if (n == null || !n.isObject()) {
      throw ApiException.badRequest("expected a JSON object");
    }
    Iterator<String> names = n.fieldNames();
    while (names.hasNext()) {
      String f = names.next();
      if (!allowed.contains(f)) {
        throw ApiException.badRequest("unknown field: " + truncate(f));
      }
    }
    return new JsonBody((ObjectNode) n);
  }

  public boolean has(String field) {
    JsonNode v = node.get(field);
    return v != null && !v.isNull();
  }

  public String string(String field) {
    return optString(field).orElseThrow(() -> ApiException.badRequest("missing field: " + field));
  }

  public Optional<String> optString(String field) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isTextual()) {
      throw ApiException.badRequest("field " + field + " must be a string");
    }
    return Optional.of(v.textValue());
  }

  /** A string of 1..{@code max} characters. */
  public String text(String field, int max) {
    String s = string(field);
    if (s.isEmpty() || s.length() > max) {
      throw ApiException.badRequest("field " + field + " must have 1 to " + max + " characters");
    }
    return s;
  }

  public Optional<String> optText(String field, int max) {
    if (!has(field)) {
      return Optional.empty();
    }
    return Optional.of(text(field, max));
  }

  /** Standard base64 (RFC 4648 §4), decoded; at most {@code maxBytes}. */
  public byte[] bytes(String field, int maxBytes) {
    return optBytes(field, maxBytes).orElseThrow(() -> ApiException.badRequest("missing field: " + field));
  }

  public Optional<byte[]> optBytes(String field, int maxBytes) {
    Optional<String> s = optString(field);
    if (s.isEmpty()) {
      return Optional.empty();
    }
    if (s.get().length() > (maxBytes / 3 + 1) * 4) {
      throw new ApiException(413, "field " + field + " is larger than " + maxBytes + " bytes");
    }
    try {
      byte[] b = Base64.getDecoder().decode(s.get());
      if (b.length > maxBytes) {
        throw new ApiException(413, "field " + field + " is larger than " + maxBytes + " bytes");
      }
      return Optional.of(b);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("field " + field + " must be base64");
    }
  }

  public UUID uuid(String field) {
    return optUuid(field).orElseThrow(() -> ApiException.badRequest("missing field: " + field));
  }

  public Optional<UUID> optUuid(String field) {
    return optString(field).map(s -> parseUuid(s, field));
  }

  public long integer(String field) {
    return optInteger(field).orElseThrow(() -> ApiException.badRequest("missing field: " + field));
  }

  public Optional<Long> optInteger(String field) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw ApiException.badRequest("field " + field + " must be an integer");
    }
    return Optional.of(v.longValue());
  }

  public Optional<Boolean> optBoolean(String field) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    if (!v.isBoolean()) {
      throw ApiException.badRequest("field " + field + " must be a boolean");
    }
    return Optional.of(v.booleanValue());
  }

  /** An array of at most {@code max} elements (missing means empty). */
  public List<JsonNode> array(String field, int max) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      throw ApiException.badRequest("field " + field + " must be an array");
    }
    if (v.size() > max) {
      throw ApiException.badRequest("field " + field + " has more than " + max + " elements");
    }
    List<JsonNode> out = new ArrayList<>(v.size());
    ((ArrayNode) v).forEach(out::add);
    return out;
  }

  public JsonNode raw(String field) {
    return node.get(field);
  }

  public static UUID parseUuid(String s, String what) {
    try {
      if (s.length() != 36) {
        throw new IllegalArgumentException();
      }
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(what + " must be a UUID");
    }
  }

  /** Standard base64 of {@code b}. */
  public static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  private static String truncate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
