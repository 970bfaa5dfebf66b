package chat.agentvault.mls;

import chat.agentvault.Bytes;
import chat.agentvault.identity.EncryptedFileStore;
import java.util.List;
import java.util.Optional;

/**
 * Persisted group states: opaque, versioned record bytes (written by {@link MlsGroup#persistTo},
 * read by {@link MlsGroup#load}) by group id. A store keeps one record per group; {@link #save}
 * replaces it atomically, so the new epoch's state is written before the old one is gone and a crash
 * leaves one of the two whole. Loads return copies. A group reinitialised under the same group id
 * (RFC 9420 §11.2 allows it) replaces its predecessor's record once the successor persists to the
 * same store; keep the predecessor in another store if its late messages still matter.
 *
 * <p>Records hold every secret of their group: a store that writes them anywhere must encrypt them
 * ({@link #encrypted}); none logs them.
 */
public interface GroupStore {
  /** Stores {@code record} for {@code groupId}, atomically replacing any previous one. */
  void save(Bytes groupId, byte[] record);

  /** A copy of the record of {@code groupId}, or empty. */
  Optional<byte[]> load(Bytes groupId);

  /** Deletes the record of {@code groupId}; false if there was none. */
  boolean delete(Bytes groupId);

  /** The ids of all stored groups, in no particular order. */
  List<Bytes> list();

  /** A store in memory, for tests and ephemeral agents (its state is lost with the process). */
  static GroupStore inMemory() {
    return new InMemoryGroupStore();
  }

  /**
   * A store on an encrypted, atomically written blob directory, for instance {@code
   * deviceKeyStore.fileStore("mls-groups")}. Blob names derive from the group id.
   */
  static GroupStore encrypted(EncryptedFileStore files) {
    return new EncryptedGroupStore(files);
  }
}
