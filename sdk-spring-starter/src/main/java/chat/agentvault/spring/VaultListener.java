package chat.agentvault.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method of a singleton bean that receives inbound messages, optionally only those of one
 * room and/or one message type. The method takes one {@link chat.agentvault.channel.InboundMessage}
 * and returns {@code void}; any other signature fails the context's start.
 *
 * <pre>{@code
 * @Component
 * class Decisions {
 *   @VaultListener(room = "${app.ops-room}", messageType = MessageType.DECISION_REQUEST)
 *   void onDecision(InboundMessage m) { ... }
 * }
 * }</pre>
 *
 * <p>Called on the client's inbound thread, in relay order, once per message, with every matching
 * method in registration order; a method that throws is logged and the others still run. Built on
 * {@link AgentVaultMessageEvent}: the same messages reach {@code @EventListener} methods.
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface VaultListener {
  /**
   * The room id to receive from; empty (the default) for every room and every direct
   * conversation. Property placeholders ({@code ${...}}) are resolved.
   */
  String room() default "";

  /**
   * The message type to receive, e.g. {@link chat.agentvault.channel.MessageType#DECISION_REQUEST};
   * empty (the default) for every type. Property placeholders are resolved.
   */
  String messageType() default "";
}
