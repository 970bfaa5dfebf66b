package chat.agentvault.mls;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.SecretBytes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** {@link GroupStore#inMemory()}: records kept as copied bytes. Thread-safe. */
final class InMemoryGroupStore implements GroupStore {
  private final Map<Bytes, byte[]> records = new HashMap<>();

  @Override
  public synchronized void save(Bytes groupId, byte[] record) {
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(record, "record");
    SecretBytes.wipe(records.put(groupId, record.clone()));
  }

  @Override
  public synchronized Optional<byte[]> load(Bytes groupId) {
    Objects.requireNonNull(groupId, "groupId");
    byte[] r = records.get(groupId);
    return r == null ? Optional.empty() : Optional.of(r.clone());
  }

  @Override
  public synchronized boolean delete(Bytes groupId) {
    Objects.requireNonNull(groupId, "groupId");
    byte[] r = records.remove(groupId);
    SecretBytes.wipe(r);
    return r != null;
  }

  @Override
  public synchronized List<Bytes> list() {
    return new ArrayList<>(records.keySet());
  }

  @Override
  public String toString() {
    return "InMemoryGroupStore[redacted]";
  }
}
