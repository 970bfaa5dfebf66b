package chat.agentvault.mls.keys;

import chat.agentvault.mls.message.KeyPackage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Keeps a {@link KeyPackageStore} stocked: generates KeyPackages from a template {@link
 * KeyPackageBundle.Builder}, stores their private halves, and returns the public KeyPackages for
 * the caller to publish. Publishing is the caller's job, after the bundles are stored, so a
 * Welcome can never name a KeyPackage whose keys were not saved.
 */
public final class KeyPackageRotation {
  /** More than this many KeyPackages in one call is a caller bug, not a replenishment. */
  public static final int MAX_PER_CALL = 1000;

  private KeyPackageRotation() {}

  /**
   * Generates {@code count} ordinary (or, if the template says so, last-resort) KeyPackages,
   * stores them and returns them to publish.
   */
  public static List<KeyPackage> generate(KeyPackageStore store, KeyPackageBundle.Builder template, int count) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(template, "template");
    if (count < 0 || count > MAX_PER_CALL) {
      throw new IllegalArgumentException("count must be 0 to " + MAX_PER_CALL + ": " + count);
    }
    List<KeyPackage> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      try (KeyPackageBundle b = template.build()) {
        store.put(b);
        out.add(b.keyPackage());
      }
    }
    return List.copyOf(out);
  }

  /**
   * Tops the ordinary KeyPackages up to {@code minAvailable} with ordinary ones from {@code
   * template} (its last-resort flag is ignored); returns the new ones (empty if none were needed).
   */
  public static List<KeyPackage> replenish(KeyPackageStore store, KeyPackageBundle.Builder template, int minAvailable) {
    Objects.requireNonNull(store, "store");
    if (!store.needsReplenish(minAvailable)) {
      return List.of();
    }
    return generate(store, template.copy().lastResort(false), minAvailable - store.availableCount());
  }

  /**
   * Creates a last-resort KeyPackage from {@code template} unless the store holds one that is not
   * expired at {@code now}; returns it to publish.
   */
  public static Optional<KeyPackage> ensureLastResort(KeyPackageStore store, KeyPackageBundle.Builder template, Instant now) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(now, "now");
    for (KeyPackageRef ref : store.refs()) {
      Optional<KeyPackageBundle> b = store.find(ref);
      if (b.isPresent()) {
        try (KeyPackageBundle bundle = b.get()) {
          if (bundle.isLastResort() && !bundle.isExpiredAt(now)) {
            return Optional.empty();
          }
        }
      }
    }
    return Optional.of(generate(store, template.copy().lastResort(true), 1).get(0));
  }

  /**
   * Removes every bundle, last-resort ones included, whose {@code not_after} is before {@code
   * cutoff}. Pass a time somewhat before now: a Welcome sent just before expiry may still be in
   * transit. Returns how many were removed.
   */
  public static int removeExpired(KeyPackageStore store, Instant cutoff) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(cutoff, "cutoff");
    int removed = 0;
    for (KeyPackageRef ref : store.refs()) {
      Optional<KeyPackageBundle> b = store.find(ref);
      if (b.isPresent()) {
        boolean expired;
        try (KeyPackageBundle bundle = b.get()) {
          expired = bundle.isExpiredAt(cutoff);
        }
        if (expired && store.remove(ref)) {
          removed++;
        }
      }
    }
    return removed;
  }
}
