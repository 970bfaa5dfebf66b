/**
 * A device's long-term identity and its encrypted on-disk key store.
 *
 * <ul>
 *   <li>{@link chat.agentvault.identity.DeviceIdentity}: the private Ed25519 identity key and a
 *       separate X25519 agreement key; {@link chat.agentvault.identity.PublicIdentity}: their
 *       public halves with the binding signature, in a versioned encoding.
 *   <li>{@link chat.agentvault.identity.Fingerprint}: BLAKE2b-256 of the Ed25519 public key, the
 *       value an owner approves.
 *   <li>{@link chat.agentvault.identity.DeviceKeyStore}: one encrypted directory per device
 *       (Argon2id or a caller key, XChaCha20-Poly1305, atomic writes, 0600/0700), with identity
 *       backups, and {@link chat.agentvault.identity.EncryptedFileStore} blobs for other
 *       components' state.
 *   <li>Failures: {@link chat.agentvault.identity.KeyStoreException} and {@link
 *       chat.agentvault.identity.InvalidIdentityException}, each with a {@code reason()}.
 * </ul>
 *
 * Implementations ({@code Real*} and the format classes) are package-private.
 */
package chat.agentvault.identity;
