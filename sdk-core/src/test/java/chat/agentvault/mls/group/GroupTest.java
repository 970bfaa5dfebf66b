package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.FramedContentAuthData;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.PreSharedKeyId;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.PublicMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Groups of our own engine: 2-8 members, suites 1 and 3, PublicMessage and PrivateMessage handshakes. */
class GroupTest {
  static final Bytes PSK_ID = Bytes.wrap("psk-1".getBytes(StandardCharsets.UTF_8));
  static final byte[] PSK = "an external pre-shared key".getBytes(StandardCharsets.UTF_8);

  static Stream<Arguments> setups() {
    return Stream.of(
        Arguments.of(1, false), Arguments.of(1, true), Arguments.of(3, false), Arguments.of(3, true));
  }

  /** A set of clients in one group, delivering every handshake to every other member. */
  static final class World {
    final CipherSuite cs;
    final GroupConfig config;
    final List<Client> members = new ArrayList<>();
    int names;

    World(int suite, boolean privateHandshakes) {
      this(suite, privateHandshakes, true);
    }

    World(int suite, boolean privateHandshakes, boolean treeInWelcome) {
      cs = CipherSuites.forId(suite);
      config =
          GroupConfig.DEFAULT
              .withPrivateHandshakes(privateHandshakes)
              .withRatchetTreeInWelcome(treeInWelcome)
              .withExternalPsks(id -> id.equals(PSK_ID) ? PSK.clone() : null);
      Client c = newClient();
      c.create(Bytes.wrap(Csprng.randomBytes(16)), config);
      members.add(c);
    }

    /** A world of {@code members}, already in one group of {@code cs} (a successor group). */
    World(CipherSuite cs, GroupConfig config, List<Client> members) {
      this.cs = cs;
      this.config = config;
      this.members.addAll(members);
      this.names = 100;
    }

    Client newClient() {
      return new Client(cs, "m" + names++);
    }

    Client member(int leaf) {
      return members.stream().filter(m -> m.group.ownLeaf() == leaf).findFirst().orElseThrow();
    }

    /** Everyone but {@code from} processes {@code msg}, which must be a proposal. */
    void broadcastProposal(Client from, MlsMessage msg) {
      for (Client m : members) {
        if (m != from) {
          assertThat(m.group.process(msg)).isInstanceOf(Processed.ProposalStored.class);
        }
      }
    }

    /** {@code committer} commits; everyone processes and merges; new members join. */
    Group.CommitOutput commit(Client committer, List<Proposal> byValue, boolean forcePath, List<Client> joiners) {
      Group.CommitOutput out = committer.group.commit(byValue, forcePath);
      List<Client> removed = new ArrayList<>();
      for (Client m : members) {
        if (m == committer) {
          continue;
        }
        Processed p = m.group.process(out.commit());
        if (p instanceof Processed.Removed r) {
          m.group.merge(r.staged());
          assertThat(m.group.isActive()).isFalse();
          removed.add(m);
        } else {
          m.group.merge(((Processed.CommitApplied) p).staged());
        }
      }
      committer.group.merge(out.staged());
      members.removeAll(removed);
      if (!joiners.isEmpty()) {
        assertThat(out.welcome()).isNotNull();
        for (Client j : joiners) {
          j.join(out.welcome(), config);
          members.add(j);
        }
      }
      checkAgreement();
      return out;
    }

    void checkAgreement() {
      Client first = members.get(0);
      for (Client m : members) {
        assertThat(m.group.epoch()).as(m + " epoch").isEqualTo(first.group.epoch());
        assertThat(m.group.epochAuthenticator()).as(m + " epoch authenticator")
            .isEqualTo(first.group.epochAuthenticator());
        assertThat(m.group.context()).as(m + " group context").isEqualTo(first.group.context());
        assertThat(Bytes.wrap(m.group.exportSecret("test", new byte[] {1}, 32)))
            .isEqualTo(Bytes.wrap(first.group.exportSecret("test", new byte[] {1}, 32)));
        assertThat(m.group.members()).hasSize(members.size());
      }
    }

    void everyoneTalks() {
      for (Client from : members) {
        Bytes text = Bytes.wrap((from + " says hi in " + from.group.epoch()).getBytes(StandardCharsets.UTF_8));
        MlsMessage msg = from.group.encrypt(text, Bytes.of((byte) 7));
        for (Client to : members) {
          if (to != from) {
            Processed p = to.group.process(msg);
            assertThat(p).isInstanceOf(Processed.ApplicationMessage.class);
            Processed.ApplicationMessage a = (Processed.ApplicationMessage) p;
            assertThat(a.data()).isEqualTo(text);
            assertThat(a.senderLeaf()).isEqualTo(from.group.ownLeaf());
            assertThat(a.authenticatedData()).isEqualTo(Bytes.of((byte) 7));
          }
        }
      }
    }

    Proposal addOf(Client c) {
      return new Proposal.Add(c.keyPackage);
    }
  }

  /**
   * An own commit that is never merged (discarded: the delivery service refused it) consumed its
   * handshake generation, so the next commit of the epoch is sealed under a fresh key and nonce
   * (RFC 9420 §9.2: each is used once). A receiver that read both with one secret tree would find a
   * reused generation refused as already consumed.
   */
  @ParameterizedTest(name = "suite {0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {1, 3})
  void aDiscardedPrivateCommitConsumedItsHandshakeGeneration(int suite) {
    World w = new World(suite, true);
    Client a = w.members.get(0);
    Client b = w.newClient();
    w.commit(a, List.of(w.addOf(b)), false, List.of(b));
    Group.CommitOutput discarded = a.group.commit(List.of(), true);
    Group.CommitOutput next = a.group.commit(List.of(), true);
    GroupState bs = b.group.stateForTest().copy();
    for (Group.CommitOutput c : List.of(discarded, next)) {
      chat.agentvault.mls.framing.MessageProtection.unprotectPrivate(
          bs.cs, bs.context, (chat.agentvault.mls.message.PrivateMessage) c.commit().body(), bs.secretTree,
          bs.senderDataSecret, leaf -> bs.tree.leaf(leaf).signatureKey().toByteArray());
    }
    a.group.merge(next.staged());
    b.group.merge(((Processed.CommitApplied) b.group.process(next.commit())).staged());
    w.checkAgreement();
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void growToEightOneByOneThenTalk(int suite, boolean priv) {
    World w = new World(suite, priv);
    for (int i = 1; i < 8; i++) {
      Client joiner = w.newClient();
      Client committer = w.members.get(i % w.members.size());
      w.commit(committer, List.of(w.addOf(joiner)), false, List.of(joiner));
      w.everyoneTalks();
    }
    assertThat(w.members).hasSize(8);
    assertThat(w.members.get(0).group.epoch()).isEqualTo(7);
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void addManyUpdateRemoveAndEmptyCommits(int suite, boolean priv) {
    World w = new World(suite, priv);
    List<Client> joiners = List.of(w.newClient(), w.newClient(), w.newClient(), w.newClient(), w.newClient());
    w.commit(w.members.get(0), joiners.stream().map(w::addOf).toList(), true, joiners);
    assertThat(w.members).hasSize(6);
    w.everyoneTalks();

    // Update by reference: member 2 proposes, member 4 commits.
    Client updater = w.member(2);
    Bytes oldKey = updater.group.leaf(2).encryptionKey();
    w.broadcastProposal(updater, updater.group.proposeUpdate());
    Group.CommitOutput out = w.commit(w.member(4), List.of(), false, List.of());
    assertThat(out.welcome()).isNull();
    assertThat(updater.group.leaf(2).encryptionKey()).isNotEqualTo(oldKey);
    w.everyoneTalks();

    // Remove by value and by reference in one commit.
    Client proposer = w.member(1);
    w.broadcastProposal(proposer, proposer.group.propose(new Proposal.Remove(3)));
    w.commit(w.member(0), List.of(new Proposal.Remove(5)), false, List.of());
    assertThat(w.members).hasSize(4);
    w.everyoneTalks();

    // Empty commit (path only), then an Add that reuses a freed leaf, without path.
    w.commit(w.member(2), List.of(), false, List.of());
    Client late = w.newClient();
    w.commit(w.member(1), List.of(w.addOf(late)), false, List.of(late));
    assertThat(late.group.ownLeaf()).isEqualTo(3);
    w.everyoneTalks();

    // External PSK by reference.
    Client p = w.member(0);
    w.broadcastProposal(
        p, p.group.propose(new Proposal.PreSharedKey(PreSharedKeyId.external(PSK_ID, Bytes.wrap(Csprng.randomBytes(w.cs.hashLength()))))));
    w.commit(w.member(3), List.of(), false, List.of());
    w.everyoneTalks();
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void lateApplicationMessageFromThePreviousEpoch(int suite, boolean priv) {
    World w = new World(suite, priv);
    Client b = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b)), false, List.of(b));
    MlsMessage late = b.group.encrypt(Bytes.of((byte) 1, (byte) 2), Bytes.EMPTY);
    w.commit(w.members.get(0), List.of(), false, List.of());
    Processed p = w.members.get(0).group.process(late);
    assertThat(((Processed.ApplicationMessage) p).epoch()).isEqualTo(1);
    assertThatThrownBy(() -> w.members.get(0).group.process(late))
        .isInstanceOf(MessageRejectedException.class)
        .extracting(e -> ((MessageRejectedException) e).reason())
        .isEqualTo(Reason.DUPLICATE);
  }

  private static Reason reasonOf(Runnable r) {
    try {
      r.run();
    } catch (MessageRejectedException e) {
      return e.reason();
    }
    throw new AssertionError("not rejected");
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void rejectedMessagesLeaveTheStateUnchanged(int suite, boolean priv) {
    World w = new World(suite, priv);
    Client b = w.newClient();
    Client c = w.newClient();
    Group.CommitOutput first = w.commit(w.members.get(0), List.of(w.addOf(b), w.addOf(c)), false, List.of(b, c));
    Client alice = w.members.get(0);

    // Replay of an old commit: wrong epoch.
    Bytes auth = b.group.epochAuthenticator();
    assertThat(reasonOf(() -> b.group.process(first.commit()))).isEqualTo(Reason.WRONG_EPOCH);

    // Application message replay.
    MlsMessage app = alice.group.encrypt(Bytes.of((byte) 9), Bytes.EMPTY);
    b.group.process(app);
    assertThat(reasonOf(() -> b.group.process(app))).isEqualTo(Reason.DUPLICATE);

    // A commit tampered with in transit, then the genuine one still applies.
    Group.CommitOutput next = alice.group.commit(List.of(), true);
    byte[] wire = next.commit().toByteArray();
    byte[] tampered = wire.clone();
    tampered[tampered.length - 5] ^= 1;
    Reason r = reasonOf(() -> b.group.process(MlsMessage.parse(tampered)));
    assertThat(r).isIn(Reason.BAD_SIGNATURE, Reason.DECRYPT_FAILED, Reason.MALFORMED);
    assertThat(b.group.epochAuthenticator()).isEqualTo(auth);

    if (!priv) {
      // Forged signature with a valid membership tag is impossible for outsiders; flip the signature.
      PublicMessage pm = (PublicMessage) next.commit().body();
      byte[] sig = pm.auth().signature().toByteArray();
      sig[0] ^= 1;
      PublicMessage forged =
          new PublicMessage(pm.content(), new FramedContentAuthData(Bytes.wrap(sig), pm.auth().confirmationTag()), pm.membershipTag());
      assertThat(reasonOf(() -> b.group.process(new MlsMessage(forged)))).isEqualTo(Reason.BAD_SIGNATURE);
    }
    assertThat(b.group.epochAuthenticator()).isEqualTo(auth);
    Processed ok = b.group.process(next.commit());
    alice.group.merge(next.staged());
    b.group.merge(((Processed.CommitApplied) ok).staged());
    Processed okC = c.group.process(next.commit());
    c.group.merge(((Processed.CommitApplied) okC).staged());
    w.checkAgreement();
    w.everyoneTalks();
  }

  /** Regression: an Add in the same commit refills the removed member's leaf; it is still removed. */
  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void removedMemberWhoseLeafIsRefilledInTheSameCommit(int suite, boolean priv) {
    World w = new World(suite, priv);
    Client b = w.newClient();
    Client c = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b), w.addOf(c)), false, List.of(b, c));
    Client d = w.newClient();
    w.broadcastProposal(b, b.group.propose(new Proposal.Remove(0)));
    w.commit(c, List.of(w.addOf(d)), false, List.of(d));
    assertThat(d.group.ownLeaf()).isZero();
    assertThat(w.members).hasSize(3).doesNotContain(w.members.stream().filter(m -> m.name.equals("m0")).findFirst().orElse(null));
    w.everyoneTalks();
  }

  /**
   * Regression: application messages processed between staging and merging a commit advance the
   * live secret tree; the merged state must keep that, or a replay would be accepted as a late message.
   */
  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void applicationMessagesBetweenStageAndMergeStayConsumed(int suite, boolean priv) {
    World w = new World(suite, priv);
    Client b = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b)), false, List.of(b));
    Client a = w.members.get(0);
    MlsMessage app = a.group.encrypt(Bytes.of((byte) 5), Bytes.EMPTY);
    Group.CommitOutput next = a.group.commit(List.of(), true);
    Processed staged = b.group.process(next.commit());
    b.group.process(app); // arrives after the commit was staged, before it is merged
    MlsMessage fromB = b.group.encrypt(Bytes.of((byte) 6), Bytes.EMPTY); // and b sends one too
    b.group.merge(((Processed.CommitApplied) staged).staged());
    assertThat(((Processed.ApplicationMessage) a.group.process(fromB)).epoch()).isEqualTo(1);
    a.group.merge(next.staged());
    assertThat(reasonOf(() -> b.group.process(app))).isEqualTo(Reason.DUPLICATE);
    w.checkAgreement();
    w.everyoneTalks();
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void welcomeWithPskAndTreeOutOfBand(int suite, boolean priv) {
    World w = new World(suite, priv);
    World first = w;
    Client b = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b)), false, List.of(b));
    // The PSK of the commit reaches the joiner through GroupSecrets.psks.
    Client c = w.newClient();
    PreSharedKeyId id = PreSharedKeyId.external(PSK_ID, Bytes.wrap(Csprng.randomBytes(w.cs.hashLength())));
    w.commit(b, List.of(w.addOf(c), new Proposal.PreSharedKey(id)), false, List.of(c));
    w.everyoneTalks();
    // Without the PSK the Welcome cannot be used.
    Client d = w.newClient();
    Group.CommitOutput out =
        w.members.get(0).group.commit(List.of(w.addOf(d), new Proposal.PreSharedKey(
            PreSharedKeyId.external(PSK_ID, Bytes.wrap(Csprng.randomBytes(w.cs.hashLength()))))), false);
    assertThatThrownBy(() -> d.join(out.welcome(), GroupConfig.DEFAULT))
        .isInstanceOf(MessageRejectedException.class);

    // Ratchet tree out of band: a group whose Welcomes carry no ratchet_tree extension.
    World o = new World(suite, priv, false);
    Client f = o.newClient();
    Group.CommitOutput bare = o.members.get(0).group.commit(List.of(o.addOf(f)), false);
    assertThatThrownBy(() -> f.join(bare.welcome(), o.config)).isInstanceOf(MessageRejectedException.class);
    o.members.get(0).group.merge(bare.staged());
    f.group =
        Group.join((chat.agentvault.mls.message.Welcome) bare.welcome().body(), f.keyPackage, f.initPriv,
            f.encryptionPriv, f.signaturePriv, o.members.get(0).group.ratchetTree(), o.config);
    o.members.add(f);
    o.checkAgreement();
    o.everyoneTalks();
    w = o;
    Client e = w.newClient();
    Client committer = w.members.get(1);
    Group.CommitOutput noTree = committer.group.commit(List.of(w.addOf(e)), false);
    List<chat.agentvault.mls.message.Node> tree = null;
    // The committer's tree after the commit is the one to hand over: merge first.
    assertThat(first.members).isNotEmpty();
    for (Client m : w.members) {
      if (m != committer) {
        m.group.merge(((Processed.CommitApplied) m.group.process(noTree.commit())).staged());
      }
    }
    committer.group.merge(noTree.staged());
    tree = committer.group.ratchetTree();
    chat.agentvault.mls.message.Welcome wel = (chat.agentvault.mls.message.Welcome) noTree.welcome().body();
    e.group = Group.join(wel, e.keyPackage, e.initPriv, e.encryptionPriv, e.signaturePriv, tree, w.config);
    w.members.add(e);
    w.checkAgreement();
    w.everyoneTalks();
  }

  @Test
  void removedMemberLearnsItAndBecomesInactive() {
    World w = new World(1, false);
    Client b = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b)), false, List.of(b));
    Group.CommitOutput out = w.members.get(0).group.commit(List.of(new Proposal.Remove(b.group.ownLeaf())), false);
    Processed p = b.group.process(out.commit());
    assertThat(p).isInstanceOf(Processed.Removed.class);
    b.group.merge(((Processed.Removed) p).staged());
    assertThat(b.group.isActive()).isFalse();
    assertThatThrownBy(() -> b.group.encrypt(Bytes.of((byte) 1), Bytes.EMPTY)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void invalidProposalListsAreRejected() {
    World w = new World(3, false);
    Client b = w.newClient();
    Client c = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b), w.addOf(c)), false, List.of(b, c));
    Client alice = w.members.get(0);
    // Removing oneself, removing a blank leaf, duplicate Add, Add of an existing member.
    assertThatThrownBy(() -> alice.group.commit(List.of(new Proposal.Remove(alice.group.ownLeaf())), false))
        .isInstanceOf(MessageRejectedException.class);
    assertThatThrownBy(() -> alice.group.commit(List.of(new Proposal.Remove(7)), false))
        .isInstanceOf(MessageRejectedException.class);
    Client d = w.newClient();
    assertThatThrownBy(() -> alice.group.commit(List.of(w.addOf(d), w.addOf(d)), false))
        .isInstanceOf(MessageRejectedException.class);
    assertThatThrownBy(() -> alice.group.commit(List.of(w.addOf(b)), false))
        .isInstanceOf(MessageRejectedException.class);
    assertThat(alice.group.epoch()).isEqualTo(1);
    // A staged commit stays mergeable when proposals come after it (they end with the epoch); once
    // another commit was merged, it is not.
    Group.CommitOutput o1 = alice.group.commit(List.of(), true);
    Group.CommitOutput o2 = alice.group.commit(List.of(), true);
    alice.group.propose(new Proposal.Remove(c.group.ownLeaf()));
    alice.group.merge(o1.staged());
    assertThat(alice.group.epoch()).isEqualTo(2);
    assertThat(alice.group.pendingProposals()).isEmpty();
    assertThatThrownBy(() -> alice.group.merge(o2.staged())).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> alice.group.merge(o1.staged())).isInstanceOf(IllegalStateException.class);
  }

  /**
   * The delivery service orders a member's proposal before the own commit of another: the
   * committer stores the proposal while its commit is pending, then merges the commit; everyone
   * agrees (the proposal ends with the epoch).
   */
  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void proposalArrivingWhileTheOwnCommitIsPending(int suite, boolean priv) {
    World w = new World(suite, priv);
    Client b = w.newClient();
    Client c = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b), w.addOf(c)), false, List.of(b, c));
    Client a = w.members.get(0);
    Group.CommitOutput mine = a.group.commit(List.of(), true);
    w.broadcastProposal(b, b.group.proposeUpdate());
    // Persisted and restored in between, with the proposal stored.
    Group.Restored r = Group.restore(a.group.toRecord(mine), w.config);
    assertThat(r.group().pendingProposals()).hasSize(1);
    a.group = r.group();
    a.group.merge(r.pendingCommit().staged());
    for (Client m : List.of(b, c)) {
      m.group.merge(((Processed.CommitApplied) m.group.process(mine.commit())).staged());
    }
    w.checkAgreement();
    w.everyoneTalks();
  }
}
