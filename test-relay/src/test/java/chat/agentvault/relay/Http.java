package chat.agentvault.relay;

import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small JSON client for the relay's HTTP API in tests (JDK HttpClient, no mocks). */
public final class Http {
  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String base;

  public Http(String base) {
    this.base = base;
  }

  public Http(TestRelay relay) {
    this(relay.baseUrl());
  }

  /** A status and the parsed JSON body (a missing node when the body was not JSON). */
  public record Response(int status, JsonNode body, String raw) {
    public String detail() {
      return body.path("detail").asText(null);
    }
  }

  public Response get(String path, String token) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), token);
  }

  public Response delete(String path, String token) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE(), token);
  }

  public Response post(String path, JsonNode body, String token) {
    return postRaw(path, body == null ? "" : body.toString(), token);
  }

  public Response put(String path, JsonNode body, String token) {
    return send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body.toString())), token);
  }

  public Response patch(String path, JsonNode body, String token) {
    return send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(body.toString())), token);
  }

  public Response postRaw(String path, String body, String token) {
    return send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)), token);
  }

  private Response send(HttpRequest.Builder b, String token) {
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    b.timeout(Duration.ofSeconds(30));
    try {
      HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode n;
      try {
        n = r.body().isEmpty() ? JsonBody.MAPPER.missingNode() : JsonBody.MAPPER.readTree(r.body());
      } catch (IOException e) {
        n = JsonBody.MAPPER.missingNode();
      }
      return new Response(r.statusCode(), n, r.body());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static ObjectNode json() {
    return JsonBody.object();
  }
}
