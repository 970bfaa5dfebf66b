package chat.agentvault.mls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Reinitialisation and branching through the public surface (RFC 9420 §11.2, §11.3): propose,
 * commit, create the new group, join it from the old one, talk; the old group refuses to send.
 */
class MlsGroupSuccessorTest {
  private static Bytes b(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  private static void deliver(Bytes commit, MlsGroup... to) {
    for (MlsGroup g : to) {
      Inbound in = g.process(commit);
      assertThat(in).isInstanceOf(Inbound.StagedCommit.class);
      g.merge((Inbound.StagedCommit) in);
    }
  }

  private static void allAgree(List<MlsGroup> groups) {
    MlsGroup first = groups.get(0);
    for (MlsGroup g : groups) {
      assertThat(g.groupId()).isEqualTo(first.groupId());
      assertThat(g.epoch()).isEqualTo(first.epoch());
      assertThat(g.epochAuthenticator()).isEqualTo(first.epochAuthenticator());
      assertThat(g.exportSecret("t", new byte[0], 32)).isEqualTo(first.exportSecret("t", new byte[0], 32));
      assertThat(g.members()).isEqualTo(first.members());
    }
  }

  private static void allTalk(List<MlsGroup> groups) {
    for (MlsGroup from : groups) {
      Bytes text = b(from.self().identity().hex() + " in " + from.epoch());
      Bytes wire = from.encrypt(text);
      for (MlsGroup to : groups) {
        if (to != from) {
          Inbound.Application got = (Inbound.Application) to.process(wire);
          assertThat(got.data()).isEqualTo(text);
          assertThat(got.sender().identity()).isEqualTo(from.self().identity());
        }
      }
    }
  }

  /** alice creates and adds the others; returns every member's group, alice's first. */
  private static List<MlsGroup> group(int suite, boolean enc, Bytes id, String... names) {
    MlsGroup creator = MlsGroup.create(MlsKeyPackage.generate(suite, b(names[0])), id, enc);
    List<MlsKeyPackage> kps = new ArrayList<>();
    List<Bytes> wire = new ArrayList<>();
    for (int i = 1; i < names.length; i++) {
      MlsKeyPackage kp = MlsKeyPackage.generate(suite, b(names[i]));
      kps.add(kp);
      wire.add(kp.toBytes());
    }
    MlsGroup.PendingCommit add = creator.addMembers(wire);
    creator.mergePendingCommit();
    List<MlsGroup> out = new ArrayList<>(List.of(creator));
    for (MlsKeyPackage kp : kps) {
      out.add(MlsGroup.join(kp, add.welcome().orElseThrow(), enc));
    }
    return out;
  }

  @ParameterizedTest(name = "suite {0} to {1}, encrypted handshakes {2}")
  @CsvSource({"1, 3, false", "3, 1, true", "1, 1, true", "3, 3, false"})
  void reinitialiseProposedCommittedCreatedAndJoined(int suite, int newSuite, boolean enc) {
    List<MlsGroup> old = group(suite, enc, b("room"), "alice", "bob", "carol");
    MlsGroup alice = old.get(0);
    MlsGroup bob = old.get(1);
    MlsGroup carol = old.get(2);
    allTalk(old);

    // Bob proposes; Carol commits the proposal; everyone merges.
    Bytes proposal = bob.proposeReInit(b("room v2"), newSuite);
    assertThat(((Inbound.ProposalReceived) alice.process(proposal)).proposalType()).isEqualTo(5);
    assertThat(((Inbound.ProposalReceived) carol.process(proposal)).proposalType()).isEqualTo(5);
    MlsGroup.PendingCommit reinit = carol.commitReInit();
    assertThat(reinit.welcome()).isEmpty();
    // Carol's own commit comes back from the delivery service: recognised, and merged like any other.
    Inbound.StagedCommit own = (Inbound.StagedCommit) carol.process(reinit.message());
    assertThat(own.committer().identity()).isEqualTo(b("carol"));
    carol.merge(own);
    assertThat(carol.pendingCommit()).isEmpty();
    deliver(reinit.message(), alice, bob);
    allAgree(old);
    for (MlsGroup g : old) {
      assertThat(g.isActive()).isFalse();
      assertThat(g.reinit()).contains(new MlsGroup.ReInit(b("room v2"), newSuite));
      assertThatThrownBy(() -> g.encrypt(b("no"))).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(g::update).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> g.proposeReInit(b("again"), suite)).isInstanceOf(IllegalStateException.class);
    }

    // Alice creates the new group with fresh KeyPackages of the new suite.
    MlsKeyPackage alice2 = MlsKeyPackage.generate(newSuite, b("alice"));
    MlsKeyPackage bob2 = MlsKeyPackage.generate(newSuite, b("bob"));
    MlsKeyPackage carol2 = MlsKeyPackage.generate(newSuite, b("carol"));
    MlsGroup.Successor created = alice.reinitialize(alice2, List.of(bob2.toBytes(), carol2.toBytes()));
    MlsGroup a2 = created.group();
    assertThat(a2.pendingCommit()).containsSame(created.commit());
    assertThatThrownBy(() -> a2.encrypt(b("too early"))).isInstanceOf(IllegalStateException.class);
    a2.mergePendingCommit();
    Bytes welcome = created.commit().welcome().orElseThrow();

    // A joiner without the old group cannot use the Welcome; with it, it can.
    assertThatThrownBy(() -> MlsGroup.join(bob2, welcome, enc))
        .isInstanceOfSatisfying(MessageRejectedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.WRONG_EPOCH));
    MlsGroup b2 = MlsGroup.joinSuccessor(bob2, welcome, bob);
    MlsGroup c2 = MlsGroup.joinSuccessor(carol2, welcome, carol);
    List<MlsGroup> next = List.of(a2, b2, c2);
    allAgree(next);
    assertThat(b2.groupId()).isEqualTo(b("room v2"));
    assertThat(b2.epoch()).isEqualTo(1);
    assertThat(b2.members()).extracting(MlsGroup.Member::identity).containsExactly(b("alice"), b("bob"), b("carol"));
    allTalk(next);
    MlsGroup.PendingCommit upd = c2.update();
    c2.mergePendingCommit();
    deliver(upd.message(), a2, b2);
    allAgree(next);
    allTalk(next);
  }

  @ParameterizedTest(name = "suite {0}, encrypted handshakes {1}")
  @CsvSource({"1, false", "3, true"})
  void reinitCommittedByValueAndWrongMembersRefused(int suite, boolean enc) {
    List<MlsGroup> old = group(suite, enc, b("room"), "alice", "bob", "carol");
    MlsGroup.PendingCommit reinit = old.get(1).commitReInit(b("room v2"), suite);
    old.get(1).mergePendingCommit();
    deliver(reinit.message(), old.get(0), old.get(2));
    MlsKeyPackage alice2 = MlsKeyPackage.generate(suite, b("alice"));
    MlsKeyPackage bob2 = MlsKeyPackage.generate(suite, b("bob"));
    MlsKeyPackage carol2 = MlsKeyPackage.generate(suite, b("carol"));
    MlsKeyPackage mallory = MlsKeyPackage.generate(suite, b("mallory"));
    MlsGroup alice = old.get(0);
    assertThatThrownBy(() -> alice.reinitialize(alice2, List.of(bob2.toBytes())))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> alice.reinitialize(alice2, List.of(bob2.toBytes(), carol2.toBytes(), mallory.toBytes())))
        .isInstanceOf(IllegalArgumentException.class);
    MlsGroup.Successor created = alice.reinitialize(alice2, List.of(bob2.toBytes(), carol2.toBytes()));
    created.group().mergePendingCommit();
    Bytes welcome = created.commit().welcome().orElseThrow();
    // Bob's other group (not the one reinitialised) does not make the Welcome usable.
    MlsGroup unrelated = group(suite, enc, b("other room"), "bob", "dave").get(0);
    assertThatThrownBy(() -> MlsGroup.joinSuccessor(bob2, welcome, unrelated))
        .isInstanceOfSatisfying(MessageRejectedException.class, e -> assertThat(e.reason()).isEqualTo(Reason.WRONG_EPOCH));
    List<MlsGroup> next =
        List.of(
            created.group(), MlsGroup.joinSuccessor(bob2, welcome, old.get(1)),
            MlsGroup.joinSuccessor(carol2, welcome, old.get(2)));
    allAgree(next);
    allTalk(next);
  }

  @ParameterizedTest(name = "suite {0}, encrypted handshakes {1}")
  @CsvSource({"1, false", "1, true", "3, false", "3, true"})
  void branchASubgroup(int suite, boolean enc) {
    List<MlsGroup> old = group(suite, enc, b("room"), "alice", "bob", "carol", "dave");
    MlsGroup alice = old.get(0);
    MlsGroup bob = old.get(1);
    MlsGroup carol = old.get(2);
    MlsKeyPackage alice2 = MlsKeyPackage.generate(suite, b("alice"));
    MlsKeyPackage carol2 = MlsKeyPackage.generate(suite, b("carol"));
    MlsKeyPackage mallory = MlsKeyPackage.generate(suite, b("mallory"));
    assertThatThrownBy(() -> alice.branch(alice2, b("side"), List.of(mallory.toBytes())))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> alice.branch(alice2, b("room"), List.of(carol2.toBytes())))
        .isInstanceOf(IllegalArgumentException.class);
    MlsGroup.Successor side = alice.branch(alice2, b("side"), List.of(carol2.toBytes()));
    side.group().mergePendingCommit();
    Bytes welcome = side.commit().welcome().orElseThrow();
    MlsGroup c2 = MlsGroup.joinSuccessor(carol2, welcome, carol);
    List<MlsGroup> sub = List.of(side.group(), c2);
    allAgree(sub);
    assertThat(c2.members()).extracting(MlsGroup.Member::identity).containsExactly(b("alice"), b("carol"));
    allTalk(sub);
    // Bob cannot use it: the Welcome has nothing for his KeyPackage.
    MlsKeyPackage bob2 = MlsKeyPackage.generate(suite, b("bob"));
    assertThatThrownBy(() -> MlsGroup.joinSuccessor(bob2, welcome, bob)).isInstanceOf(MessageRejectedException.class);
    // The old group goes on.
    assertThat(alice.isActive()).isTrue();
    MlsGroup.PendingCommit upd = bob.update();
    bob.mergePendingCommit();
    deliver(upd.message(), alice, carol, old.get(3));
    allAgree(old);
    allTalk(old);
  }
}
