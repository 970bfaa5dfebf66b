/**
 * Cryptographic primitives with a small, misuse-resistant surface.
 *
 * <ul>
 *   <li>Callers never choose a nonce: {@link chat.agentvault.crypto.XChaCha20Poly1305} draws a
 *       random 192-bit nonce per message and carries it inside the ciphertext.
 *   <li>Keys are typed values ({@link chat.agentvault.crypto.Ed25519PrivateKey}, {@link
 *       chat.agentvault.crypto.X25519PrivateKey}, {@link chat.agentvault.crypto.SecretBytes}), never
 *       bare arrays; their {@code toString} never shows secret bytes.
 *   <li>Verification returns {@code void} and throws {@link java.security.GeneralSecurityException}
 *       (as Tink does); nothing returns a boolean that a caller could forget to check.
 *   <li>All randomness comes from {@link chat.agentvault.crypto.Csprng}.
 * </ul>
 *
 * <p>Each primitive runs on the backend measured fastest on JDK 17 among libsodium (through
 * lazysodium's JNA binding), Bouncy Castle and the JDK; each class says which and why, and the
 * {@code benchmarks} module holds the JMH measurements.
 *
 * <p>Derived-nonce AEADs for MLS and the Double Ratchet live in {@code crypto.internal}, which is
 * not API.
 */
package chat.agentvault.crypto;
