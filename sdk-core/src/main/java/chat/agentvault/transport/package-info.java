/**
 * The relay client (docs/protocol.md): JSON over OkHttp, login, the WebSocket with reconnects,
 * wake detection and polling. Knows no key: payloads are opaque. API: {@link
 * chat.agentvault.transport.RelayException} and {@link chat.agentvault.transport.WireMessage};
 * {@code RelayHttp}, {@code RelaySession} and {@code RelaySocket} are public only for {@code
 * chat.agentvault.channel} and may change.
 */
package chat.agentvault.transport;
