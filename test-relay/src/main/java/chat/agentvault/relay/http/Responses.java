package chat.agentvault.relay.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;

/** Writes JSON answers without data binding. */
public final class Responses {
  private Responses() {}

  public static void json(Context ctx, int status, JsonNode body) {
    ctx.status(status).contentType("application/json").result(body.toString());
  }

  public static void error(Context ctx, int status, String detail) {
    json(ctx, status, JsonBody.object().put("detail", detail));
  }
}
