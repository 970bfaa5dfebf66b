package chat.agentvault.relay.http;

import io.javalin.http.Context;
import java.util.Set;
import java.util.UUID;

/** Small helpers for reading requests the same way in every feature package. */
public final class Requests {
  private Requests() {}

  /** The body as a JSON object with only {@code allowed} fields; an empty body reads as {@code {}}. */
  public static JsonBody body(Context ctx, Set<String> allowed) {
    byte[] b = ctx.bodyAsBytes();
    if (b.length == 0) {
      b = new byte[] {'{', '}'};
    }
    return JsonBody.parse(b, allowed);
  }

  /** A path parameter that must be a UUID (400 naming it otherwise). */
  public static UUID uuidParam(Context ctx, String name) {
    return JsonBody.parseUuid(ctx.pathParam(name), name);
  }
}
