package chat.agentvault.relay.http;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A refusal the client sees as {@code {"detail": "..."}} with {@link #status()}. The detail is
 * written for the client: it never repeats secrets or request bodies.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final transient ObjectNode extra;

  public ApiException(int status, String detail) {
    this(status, detail, null);
  }

  /** A refusal whose body carries {@code extra}'s fields next to {@code detail} (e.g. {@code current_epoch}). */
  public ApiException(int status, String detail, ObjectNode extra) {
    super(detail, null, false, false);
    this.status = status;
    this.extra = extra == null ? null : extra.deepCopy();
  }

  /** The error body: {@code {"detail": ..., ...extra}}. */
  public ObjectNode body() {
    ObjectNode b = JsonBody.object().put("detail", detail());
    if (extra != null) {
      extra.fields().forEachRemaining(e -> {
        if (!e.getKey().equals("detail")) {
          b.set(e.getKey(), e.getValue().deepCopy());
        }
      });
    }
    return b;
  }

  public int status() {
    return status;
  }

  public String detail() {
    return getMessage();
  }

  public static ApiException badRequest(String detail) { return new ApiException(400, detail); }
  public static ApiException unauthorized(String detail) { return new ApiException(401, detail); }
  public static ApiException forbidden(String detail) { return new ApiException(403, detail); }
  public static ApiException notFound(String detail) { return new ApiException(404, detail); }
  public static ApiException conflict(String detail) { return new ApiException(409, detail); }
}
