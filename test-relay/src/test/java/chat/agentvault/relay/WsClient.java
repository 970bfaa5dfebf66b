package chat.agentvault.relay;

import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A test WebSocket client (JDK java.net.http): frames into a queue, the close code into a future. */
public final class WsClient implements AutoCloseable {
  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  public final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
  public final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final WebSocket ws;

  private WsClient(WebSocket ws) {
    this.ws = ws;
  }

  /** Connects with {@code Authorization: Bearer token} (or {@code ?token=} when {@code inQuery}). */
  public static WsClient connect(String wsUrl, String token, boolean inQuery) {
    WsClient[] self = new WsClient[1];
    CompletableFuture<WsClient> ready = new CompletableFuture<>();
    Listener l = new Listener(self, ready);
    WebSocket.Builder b = CLIENT.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
    String url = wsUrl;
    if (token != null && inQuery) {
      url += "?token=" + token;
    } else if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      WebSocket ws = b.buildAsync(URI.create(url), l).get(15, TimeUnit.SECONDS);
      return ready.get(5, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException h) {
        throw new Refused(h.getResponse().statusCode(), String.valueOf(h.getResponse().body()));
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  public static WsClient connect(TestRelay relay, String token) {
    return connect(relay.webSocketUrl(), token, false);
  }

  /** The upgrade was answered with an HTTP status instead of 101. */
  public static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final int status;

    Refused(int status, String body) {
      super("upgrade refused: " + status + " " + body);
      this.status = status;
    }
  }

  private static final class Listener implements WebSocket.Listener {
    private final WsClient[] self;
    private final CompletableFuture<WsClient> ready;
    private final StringBuilder partial = new StringBuilder();

    Listener(WsClient[] self, CompletableFuture<WsClient> ready) {
      this.self = self;
      this.ready = ready;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
      self[0] = new WsClient(webSocket);
      ready.complete(self[0]);
      webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          self[0].frames.add(JsonBody.MAPPER.readTree(partial.toString()));
        } catch (IOException e) {
          throw new IllegalStateException("server sent non-JSON: " + partial, e);
        }
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      self[0].closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      if (self[0] != null) {
        self[0].closed.complete(-1);
      }
    }
  }

  public void send(String text) {
    ws.sendText(text, true).join();
  }

  public void send(JsonNode frame) {
    send(frame.toString());
  }

  /** The next frame within {@code seconds}, or an AssertionError. */
  public JsonNode next(double seconds) {
    try {
      JsonNode n = frames.poll((long) (seconds * 1000), TimeUnit.MILLISECONDS);
      if (n == null) {
        throw new AssertionError("no frame within " + seconds + " s");
      }
      return n;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The next frame of {@code type}, skipping others. */
  public JsonNode next(String type, double seconds) {
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (true) {
      double left = (end - System.nanoTime()) / 1e9;
      if (left <= 0) {
        throw new AssertionError("no " + type + " frame within " + seconds + " s");
      }
      JsonNode n = next(left);
      if (type.equals(n.path("type").asText())) {
        return n;
      }
    }
  }

  /** The close code within {@code seconds}. */
  public int closeCode(double seconds) {
    try {
      return closed.get((long) (seconds * 1000), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("not closed within " + seconds + " s");
    } catch (InterruptedException | ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  public boolean isOpen() {
    return !ws.isInputClosed() && !ws.isOutputClosed();
  }

  @Override
  public void close() {
    if (!ws.isOutputClosed()) {
      try {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // already gone
      }
    }
    ws.abort();
  }
}
