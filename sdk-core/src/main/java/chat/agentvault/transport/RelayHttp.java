package chat.agentvault.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * The relay's REST API (docs/protocol.md) as JSON over OkHttp: one shared client, no auth state
 * (tokens come from {@link RelaySession}). Not API: public for {@code chat.agentvault.channel}.
 */
public final class RelayHttp {
  static final MediaType JSON = MediaType.get("application/json; charset=utf-8");
  static final ObjectMapper MAPPER = new ObjectMapper();

  private final OkHttpClient client;
  private final HttpUrl base;

  private RelayHttp(HttpUrl base, OkHttpClient client) {
    this.base = base;
    this.client = client;
  }

  /** A client of the relay at {@code baseUrl} ({@code http(s)://host:port}). */
  public static RelayHttp create(String baseUrl) {
    return create(baseUrl, new OkHttpClient.Builder()
        .connectTimeout(Duration.ofSeconds(10))
        .readTimeout(Duration.ofSeconds(30))
        .writeTimeout(Duration.ofSeconds(30))
        .pingInterval(Duration.ofSeconds(20))
        .build());
  }

  /** As {@link #create(String)}, sharing {@code client}'s pool and dispatcher. */
  public static RelayHttp create(String baseUrl, OkHttpClient client) {
    Objects.requireNonNull(baseUrl, "baseUrl");
    HttpUrl url = HttpUrl.parse(baseUrl);
    if (url == null) {
      throw new IllegalArgumentException("relayUrl is not an http(s) URL: " + baseUrl);
    }
    return new RelayHttp(url, Objects.requireNonNull(client, "client"));
  }

  /** A new empty JSON object. */
  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** Standard base64 (RFC 4648 §4), as the relay uses for every binary value. */
  public static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  OkHttpClient okHttp() {
    return client;
  }

  HttpUrl base() {
    return base;
  }

  /** The WebSocket URL ({@code /ws} on the same host). */
  String webSocketUrl() {
    return base.newBuilder().encodedPath("/ws").build().toString().replaceFirst("^http", "ws");
  }

  public JsonNode get(String path, String token) {
    return call("GET", path, null, token);
  }

  public JsonNode post(String path, JsonNode body, String token) {
    return call("POST", path, body == null ? object() : body, token);
  }

  public JsonNode put(String path, JsonNode body, String token) {
    return call("PUT", path, body, token);
  }

  public JsonNode delete(String path, String token) {
    return call("DELETE", path, null, token);
  }

  /**
   * One request; the answer's JSON (an empty object for 204).
   *
   * @throws RelayException for a status of 400 and above, or status 0 when there was no answer
   */
  JsonNode call(String method, String path, JsonNode body, String token) {
    HttpUrl url = HttpUrl.parse(base.toString().replaceAll("/$", "") + path);
    if (url == null) {
      throw new IllegalArgumentException("bad path: " + path);
    }
    Request.Builder rb = new Request.Builder().url(url);
    if (token != null) {
      rb.header("Authorization", "Bearer " + token);
    }
    RequestBody rbody = body == null ? null : RequestBody.create(body.toString(), JSON);
    rb.method(method, rbody);
    try (Response r = client.newCall(rb.build()).execute()) {
      ResponseBody b = r.body();
      String text = b == null ? "" : b.string();
      JsonNode json = text.isEmpty() ? object() : parse(text);
      if (!r.isSuccessful()) {
        throw error(r.code(), json);
      }
      return json;
    } catch (IOException e) {
      throw new RelayException(0, e.getClass().getSimpleName() + ": " + e.getMessage(), null, e);
    }
  }

  static RelayException error(int status, JsonNode json) {
    String detail = json.path("detail").asText("");
    Long epoch = json.has("current_epoch") ? json.path("current_epoch").asLong() : null;
    return new RelayException(status, detail, epoch, null);
  }

  private static JsonNode parse(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (IOException e) {
      return object().put("detail", "unparseable answer");
    }
  }

  /** A relay message object (docs/protocol.md "Messages") as a {@link WireMessage}. */
  public static WireMessage message(JsonNode m) {
    return new WireMessage(
        m.path("message_id").asLong(),
        m.path("sender_device_id").asText(),
        text(m, "room_id"),
        text(m, "conversation_id"),
        m.path("message_type").asText(),
        m.path("content_type").asText(),
        text(m, "client_message_id"),
        m.hasNonNull("epoch") ? m.path("epoch").asLong() : null,
        Base64.getDecoder().decode(m.path("payload").asText("")),
        m.hasNonNull("created_at") ? Instant.parse(m.path("created_at").asText()) : null);
  }

  private static String text(JsonNode n, String field) {
    return n.hasNonNull(field) ? n.path(field).asText() : null;
  }

  @Override
  public String toString() {
    return "RelayHttp[" + base + "]";
  }
}
