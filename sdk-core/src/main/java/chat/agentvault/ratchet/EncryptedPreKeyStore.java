package chat.agentvault.ratchet;

import chat.agentvault.identity.EncryptedFileStore;
import java.util.Objects;
import java.util.Optional;

/** {@link PreKeyStore#encrypted}: the blob {@code prekeys} of an {@link EncryptedFileStore}. */
final class EncryptedPreKeyStore implements PreKeyStore {
  static final String NAME = "prekeys";
  private final EncryptedFileStore files;

  EncryptedPreKeyStore(EncryptedFileStore files) {
    this.files = Objects.requireNonNull(files, "files");
  }

  @Override
  public void save(byte[] record) {
    Objects.requireNonNull(record, "record");
    files.put(NAME, record);
  }

  @Override
  public Optional<byte[]> load() {
    return files.get(NAME);
  }

  @Override
  public String toString() {
    return "EncryptedPreKeyStore[" + files.purpose() + "]";
  }
}
