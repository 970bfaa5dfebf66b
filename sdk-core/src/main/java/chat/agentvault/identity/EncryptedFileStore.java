package chat.agentvault.identity;

import java.util.List;
import java.util.Optional;

/**
 * A directory of named blobs encrypted at rest, for one purpose (for instance MLS group state or
 * Double Ratchet sessions). Obtain one from {@link DeviceKeyStore#fileStore(String)}.
 *
 * <ul>
 *   <li>Each purpose has its own XChaCha20-Poly1305 sub-key derived from the store's data key;
 *       the purpose and the blob name are bound as associated data, so a blob moved to another
 *       name or another purpose fails to load ({@link KeyStoreException.Reason#CORRUPTED}).
 *   <li>{@link #put} is atomic and durable (temporary file, fsync, rename, directory fsync): after
 *       a crash a blob holds its old or its new content.
 *   <li>Not detected: rolling a blob back to an older version written under the same name, or
 *       deleting it. Callers that must detect rollback keep a counter in a blob they check.
 * </ul>
 *
 * <p>Names are 1 to 128 characters from {@code [A-Za-z0-9._-]}, not starting with a dot. Returned
 * arrays are fresh copies; callers wipe them when they hold secrets. Methods are thread-safe; two
 * processes must not share one data directory.
 */
public interface EncryptedFileStore {
  /** The purpose this store was opened for. */
  String purpose();

  /**
   * Encrypts and atomically writes {@code plaintext} under {@code name}, replacing any previous
   * content.
   *
   * @throws KeyStoreException with reason {@code IO}
   * @throws IllegalArgumentException for an invalid name
   */
  void put(String name, byte[] plaintext);

  /**
   * The decrypted content of {@code name}, or empty when there is no such blob.
   *
   * @throws KeyStoreException {@code CORRUPTED} when the file was modified, truncated or renamed;
   *     {@code UNSUPPORTED_VERSION}; {@code IO}
   */
  Optional<byte[]> get(String name);

  /**
   * Removes {@code name}; true if it existed.
   *
   * @throws KeyStoreException with reason {@code IO}
   */
  boolean delete(String name);

  /** The names of all blobs, sorted. */
  List<String> list();
}
