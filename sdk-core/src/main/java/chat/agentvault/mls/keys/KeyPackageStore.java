package chat.agentvault.mls.keys;

import java.util.List;
import java.util.Optional;

/**
 * The private halves of this client's published KeyPackages, keyed by {@link KeyPackageRef}
 * (RFC 9420 §10). A KeyPackage is used once: {@link #consume} deletes it after a successful join,
 * except a last-resort one, which stays until explicitly {@link #remove removed}.
 *
 * <p>A join first {@link #find finds} the bundle named by the Welcome, joins, and only after the
 * group state is committed calls {@link #consume}: a forged or broken Welcome naming a published
 * reference then cannot burn the KeyPackage. Lookups return copies.
 */
public interface KeyPackageStore {
  /** Stores {@code bundle} under its reference, replacing any bundle with the same reference. */
  void put(KeyPackageBundle bundle);

  /** The bundle for {@code ref}, left in the store. */
  Optional<KeyPackageBundle> find(KeyPackageRef ref);

  /**
   * The bundle for {@code ref}; deleted from the store unless it is last-resort (§10: used only
   * once, except last-resort KeyPackages).
   */
  Optional<KeyPackageBundle> consume(KeyPackageRef ref);

  /** Deletes the bundle for {@code ref}, last-resort or not; false if there was none. */
  boolean remove(KeyPackageRef ref);

  /** Every stored reference, in insertion order. */
  List<KeyPackageRef> refs();

  /** How many ordinary (not last-resort) bundles are stored. */
  int availableCount();

  /** How many last-resort bundles are stored. */
  int lastResortCount();

  /** Whether fewer than {@code minAvailable} ordinary bundles remain. */
  default boolean needsReplenish(int minAvailable) {
    if (minAvailable < 0) {
      throw new IllegalArgumentException("minAvailable must not be negative: " + minAvailable);
    }
    return availableCount() < minAvailable;
  }
}
