/**
 * 1:1 sessions: X3DH (Revision 1) to agree a secret from a {@link
 * chat.agentvault.ratchet.PreKeyBundle}, then the Double Ratchet (Revision 1) with
 * XChaCha20-Poly1305 to protect every message, optionally with header encryption.
 *
 * <ul>
 *   <li>{@link chat.agentvault.ratchet.Sessions}: the whole API: {@code bundle()}, {@code
 *       start(peer, bundle)}, {@code encrypt(peer, plaintext)}, {@code decrypt(peer, message)}.
 *   <li>{@link chat.agentvault.ratchet.PreKeyBundle}: what a device publishes, with its versioned
 *       encoding; every instance is verified.
 *   <li>{@link chat.agentvault.ratchet.SessionStore} and {@link
 *       chat.agentvault.ratchet.PreKeyStore}: where state lives (in memory, or encrypted files).
 *   <li>{@link chat.agentvault.ratchet.RatchetException}: every refusal, with a {@code reason()}.
 * </ul>
 *
 * Depends on {@code crypto} and {@code identity} only. Everything else in this package is
 * package-private.
 */
package chat.agentvault.ratchet;
