/**
 * The channel API (docs/channel.md): {@link chat.agentvault.channel.AgentClient} and its value
 * types. Everything else here (the inbound pipeline, envelope codec, routing context, inbox, room
 * engine seam, delivery service, telemetry) is package-private.
 */
package chat.agentvault.channel;
