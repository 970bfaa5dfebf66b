/**
 * Not API. The TLS presentation language codec of RFC 9420 §2.1: fixed-width integers, the
 * variable-length integers of §2.1.2 (minimal encoding enforced), {@code opaque<V>} and {@code T<V>}
 * vectors, and {@code optional<T>}.
 *
 * <p>Decoding is total: any malformed input ends in one {@link
 * chat.agentvault.mls.codec.DecodeException}, never an index, null-pointer or allocation error, and
 * no allocation is larger than the input that remains to be read.
 */
package chat.agentvault.mls.codec;
