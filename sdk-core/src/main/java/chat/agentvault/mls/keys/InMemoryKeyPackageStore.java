package chat.agentvault.mls.keys;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link KeyPackageStore} in memory, for tests and short-lived clients. It keeps the serialized
 * records, as a database would, and parses on every lookup, so callers never share state with it.
 * Thread-safe.
 */
public final class InMemoryKeyPackageStore implements KeyPackageStore {
  private record Entry(byte[] record, boolean lastResort) {}

  private final Map<KeyPackageRef, Entry> entries = new LinkedHashMap<>();

  private InMemoryKeyPackageStore() {}

  public static InMemoryKeyPackageStore create() {
    return new InMemoryKeyPackageStore();
  }

  @Override
  public synchronized void put(KeyPackageBundle bundle) {
    Objects.requireNonNull(bundle, "bundle");
    Entry old = entries.put(bundle.ref(), new Entry(bundle.serialize(), bundle.isLastResort()));
    wipe(old);
  }

  @Override
  public synchronized Optional<KeyPackageBundle> find(KeyPackageRef ref) {
    Objects.requireNonNull(ref, "ref");
    Entry e = entries.get(ref);
    return e == null ? Optional.empty() : Optional.of(KeyPackageBundle.parse(e.record()));
  }

  @Override
  public synchronized Optional<KeyPackageBundle> consume(KeyPackageRef ref) {
    Optional<KeyPackageBundle> found = find(ref);
    if (found.isPresent() && !found.get().isLastResort()) {
      wipe(entries.remove(ref));
    }
    return found;
  }

  @Override
  public synchronized boolean remove(KeyPackageRef ref) {
    Objects.requireNonNull(ref, "ref");
    Entry e = entries.remove(ref);
    wipe(e);
    return e != null;
  }

  @Override
  public synchronized List<KeyPackageRef> refs() {
    return List.copyOf(entries.keySet());
  }

  @Override
  public synchronized int availableCount() {
    return (int) entries.values().stream().filter(e -> !e.lastResort()).count();
  }

  @Override
  public synchronized int lastResortCount() {
    return (int) entries.values().stream().filter(Entry::lastResort).count();
  }

  private static void wipe(Entry e) {
    if (e != null) {
      Arrays.fill(e.record(), (byte) 0);
    }
  }

  @Override
  public synchronized String toString() {
    return "InMemoryKeyPackageStore[available=" + availableCount() + ", lastResort=" + lastResortCount() + "]";
  }
}
