package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.framing.MessageProtection;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Commit;
import chat.agentvault.mls.message.FramedContent;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.PublicMessage;
import chat.agentvault.mls.message.Sender;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Commits that authenticate (valid signature and membership tag: a member made them) but break
 * the rules of §12.2 – §12.4.2: each is rejected and the receiver's state is unchanged, so the
 * genuine next commit still applies.
 */
class InsiderCommitTest {
  private static GroupTest.World threeMembers(int suite) {
    GroupTest.World w = new GroupTest.World(suite, false);
    Client b = w.newClient();
    Client c = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b), w.addOf(c)), false, List.of(b, c));
    return w;
  }

  /** A PublicMessage commit by {@code from}, signed and tagged with its real keys. */
  private static MlsMessage forge(Client from, Commit commit, Bytes confirmationTag) {
    GroupState s = from.group.stateForTest();
    FramedContent content =
        new FramedContent(
            s.groupId(), s.epoch(), Sender.member(s.ownLeaf), Bytes.EMPTY, Codes.CONTENT_COMMIT, null, null, commit);
    PublicMessage pm =
        MessageProtection.protectPublic(s.cs, s.context, content, s.signaturePriv, s.membershipKey, confirmationTag);
    return new MlsMessage(pm);
  }

  private static void assertRejected(Client to, MlsMessage m, Reason reason) {
    Bytes before = to.group.epochAuthenticator();
    long epoch = to.group.epoch();
    try {
      to.group.process(m);
      throw new AssertionError("accepted");
    } catch (MessageRejectedException e) {
      assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
    }
    assertThat(to.group.epoch()).isEqualTo(epoch);
    assertThat(to.group.epochAuthenticator()).isEqualTo(before);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void invalidProposalsAreNeitherSentNorStored(int suite) {
    GroupTest.World w = threeMembers(suite);
    Client a = w.member(0);
    Client b = w.member(1);
    // Our own API refuses to send them.
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.group.propose(new Proposal.Remove(3)))
        .isInstanceOf(MessageRejectedException.class);
    // A member's signed proposal removing a blank leaf, with an unknown PSK, with a resumption PSK
    // of usage reinit or branch (§12.1.4), or a ReInit to a lower version (§12.1.5), is not stored.
    GroupState s = a.group.stateForTest();
    Bytes nonce = Bytes.wrap(new byte[w.cs.hashLength()]);
    for (Proposal bad :
        List.<Proposal>of(
            new Proposal.Remove(3),
            new Proposal.PreSharedKey(
                chat.agentvault.mls.message.PreSharedKeyId.external(Bytes.of((byte) 1), Bytes.wrap(new byte[w.cs.hashLength()]))),
            new Proposal.PreSharedKey(
                chat.agentvault.mls.message.PreSharedKeyId.resumption(
                    Codes.RESUMPTION_REINIT, s.groupId(), s.epoch(), nonce)),
            new Proposal.PreSharedKey(
                chat.agentvault.mls.message.PreSharedKeyId.resumption(
                    Codes.RESUMPTION_BRANCH, s.groupId(), s.epoch(), nonce)),
            new Proposal.ReInit(Bytes.of((byte) 9), 0, suite, List.of()))) {
      FramedContent content =
          new FramedContent(s.groupId(), s.epoch(), Sender.member(0), Bytes.EMPTY, Codes.CONTENT_PROPOSAL, null, bad, null);
      MlsMessage m =
          new MlsMessage(MessageProtection.protectPublic(s.cs, s.context, content, s.signaturePriv, s.membershipKey, null));
      assertRejected(b, m, Reason.MALFORMED);
      assertThat(b.group.pendingProposals()).isEmpty();
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void ruleBreakingCommitsAreRejected(int suite) {
    GroupTest.World w = threeMembers(suite);
    Client a = w.member(0);
    Client b = w.member(1);
    Bytes someTag = Bytes.wrap(new byte[w.cs.hashLength()]);

    // A real commit whose confirmation tag was replaced (the insider cannot compute a right one for a lie).
    Group.CommitOutput real = a.group.commit(List.of(new Proposal.Remove(2)), false);
    PublicMessage pm = (PublicMessage) real.commit().body();
    assertRejected(b, forge(a, pm.content().commit(), someTag), Reason.BAD_SIGNATURE);
    // Remove proposal without a path (§12.4: path required).
    assertRejected(b, forge(a, new Commit(List.of(Commit.ProposalOrRef.of(new Proposal.Remove(2))), null), someTag), Reason.MALFORMED);
    // Empty commit without a path.
    assertRejected(b, forge(a, new Commit(List.of(), null), someTag), Reason.MALFORMED);
    // The committer removes itself (§12.2).
    assertRejected(b, forge(a, new Commit(List.of(Commit.ProposalOrRef.of(new Proposal.Remove(0))), pm.content().commit().path()), someTag), Reason.MALFORMED);
    // Two Removes of one leaf (§12.2).
    Commit.ProposalOrRef rm = Commit.ProposalOrRef.of(new Proposal.Remove(2));
    assertRejected(b, forge(a, new Commit(List.of(rm, rm), pm.content().commit().path()), someTag), Reason.MALFORMED);
    // A reference to a proposal nobody sent.
    assertRejected(
        b, forge(a, new Commit(List.of(Commit.ProposalOrRef.ref(Bytes.wrap(new byte[w.cs.hashLength()]))), pm.content().commit().path()), someTag),
        Reason.MALFORMED);
    // An Update by value (it would be the committer's own, §12.2).
    assertRejected(
        b, forge(a, new Commit(List.of(Commit.ProposalOrRef.of(new Proposal.Update(a.group.leaf(0)))), pm.content().commit().path()), someTag),
        Reason.MALFORMED);
    // A resumption PSK of usage reinit in a regular commit (§12.1.4).
    Commit.ProposalOrRef reinitPsk =
        Commit.ProposalOrRef.of(
            new Proposal.PreSharedKey(
                chat.agentvault.mls.message.PreSharedKeyId.resumption(
                    Codes.RESUMPTION_REINIT, a.group.groupId(), a.group.epoch(),
                    Bytes.wrap(new byte[w.cs.hashLength()]))));
    assertRejected(b, forge(a, new Commit(List.of(reinitPsk), pm.content().commit().path()), someTag), Reason.MALFORMED);
    // A ReInit with other proposals (§12.2).
    assertRejected(
        b, forge(a, new Commit(List.of(rm, Commit.ProposalOrRef.of(new Proposal.ReInit(a.group.groupId(), 1, suite, List.of()))), pm.content().commit().path()), someTag),
        Reason.MALFORMED);

    // After all that, the genuine commit applies everywhere.
    Processed p = b.group.process(real.commit());
    b.group.merge(((Processed.CommitApplied) p).staged());
    Processed removed = w.member(2).group.process(real.commit());
    assertThat(removed).isInstanceOf(Processed.Removed.class);
    a.group.merge(real.staged());
    assertThat(a.group.epochAuthenticator()).isEqualTo(b.group.epochAuthenticator());
  }
}
