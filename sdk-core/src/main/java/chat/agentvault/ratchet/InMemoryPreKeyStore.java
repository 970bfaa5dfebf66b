package chat.agentvault.ratchet;

import chat.agentvault.crypto.SecretBytes;
import java.util.Objects;
import java.util.Optional;

/** {@link PreKeyStore#inMemory}: copies in, copies out. */
final class InMemoryPreKeyStore implements PreKeyStore {
  private byte[] record;

  @Override
  public synchronized void save(byte[] record) {
    Objects.requireNonNull(record, "record");
    SecretBytes.wipe(this.record);
    this.record = record.clone();
  }

  @Override
  public synchronized Optional<byte[]> load() {
    return record == null ? Optional.empty() : Optional.of(record.clone());
  }

  @Override
  public String toString() {
    return "InMemoryPreKeyStore";
  }
}
