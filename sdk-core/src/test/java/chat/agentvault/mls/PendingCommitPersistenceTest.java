package chat.agentvault.mls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * An own commit made and not merged survives a restart ({@link MlsGroup#load}): the restarted
 * member merges it, recognises it coming back from the delivery service, or discards it.
 */
class PendingCommitPersistenceTest {
  private static Bytes b(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Alice (persisted to {@code store}) and Bob in room "room" at epoch 1. */
  private static MlsGroup[] pair(int suite, boolean enc, GroupStore store) {
    MlsGroup a = MlsGroup.create(MlsKeyPackage.generate(suite, b("alice")), b("room"), enc).persistTo(store);
    MlsKeyPackage bob = MlsKeyPackage.generate(suite, b("bob"));
    MlsGroup.PendingCommit add = a.addMembers(List.of(bob.toBytes()));
    a.mergePendingCommit();
    return new MlsGroup[] {a, MlsGroup.join(bob, add.welcome().orElseThrow(), enc)};
  }

  private static MlsGroup restart(GroupStore store) {
    return MlsGroup.load(store, b("room")).orElseThrow();
  }

  private static void agree(MlsGroup x, MlsGroup y) {
    assertThat(x.epoch()).isEqualTo(y.epoch());
    assertThat(x.epochAuthenticator()).isEqualTo(y.epochAuthenticator());
    Bytes hi = x.encrypt(b("hi"));
    assertThat(((Inbound.Application) y.process(hi)).data()).isEqualTo(b("hi"));
    Bytes back = y.encrypt(b("back"));
    assertThat(((Inbound.Application) x.process(back)).data()).isEqualTo(b("back"));
  }

  @ParameterizedTest(name = "suite {0}, encrypted handshakes {1}")
  @CsvSource({"1, false", "1, true", "3, false", "3, true"})
  void mergedAfterARestart(int suite, boolean enc) {
    GroupStore store = GroupStore.inMemory();
    MlsGroup[] p = pair(suite, enc, store);
    MlsGroup bob = p[1];
    MlsKeyPackage carol = MlsKeyPackage.generate(suite, b("carol"));
    MlsGroup.PendingCommit add = p[0].addMembers(List.of(carol.toBytes()));

    MlsGroup alice = restart(store);
    MlsGroup.PendingCommit restored = alice.pendingCommit().orElseThrow();
    assertThat(restored.message()).isEqualTo(add.message());
    assertThat(restored.welcome()).isEqualTo(add.welcome());
    assertThatThrownBy(() -> alice.encrypt(b("not yet"))).isInstanceOf(IllegalStateException.class);
    // Messages arriving before the delivery service confirms are read.
    assertThat(((Inbound.Application) alice.process(bob.encrypt(b("meanwhile")))).data()).isEqualTo(b("meanwhile"));
    alice.mergePendingCommit();
    assertThat(alice.pendingCommit()).isEmpty();
    assertThat(restart(store).pendingCommit()).isEmpty();

    bob.merge((Inbound.StagedCommit) bob.process(restored.message()));
    MlsGroup carolsRoom = MlsGroup.join(carol, restored.welcome().orElseThrow(), enc);
    agree(alice, bob);
    agree(alice, carolsRoom);
    assertThat(restart(store).epochAuthenticator()).isEqualTo(carolsRoom.epochAuthenticator());
  }

  @ParameterizedTest(name = "suite {0}, encrypted handshakes {1}")
  @CsvSource({"1, false", "3, true"})
  void ownCommitRecognisedWhenTheDeliveryServiceReturnsIt(int suite, boolean enc) {
    GroupStore store = GroupStore.inMemory();
    MlsGroup[] p = pair(suite, enc, store);
    MlsGroup bob = p[1];
    MlsGroup.PendingCommit upd = p[0].update();

    MlsGroup alice = restart(store);
    Inbound in = alice.process(upd.message());
    Inbound.StagedCommit own = (Inbound.StagedCommit) in;
    assertThat(own.committer()).isEqualTo(alice.self());
    assertThat(own.newEpoch()).isEqualTo(2);
    assertThat(own.removesMe()).isFalse();
    alice.merge(own);
    assertThat(alice.pendingCommit()).isEmpty();
    bob.merge((Inbound.StagedCommit) bob.process(upd.message()));
    agree(alice, bob);
    MlsGroup again = restart(store);
    assertThat(again.epoch()).isEqualTo(2);
    // Without a pending commit, the own commit is not processable (nor would a replay be).
    assertThatThrownBy(() -> again.process(upd.message())).isInstanceOf(MessageRejectedException.class);
  }

  @ParameterizedTest(name = "suite {0}, encrypted handshakes {1}")
  @CsvSource({"1, false", "3, true"})
  void aProposalOrderedBeforeTheOwnCommitDoesNotBlockIt(int suite, boolean enc) {
    GroupStore store = GroupStore.inMemory();
    MlsGroup[] p = pair(suite, enc, store);
    MlsGroup bob = p[1];
    MlsGroup.PendingCommit upd = p[0].update();
    // The delivery service delivers Bob's proposal, then Alice's commit.
    Bytes proposal = bob.proposeReInit(b("elsewhere"), suite);
    assertThat(p[0].process(proposal)).isInstanceOf(Inbound.ProposalReceived.class);
    MlsGroup alice = restart(store);
    alice.merge((Inbound.StagedCommit) alice.process(upd.message()));
    bob.merge((Inbound.StagedCommit) bob.process(upd.message()));
    assertThat(alice.reinit()).isEmpty();
    agree(alice, bob);
  }

  @ParameterizedTest(name = "suite {0}, encrypted handshakes {1}")
  @CsvSource({"1, true", "3, false"})
  void discardedAfterARestartThenAnotherCommitWins(int suite, boolean enc) {
    GroupStore store = GroupStore.inMemory();
    MlsGroup[] p = pair(suite, enc, store);
    MlsGroup bob = p[1];
    p[0].removeMembers(List.of(bob.self().leafIndex()));
    // Bob's commit reached the delivery service first; Alice's is refused.
    MlsGroup.PendingCommit bobs = bob.update();
    bob.mergePendingCommit();

    MlsGroup alice = restart(store);
    assertThat(alice.pendingCommit()).isPresent();
    alice.discardPendingCommit();
    MlsGroup alice2 = restart(store);
    assertThat(alice2.pendingCommit()).as("the discard was saved").isEmpty();
    alice2.merge((Inbound.StagedCommit) alice2.process(bobs.message()));
    agree(alice2, bob);

    // A pending commit dropped by merging another member's commit is not restored either.
    MlsGroup.PendingCommit mine = alice2.update();
    MlsGroup.PendingCommit his = bob.update();
    bob.mergePendingCommit();
    MlsGroup alice3 = restart(store);
    assertThat(alice3.pendingCommit().orElseThrow().message()).isEqualTo(mine.message());
    alice3.merge((Inbound.StagedCommit) alice3.process(his.message()));
    assertThat(restart(store).pendingCommit()).isEmpty();
    agree(restart(store), bob);
  }

  @ParameterizedTest(name = "suite {0}")
  @CsvSource({"1", "3"})
  void aNewGroupsInitialCommitIsPersistedToo(int suite) {
    GroupStore store = GroupStore.inMemory();
    MlsGroup[] p = pair(suite, false, store);
    MlsGroup.PendingCommit reinit = p[0].commitReInit(b("room v2"), suite);
    MlsGroup alice = restart(store);
    assertThat(alice.reinit()).isEmpty();
    alice.mergePendingCommit();
    p[1].merge((Inbound.StagedCommit) p[1].process(reinit.message()));
    MlsGroup restored = restart(store);
    assertThat(restored.reinit()).contains(new MlsGroup.ReInit(b("room v2"), suite));
    assertThat(restored.isActive()).isFalse();

    MlsKeyPackage alice2 = MlsKeyPackage.generate(suite, b("alice"));
    MlsKeyPackage bob2 = MlsKeyPackage.generate(suite, b("bob"));
    MlsGroup.Successor created = restored.reinitialize(alice2, List.of(bob2.toBytes()));
    created.group().persistTo(store); // the new group's own record, under its own id
    MlsGroup a2 = MlsGroup.load(store, b("room v2")).orElseThrow();
    assertThat(a2.epoch()).isZero();
    MlsGroup.PendingCommit initial = a2.pendingCommit().orElseThrow();
    assertThat(initial.welcome()).isEqualTo(created.commit().welcome());
    a2.mergePendingCommit();
    MlsGroup b2 = MlsGroup.joinSuccessor(bob2, initial.welcome().orElseThrow(), p[1]);
    agree(a2, b2);
    assertThat(store.list()).contains(b("room"), b("room v2"));
  }

  @ParameterizedTest(name = "suite {0}")
  @CsvSource({"1", "3"})
  void damagedRecordsAreRefusedWithThePublicException(int suite) {
    GroupStore store = GroupStore.inMemory();
    MlsGroup[] p = pair(suite, false, store);
    p[0].update();
    byte[] record = store.load(b("room")).orElseThrow();
    byte[] flipped = record.clone();
    flipped[flipped.length / 2] ^= 1;
    store.save(b("room"), flipped);
    assertThatThrownBy(() -> MlsGroup.load(store, b("room")))
        .isInstanceOfSatisfying(
            GroupRecordException.class, e -> assertThat(e.reason()).isEqualTo(GroupRecordException.Reason.CORRUPTED));
    byte[] newer = record.clone();
    newer[4] = 99;
    store.save(b("room"), newer);
    assertThatThrownBy(() -> MlsGroup.load(store, b("room")))
        .isInstanceOfSatisfying(
            GroupRecordException.class,
            e -> assertThat(e.reason()).isEqualTo(GroupRecordException.Reason.UNSUPPORTED_VERSION));
    store.save(b("room"), Arrays.copyOf(record, record.length));
    Optional<MlsGroup> back = MlsGroup.load(store, b("room"));
    assertThat(back.orElseThrow().pendingCommit()).isPresent();
  }
}
