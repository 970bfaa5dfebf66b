/**
 * Not API. The wire structs of RFC 9420 as immutable records, each with {@code encode(TlsWriter)}
 * and a total {@code decode(TlsReader)}. Opaque fields are {@link chat.agentvault.Bytes}; an {@code
 * optional<T>} field is {@code null} when absent. Unknown extensions are preserved byte for byte;
 * GREASE values (§13.5) in capability and extension lists pass through untouched.
 */
package chat.agentvault.mls.message;
