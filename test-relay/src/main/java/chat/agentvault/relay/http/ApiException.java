package chat.agentvault.relay.http;

/**
 * A refusal the client sees as {@code {"detail": "..."}} with {@link #status()}. The detail is
 * written for the client: it never repeats secrets or request bodies.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;

  public ApiException(int status, String detail) {
    super(detail, null, false, false);
    this.status = status;
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
