package chat.agentvault.mls.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.KeyPackage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The store consumes ordinary KeyPackages once, keeps last-resort ones, and rotation keeps it stocked. */
class KeyPackageStoreTest {
  private static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");
  private final Ed25519PrivateKey key = Ed25519PrivateKey.generate();
  private final KeyPackageStore store = InMemoryKeyPackageStore.create();

  private KeyPackageBundle.Builder template(int suite) {
    return KeyPackageBundle.builder(suite, Credential.basic(Bytes.of((byte) 'a')), key)
        .clock(Clock.fixed(NOW, ZoneOffset.UTC));
  }

  @Test
  void ordinaryBundleIsConsumedOnce() {
    KeyPackageBundle b = template(1).build();
    store.put(b);
    assertThat(store.availableCount()).isEqualTo(1);
    assertThat(store.find(b.ref())).map(KeyPackageBundle::keyPackage).contains(b.keyPackage());
    assertThat(store.find(b.ref())).isPresent(); // find does not consume
    Optional<KeyPackageBundle> used = store.consume(b.ref());
    assertThat(used).map(KeyPackageBundle::ref).contains(b.ref());
    assertThat(store.consume(b.ref())).isEmpty();
    assertThat(store.find(b.ref())).isEmpty();
    assertThat(store.availableCount()).isZero();
  }

  @Test
  void lastResortBundleIsNeverConsumed() {
    KeyPackageBundle lr = template(3).lastResort(true).build();
    store.put(lr);
    assertThat(store.lastResortCount()).isEqualTo(1);
    assertThat(store.availableCount()).isZero();
    for (int i = 0; i < 3; i++) {
      assertThat(store.consume(lr.ref())).map(KeyPackageBundle::isLastResort).contains(true);
    }
    assertThat(store.find(lr.ref())).isPresent();
    assertThat(store.remove(lr.ref())).isTrue();
    assertThat(store.remove(lr.ref())).isFalse();
    assertThat(store.find(lr.ref())).isEmpty();
  }

  @Test
  void lookupsReturnCopies() {
    KeyPackageBundle b = template(1).build();
    store.put(b);
    b.close(); // the caller's copy is gone; the store still has its own
    KeyPackageBundle first = store.find(b.ref()).orElseThrow();
    first.close();
    try (KeyPackageBundle second = store.find(b.ref()).orElseThrow();
        SecretBytes init = second.initPrivateKey()) {
      assertThat(init.length()).isEqualTo(32);
    }
  }

  @Test
  void unknownRefIsEmpty() {
    assertThat(store.find(new KeyPackageRef(Bytes.of(new byte[32])))).isEmpty();
    assertThat(store.consume(new KeyPackageRef(Bytes.of(new byte[32])))).isEmpty();
    assertThatThrownBy(() -> new KeyPackageRef(Bytes.EMPTY)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void generateStoresAndReturnsThePublicKeyPackages() {
    List<KeyPackage> kps = KeyPackageRotation.generate(store, template(1), 5);
    assertThat(kps).hasSize(5);
    List<KeyPackageRef> refs = kps.stream().map(KeyPackageRef::compute).collect(Collectors.toList());
    assertThat(refs).doesNotHaveDuplicates();
    assertThat(store.refs()).containsExactlyElementsOf(refs);
    for (KeyPackage kp : kps) {
      KeyPackageValidator.create().validate(kp, NOW);
    }
    assertThatThrownBy(() -> KeyPackageRotation.generate(store, template(1), -1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void replenishTopsUpOrdinaryKeyPackagesOnly() {
    store.put(template(1).lastResort(true).build());
    assertThat(store.needsReplenish(3)).isTrue();
    assertThat(store.needsReplenish(0)).isFalse();
    // A last-resort template still replenishes ordinary KeyPackages.
    List<KeyPackage> added = KeyPackageRotation.replenish(store, template(1).lastResort(true), 3);
    assertThat(added).hasSize(3).noneMatch(KeyPackages::isLastResort);
    assertThat(store.availableCount()).isEqualTo(3);
    assertThat(store.needsReplenish(3)).isFalse();
    assertThat(KeyPackageRotation.replenish(store, template(1), 3)).isEmpty();
    store.consume(KeyPackageRef.compute(added.get(0)));
    assertThat(store.needsReplenish(3)).isTrue();
    assertThat(KeyPackageRotation.replenish(store, template(1), 3)).hasSize(1);
    assertThat(store.lastResortCount()).isEqualTo(1);
    assertThatThrownBy(() -> store.needsReplenish(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ensureLastResortCreatesOneOnlyWhenMissingOrExpired() {
    Optional<KeyPackage> first = KeyPackageRotation.ensureLastResort(store, template(3), NOW);
    assertThat(first).isPresent();
    assertThat(KeyPackages.isLastResort(first.get())).isTrue();
    assertThat(KeyPackageRotation.ensureLastResort(store, template(3), NOW)).isEmpty();
    Instant later = NOW.plus(Duration.ofDays(91));
    assertThat(KeyPackageRotation.ensureLastResort(store, template(3), later)).isPresent();
    assertThat(store.lastResortCount()).isEqualTo(2);
  }

  @Test
  void removeExpiredDropsOnlyExpiredBundles() {
    KeyPackageBundle shortLived = template(1).validity(Duration.ofDays(1)).build();
    KeyPackageBundle shortLastResort = template(1).validity(Duration.ofDays(1)).lastResort(true).build();
    KeyPackageBundle longLived = template(1).build();
    store.put(shortLived);
    store.put(shortLastResort);
    store.put(longLived);
    assertThat(KeyPackageRotation.removeExpired(store, NOW.plus(Duration.ofDays(1)))).isZero();
    assertThat(KeyPackageRotation.removeExpired(store, NOW.plus(Duration.ofDays(2)))).isEqualTo(2);
    assertThat(store.refs()).containsExactly(longLived.ref());
  }

  @Test
  void putReplacesTheSameRef() {
    KeyPackageBundle b = template(1).build();
    store.put(b);
    store.put(KeyPackageBundle.parse(b.serialize()));
    assertThat(store.refs()).containsExactly(b.ref());
    assertThat(store.toString()).contains("available=1");
  }
}
