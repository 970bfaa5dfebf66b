/**
 * Not API. Backends and dangerous building blocks shared by {@code crypto}, {@code mls} and {@code
 * ratchet}: the libsodium loader and derived-nonce AEADs whose nonce the protocol computes (RFC 9420
 * §6.3.1 / §9, HPKE RFC 9180 §5.2). Application code must use {@link chat.agentvault.crypto.Aead}.
 */
package chat.agentvault.crypto.internal;
