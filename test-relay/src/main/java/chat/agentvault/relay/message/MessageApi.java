package chat.agentvault.relay.message;

import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.http.JsonBody;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Message submission and acknowledgement, shared by the HTTP endpoints and the WebSocket's client
 * frames so both follow one set of rules (docs/protocol.md, "Messages").
 */
public interface MessageApi {

  /** Stores and fans out one message; the answer is what the sender sees (message id, duplicate flag). */
  ObjectNode submit(Principal sender, JsonBody request);

  /**
   * Acknowledges these deliveries to {@code recipient} (they are never returned again); returns how
   * many were pending.
   */
  int ack(Principal recipient, List<Long> messageIds);

  /**
   * {@link #submit} whose answer may come later (after a group commit); validation errors may be
   * thrown at once instead of failing the future.
   */
  default CompletableFuture<ObjectNode> submitAsync(Principal sender, JsonBody request) {
    return CompletableFuture.completedFuture(submit(sender, request));
  }

  /** {@link #ack} whose answer may come later; validation errors may be thrown at once. */
  default CompletableFuture<Integer> ackAsync(Principal recipient, List<Long> messageIds) {
    return CompletableFuture.completedFuture(ack(recipient, messageIds));
  }
}
