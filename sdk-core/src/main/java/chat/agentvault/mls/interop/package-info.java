/**
 * Not API. The MLS interop peer: our engine driven over the JSON-lines protocol of {@code
 * docs/interop.md} ({@code scripts/mls-peer}), so that drivers can pair it with other RFC 9420
 * implementations (ts-mls). Built on the internal {@code chat.agentvault.mls.group} layer, which it
 * needs for what the public {@link chat.agentvault.mls.MlsGroup} does not expose (ratchet tree out of
 * band, GroupInfo, tree hash). Not covered by the public API dump.
 */
package chat.agentvault.mls.interop;
