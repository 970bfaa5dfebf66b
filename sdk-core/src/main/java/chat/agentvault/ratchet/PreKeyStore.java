package chat.agentvault.ratchet;

import chat.agentvault.identity.EncryptedFileStore;
import java.util.Optional;

/**
 * The persisted record of a device's own prekeys (signed prekeys, one-time prekeys, their private
 * halves): one opaque, versioned blob, replaced atomically on every change. It holds secrets: a
 * store that writes it anywhere must encrypt it ({@link #encrypted}).
 */
public interface PreKeyStore {
  /** Stores {@code record}, atomically replacing the previous one. */
  void save(byte[] record);

  /** A copy of the record, or empty when none was saved. */
  Optional<byte[]> load();

  /** A store in memory. */
  static PreKeyStore inMemory() {
    return new InMemoryPreKeyStore();
  }

  /** A store keeping the record in the blob {@code prekeys} of {@code files}. */
  static PreKeyStore encrypted(EncryptedFileStore files) {
    return new EncryptedPreKeyStore(files);
  }
}
