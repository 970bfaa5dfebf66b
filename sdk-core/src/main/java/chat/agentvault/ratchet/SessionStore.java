package chat.agentvault.ratchet;

import chat.agentvault.identity.EncryptedFileStore;
import java.util.List;
import java.util.Optional;

/**
 * Persisted session records: opaque, versioned bytes by peer address. {@link #save} replaces a
 * record atomically (a crash leaves the old or the new one whole); loads return copies. Records
 * hold every secret of their sessions: a store that writes them anywhere must encrypt them
 * ({@link #encrypted}); none logs them.
 */
public interface SessionStore {
  /** Stores {@code record} for {@code peer}, atomically replacing any previous one. */
  void save(PeerAddress peer, byte[] record);

  /** A copy of the record of {@code peer}, or empty. */
  Optional<byte[]> load(PeerAddress peer);

  /** Deletes the record of {@code peer}; false if there was none. */
  boolean delete(PeerAddress peer);

  /** The addresses of all stored records, in no particular order. */
  List<PeerAddress> list();

  /** A store in memory holding serialized bytes (so aliasing bugs show in tests). */
  static SessionStore inMemory() {
    return new InMemorySessionStore();
  }

  /**
   * A store on an encrypted, atomically written blob directory, for instance {@code
   * deviceKeyStore.fileStore("ratchet-sessions")}: one blob per peer, named from its address.
   */
  static SessionStore encrypted(EncryptedFileStore files) {
    return new EncryptedSessionStore(files);
  }
}
