package chat.agentvault.relay.message;

import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.auth.Authenticator;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.http.Requests;
import chat.agentvault.relay.http.Responses;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of {@link MessageApi} (docs/protocol.md, "Messages"): send, fetch (the polling
 * fallback: pending deliveries in order, paged by cursor) and batched acknowledgement. Every rule
 * lives in {@link MessageService}; this class only reads requests and writes answers.
 */
public final class MessageRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(MessageRoutes.class);
  public static final int DEFAULT_LIMIT = 100;
  public static final int MAX_LIMIT = 1000;

  private final RelayContext rc;

  private MessageRoutes(RelayContext rc) {
    this.rc = rc;
  }

  public static void register(RoutesConfig r, RelayContext rc) {
    MessageRoutes m = new MessageRoutes(rc);
    r.post("/api/v1/messages", m::send);
    r.get("/api/v1/messages", m::fetch);
    r.post("/api/v1/messages/ack", m::ack);
    r.exception(MessageService.UncheckedSql.class, (e, ctx) -> {
      LOG.error("database error on {} {}: {} (SQLState {})", ctx.method(), ctx.path(),
          e.sqlException().getMessage(), e.sqlException().getSQLState());
      Responses.error(ctx, 503, "database unavailable");
    });
  }

  private MessageService service() {
    return (MessageService) rc.messages();
  }

  private void send(Context ctx) {
    Principal p = Authenticator.principal(ctx);
    ObjectNode out = rc.messages().submit(p, JsonBody.parse(ctx.bodyAsBytes(), MessageService.SEND_FIELDS));
    Responses.json(ctx, out.path("duplicate").asBoolean() ? 200 : 201, out);
  }

  private void fetch(Context ctx) {
    Principal p = Authenticator.principal(ctx);
    long after = longParam(ctx, "after", 0, 0, Long.MAX_VALUE);
    int limit = (int) longParam(ctx, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    List<Store.Stored> messages = service().pending(p, after, limit);
    ObjectNode out = JsonBody.object();
    ArrayNode a = out.putArray("messages");
    for (Store.Stored s : messages) {
      a.add(s.json());
    }
    long next = messages.isEmpty() ? after : messages.get(messages.size() - 1).id();
    out.put("next_cursor", Long.toString(next));
    out.put("has_more", messages.size() == limit);
    Responses.json(ctx, 200, out);
  }

  private void ack(Context ctx) {
    Principal p = Authenticator.principal(ctx);
    List<Long> ids = MessageService.messageIds(JsonBody.parse(ctx.bodyAsBytes(), Set.of("message_ids")));
    int n = rc.messages().ack(p, ids);
    Responses.json(ctx, 200, JsonBody.object().put("acknowledged", n));
  }

  private static long longParam(Context ctx, String name, long dflt, long min, long max) {
    String v = ctx.queryParam(name);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("query parameter " + name + " must be an integer");
    }
    if (n < min || n > max) {
      throw ApiException.badRequest("query parameter " + name + " must be " + min + " to " + max);
    }
    return n;
  }
}
