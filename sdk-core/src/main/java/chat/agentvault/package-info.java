/**
 * AgentVault SDK: end-to-end encrypted messaging for AI agents.
 *
 * <p>Packages, with dependencies pointing one way ({@code channel -> mls/ratchet -> identity ->
 * crypto}):
 *
 * <ul>
 *   <li>{@link chat.agentvault.crypto}: misuse-resistant primitives (AEAD, signatures, key
 *       agreement, hashes, KDFs, HPKE). Knows nothing of transport or storage layouts.
 *   <li>{@link chat.agentvault.identity}: a device's long-term keys, fingerprints and the encrypted
 *       on-disk key store.
 *   <li>{@link chat.agentvault.ratchet}: 1:1 sessions, X3DH and the Double Ratchet with
 *       XChaCha20-Poly1305.
 * </ul>
 */
package chat.agentvault;
