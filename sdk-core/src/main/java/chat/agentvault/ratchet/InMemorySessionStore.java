package chat.agentvault.ratchet;

import chat.agentvault.crypto.SecretBytes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** {@link SessionStore#inMemory}: copies in, copies out. */
final class InMemorySessionStore implements SessionStore {
  private final Map<PeerAddress, byte[]> records = new ConcurrentHashMap<>();

  @Override
  public void save(PeerAddress peer, byte[] record) {
    Objects.requireNonNull(peer, "peer");
    Objects.requireNonNull(record, "record");
    SecretBytes.wipe(records.put(peer, record.clone()));
  }

  @Override
  public Optional<byte[]> load(PeerAddress peer) {
    Objects.requireNonNull(peer, "peer");
    byte[] r = records.get(peer);
    return r == null ? Optional.empty() : Optional.of(r.clone());
  }

  @Override
  public boolean delete(PeerAddress peer) {
    Objects.requireNonNull(peer, "peer");
    byte[] r = records.remove(peer);
    SecretBytes.wipe(r);
    return r != null;
  }

  @Override
  public List<PeerAddress> list() {
    return new ArrayList<>(records.keySet());
  }

  @Override
  public String toString() {
    return "InMemorySessionStore[" + records.size() + " sessions]";
  }
}
