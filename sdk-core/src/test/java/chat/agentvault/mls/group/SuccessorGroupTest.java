package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.PreSharedKeyId;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.mls.schedule.PskSecret;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Groups that resume another (RFC 9420 §11.2 reinitialisation, §11.3 subgroup branching): the
 * ReInit commit, the new group with its resumption PSK in the Welcome, the joiners' checks
 * (§12.4.3.1), and every refusal.
 */
class SuccessorGroupTest {

  private static Bytes text(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  /** The message of the MessageRejectedException {@code r} throws: "REASON: why". */
  private static String refusal(Runnable r) {
    try {
      r.run();
    } catch (MessageRejectedException e) {
      assertThat(e.getMessage()).startsWith(e.reason() + ": ");
      return e.getMessage();
    }
    throw new AssertionError("not rejected");
  }

  /** Every member but the committer processes and merges {@code out}; the committer merges it. */
  private static void deliver(GroupTest.World w, Client committer, Group.CommitOutput out) {
    for (Client m : w.members) {
      if (m != committer) {
        m.group.merge(((Processed.CommitApplied) m.group.process(out.commit())).staged());
      }
    }
    committer.group.merge(out.staged());
  }

  private static GroupTest.World fourMembers(int suite, boolean priv) {
    GroupTest.World w = new GroupTest.World(suite, priv);
    List<Client> joiners = List.of(w.newClient(), w.newClient(), w.newClient());
    w.commit(w.members.get(0), joiners.stream().map(w::addOf).toList(), false, joiners);
    w.everyoneTalks();
    return w;
  }

  /** The same member (same name, so the same basic credential) with fresh keys of {@code cs}. */
  private static Client renewed(Client c, CipherSuite cs) {
    return new Client(cs, c.name);
  }

  private static Group joinResuming(Client joiner, MlsMessage welcome, GroupConfig config, Group previous) {
    return Group.join(
        (Welcome) welcome.body(), joiner.keyPackage, joiner.initPriv, joiner.encryptionPriv, joiner.signaturePriv,
        null, config, id -> id.equals(previous.groupId()) ? previous : null);
  }

  private static List<KeyPackage> keyPackages(List<Client> cs) {
    return cs.stream().map(c -> c.keyPackage).toList();
  }

  private static Proposal.ReInit reInit(int suite) {
    return new Proposal.ReInit(Bytes.wrap(Csprng.randomBytes(16)), Codes.MLS10, suite, List.of());
  }

  private static int otherSuite(int suite) {
    return suite == 1 ? 3 : 1;
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("chat.agentvault.mls.group.GroupTest#setups")
  void reinitialiseToAnotherCipherSuite(int suite, boolean priv) {
    GroupTest.World w = fourMembers(suite, priv);
    Client a = w.member(0);
    Client b = w.member(1);
    Client c = w.member(2);
    Client d = w.member(3);
    Bytes oldId = a.group.groupId();
    MlsMessage late = a.group.encrypt(text("sent before the ReInit"), Bytes.EMPTY);

    // b proposes, d proposes an Add as well; a regular commit leaves the ReInit out, c commits it alone.
    Proposal.ReInit ri = reInit(otherSuite(suite));
    w.broadcastProposal(b, b.group.propose(ri));
    Client outsider = w.newClient();
    w.broadcastProposal(d, d.group.propose(w.addOf(outsider)));
    Group.CommitOutput regular = a.group.commit(List.of(), false);
    assertThat(regular.staged().next.reinit).isNull();
    assertThat(regular.added()).hasSize(1);
    Group.CommitOutput out = c.group.commitReInit(null);
    assertThat(out.welcome()).isNull();
    assertThat(out.added()).isEmpty();
    deliver(w, c, out);
    w.checkAgreement();
    for (Client m : w.members) {
      assertThat(m.group.isActive()).isFalse();
      assertThat(m.group.reinit()).isEqualTo(ri);
      assertThatThrownBy(() -> m.group.encrypt(text("no"), Bytes.EMPTY)).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> m.group.commit(List.of(), true)).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> m.group.proposeUpdate()).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> m.group.branch(text("x"), m.keyPackage, m.encryptionPriv, m.signaturePriv, List.of()))
          .isInstanceOf(IllegalStateException.class);
    }
    // Still readable: an application message of the last epochs.
    assertThat(((Processed.ApplicationMessage) b.group.process(late)).data()).isEqualTo(text("sent before the ReInit"));
    // The ReInit state survives a restart.
    b.group = Group.fromRecord(b.group.toRecord(), w.config);
    assertThat(b.group.reinit()).isEqualTo(ri);
    assertThat(b.group.isActive()).isFalse();

    // a (neither proposer nor committer) creates the new group with fresh KeyPackages of the new suite.
    CipherSuite ncs = CipherSuites.forId(ri.cipherSuite());
    Client a2 = renewed(a, ncs);
    Client b2 = renewed(b, ncs);
    Client c2 = renewed(c, ncs);
    Client d2 = renewed(d, ncs);
    Group.Successor created =
        a.group.reinitialize(a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, keyPackages(List.of(b2, c2, d2)));
    a2.group = created.group();
    assertThat(a2.group.epoch()).isZero();
    a2.group.merge(created.commit().staged());
    MlsMessage welcome = created.commit().welcome();
    b2.group = joinResuming(b2, welcome, w.config, b.group);
    c2.group = joinResuming(c2, welcome, w.config, c.group);
    d2.group = joinResuming(d2, welcome, w.config, d.group);
    GroupTest.World n = new GroupTest.World(ncs, w.config, List.of(a2, b2, c2, d2));
    n.checkAgreement();
    assertThat(b2.group.epoch()).isEqualTo(1);
    assertThat(b2.group.groupId()).isEqualTo(ri.groupId()).isNotEqualTo(oldId);
    assertThat(b2.group.context().cipherSuite()).isEqualTo(ri.cipherSuite());
    n.everyoneTalks();
    n.commit(c2, List.of(), true, List.of());
    n.everyoneTalks();
    Client e = n.newClient();
    n.commit(d2, List.of(n.addOf(e)), false, List.of(e));
    n.everyoneTalks();
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("chat.agentvault.mls.group.GroupTest#setups")
  void reinitCommittedByValueKeepsTheSuiteAndExtensions(int suite, boolean priv) {
    GroupTest.World w = fourMembers(suite, priv);
    Client a = w.member(0);
    Proposal.ReInit ri = reInit(suite);
    deliver(w, a, a.group.commitReInit(ri));
    CipherSuite cs = w.cs;
    List<Client> renewed = new ArrayList<>();
    for (Client m : w.members) {
      renewed.add(renewed(m, cs));
    }
    Client creator = renewed.get(3); // the member at leaf 3 creates it
    Group.Successor created =
        w.member(3).group.reinitialize(
            creator.keyPackage, creator.encryptionPriv, creator.signaturePriv,
            keyPackages(renewed.subList(0, 3)));
    creator.group = created.group();
    creator.group.merge(created.commit().staged());
    for (int i = 0; i < 3; i++) {
      renewed.get(i).group = joinResuming(renewed.get(i), created.commit().welcome(), w.config, w.members.get(i).group);
    }
    GroupTest.World n = new GroupTest.World(cs, w.config, renewed);
    n.checkAgreement();
    n.everyoneTalks();
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("chat.agentvault.mls.group.GroupTest#setups")
  void branchASubgroupWhileTheGroupGoesOn(int suite, boolean priv) {
    GroupTest.World w = fourMembers(suite, priv);
    Client a = w.member(0);
    Client b = w.member(1);
    Client c = w.member(2);
    Client a2 = renewed(a, w.cs);
    Client b2 = renewed(b, w.cs);
    Client c2 = renewed(c, w.cs);
    Bytes branchId = Bytes.wrap(Csprng.randomBytes(16));
    long branchedEpoch = a.group.epoch();
    Group.Successor created =
        a.group.branch(branchId, a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, keyPackages(List.of(b2, c2)));
    a2.group = created.group();
    a2.group.merge(created.commit().staged());
    assertThat(a.group.isActive()).isTrue();
    b2.group = joinResuming(b2, created.commit().welcome(), w.config, b.group);

    // The old group goes on; c joins the branch one epoch later (the branched epoch is a past one).
    w.commit(w.member(3), List.of(), true, List.of());
    assertThat(c.group.epoch()).isEqualTo(branchedEpoch + 1);
    w.everyoneTalks();
    c2.group = joinResuming(c2, created.commit().welcome(), w.config, c.group);

    GroupTest.World branch = new GroupTest.World(w.cs, w.config, List.of(a2, b2, c2));
    branch.checkAgreement();
    assertThat(c2.group.groupId()).isEqualTo(branchId);
    assertThat(c2.group.epoch()).isEqualTo(1);
    assertThat(c2.group.members()).hasSize(3);
    branch.everyoneTalks();
    branch.commit(b2, List.of(new Proposal.Remove(c2.group.ownLeaf())), false, List.of());
    branch.everyoneTalks();
    w.everyoneTalks();
    w.checkAgreement();
  }

  @Test
  void reinitAndBranchPsksAreRefusedInRegularCommitsAndProposals() {
    GroupTest.World w = fourMembers(1, false);
    Client a = w.member(0);
    Bytes gid = a.group.groupId();
    for (int usage : List.of(Codes.RESUMPTION_REINIT, Codes.RESUMPTION_BRANCH)) {
      Proposal psk =
          new Proposal.PreSharedKey(
              PreSharedKeyId.resumption(usage, gid, a.group.epoch(), Bytes.wrap(Csprng.randomBytes(32))));
      assertThat(refusal(() -> a.group.commit(List.of(psk), false)))
          .startsWith("MALFORMED")
          .contains("outside the creation of a successor group");
      assertThat(refusal(() -> a.group.propose(psk)))
          .startsWith("MALFORMED")
          .contains("outside the creation of a successor group");
    }
    // A ReInit with other proposals, two ReInits, a ReInit to a lower version.
    Client x = w.newClient();
    assertThat(refusal(() -> a.group.commit(List.of(reInit(1), w.addOf(x)), false)))
        .startsWith("MALFORMED")
        .contains("ReInit together with other proposals");
    assertThat(refusal(() -> a.group.commit(List.of(reInit(1), reInit(3)), false)))
        .startsWith("MALFORMED")
        .contains("ReInit together with other proposals");
    Proposal.ReInit lower = new Proposal.ReInit(text("g"), 0, 1, List.of());
    assertThat(refusal(() -> a.group.commitReInit(lower)))
        .startsWith("MALFORMED")
        .contains("lower protocol version");
    assertThat(refusal(() -> a.group.propose(lower)))
        .startsWith("MALFORMED")
        .contains("lower protocol version");
    assertThatThrownBy(() -> a.group.commitReInit(null)).isInstanceOf(IllegalStateException.class);
    // No ReInit committed: nothing to reinitialise.
    assertThatThrownBy(() -> a.group.reinitialize(x.keyPackage, x.encryptionPriv, x.signaturePriv, List.of()))
        .isInstanceOf(IllegalStateException.class);

    // A resumption PSK of usage application reaches a joiner, who has no way to know it.
    Proposal app =
        new Proposal.PreSharedKey(
            PreSharedKeyId.resumption(
                Codes.RESUMPTION_APPLICATION, gid, a.group.epoch(), Bytes.wrap(Csprng.randomBytes(32))));
    Group.CommitOutput withApp = a.group.commit(List.of(w.addOf(x), app), false);
    assertThat(refusal(() -> x.join(withApp.welcome(), w.config)))
        .startsWith("MALFORMED")
        .contains("usage application");
    assertThat(a.group.epoch()).isEqualTo(1); // nothing merged
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("chat.agentvault.mls.group.GroupTest#setups")
  void joinersRefuseReinitWelcomesThatDoNotMatch(int suite, boolean priv) {
    GroupTest.World w = fourMembers(suite, priv);
    Client a = w.member(0);
    Client b = w.member(1);
    // A reinit PSK from a group that committed no ReInit.
    Client a0 = renewed(a, w.cs);
    Client b0 = renewed(b, w.cs);
    List<Client> cd0 = List.of(renewed(w.member(2), w.cs), renewed(w.member(3), w.cs));
    List<KeyPackage> others0 = new ArrayList<>(keyPackages(List.of(b0)));
    others0.addAll(keyPackages(cd0));
    Group.Successor noReInit =
        a.group.successor(
            Codes.RESUMPTION_REINIT, a.group.epoch(), suite, text("new"), List.of(), a0.keyPackage,
            a0.encryptionPriv, a0.signaturePriv, others0);
    assertThat(refusal(() -> joinResuming(b0, noReInit.commit().welcome(), w.config, b.group)))
        .startsWith("MALFORMED")
        .contains("has no ReInit");

    Proposal.ReInit ri = reInit(otherSuite(suite));
    deliver(w, a, a.group.commitReInit(ri));
    CipherSuite ncs = CipherSuites.forId(ri.cipherSuite());
    Client a2 = renewed(a, ncs);
    Client b2 = renewed(b, ncs);
    List<Client> rest = List.of(renewed(w.member(2), ncs), renewed(w.member(3), ncs));
    List<KeyPackage> others = new ArrayList<>(keyPackages(List.of(b2)));
    others.addAll(keyPackages(rest));
    long last = a.group.epoch();

    // The creator's own checks.
    assertThatThrownBy(
            () -> a.group.reinitialize(a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, others.subList(0, 2)))
        .isInstanceOf(IllegalArgumentException.class);
    Client stranger = new Client(ncs, "stranger");
    List<KeyPackage> withStranger = new ArrayList<>(others);
    withStranger.add(stranger.keyPackage);
    assertThatThrownBy(() -> a.group.reinitialize(a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, withStranger))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> a.group.reinitialize(a0.keyPackage, a0.encryptionPriv, a0.signaturePriv, others))
        .isInstanceOf(IllegalArgumentException.class);

    // A good Welcome, but the joiner lacks the old group, or is given another.
    Group.Successor good = a.group.reinitialize(a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, others);
    MlsMessage goodWelcome = good.commit().welcome();
    assertThat(refusal(() -> b2.join(goodWelcome, w.config)))
        .startsWith("WRONG_EPOCH")
        .contains("does not have");
    GroupTest.World elsewhere = new GroupTest.World(suite, priv);
    Group foreign = elsewhere.members.get(0).group;
    assertThat(
            refusal(
                () ->
                    Group.join(
                        (Welcome) goodWelcome.body(), b2.keyPackage, b2.initPriv, b2.encryptionPriv,
                        b2.signaturePriv, null, w.config, id -> foreign)))
        .startsWith("WRONG_EPOCH")
        .contains("does not have");

    // Forged creations (what a faulty or malicious member could send).
    Function<Group.Successor, String> b2Joins =
        s -> refusal(() -> joinResuming(b2, s.commit().welcome(), w.config, b.group));
    // The PSK of an earlier epoch than the last one.
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_REINIT, last - 1, ri.cipherSuite(), ri.groupId(), ri.extensions(),
                    a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, others)))
        .startsWith("WRONG_EPOCH")
        .contains("not of the old group's last epoch");
    // Another group id, another cipher suite, other extensions than the ReInit's.
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_REINIT, last, ri.cipherSuite(), text("not the ReInit's"), ri.extensions(),
                    a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, others)))
        .startsWith("MALFORMED")
        .contains("differ from the ReInit");
    assertThat(
            refusal(
                () ->
                    joinResuming(
                        b0,
                        a.group.successor(
                                Codes.RESUMPTION_REINIT, last, suite, ri.groupId(), ri.extensions(), a0.keyPackage,
                                a0.encryptionPriv, a0.signaturePriv, others0)
                            .commit()
                            .welcome(),
                        w.config, b.group)))
        .startsWith("MALFORMED")
        .contains("differ from the ReInit");
    Extension required = new Extension(Codes.EXT_REQUIRED_CAPABILITIES, Bytes.wrap(new byte[] {0, 0, 0}));
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_REINIT, last, ri.cipherSuite(), ri.groupId(), List.of(required),
                    a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, others)))
        .startsWith("MALFORMED")
        .contains("differ from the ReInit");
    // A member left out, or a stranger let in.
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_REINIT, last, ri.cipherSuite(), ri.groupId(), ri.extensions(),
                    a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, others.subList(0, 2))))
        .startsWith("MALFORMED")
        .contains("members are not the old group's");
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_REINIT, last, ri.cipherSuite(), ri.groupId(), ri.extensions(),
                    a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, withStranger)))
        .startsWith("MALFORMED")
        .contains("members are not the old group's");
    // A branch PSK where a reinit is due is checked as a branch: the cipher suite changed.
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_BRANCH, last, ri.cipherSuite(), ri.groupId(), ri.extensions(),
                    a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, others)))
        .startsWith("MALFORMED")
        .contains("changes the protocol version or cipher suite");

    // After all that, the good Welcome still works.
    b2.group = joinResuming(b2, goodWelcome, w.config, b.group);
    a2.group = good.group();
    a2.group.merge(good.commit().staged());
    assertThat(b2.group.epochAuthenticator()).isEqualTo(a2.group.epochAuthenticator());
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("chat.agentvault.mls.group.GroupTest#setups")
  void joinersRefuseBranchWelcomesThatDoNotMatch(int suite, boolean priv) {
    GroupTest.World w = fourMembers(suite, priv);
    Client a = w.member(0);
    Client b = w.member(1);
    Client a2 = renewed(a, w.cs);
    Client b2 = renewed(b, w.cs);
    Client stranger = new Client(w.cs, "stranger");
    long epoch = a.group.epoch();
    Bytes branchId = text("branch");

    // The creator's own checks.
    assertThatThrownBy(
            () ->
                a.group.branch(
                    a.group.groupId(), a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, List.of(b2.keyPackage)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                a.group.branch(
                    branchId, a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, List.of(stranger.keyPackage)))
        .isInstanceOf(IllegalArgumentException.class);

    Function<Group.Successor, String> b2Joins =
        s -> refusal(() -> joinResuming(b2, s.commit().welcome(), w.config, b.group));
    // A stranger in the branch.
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_BRANCH, epoch, suite, branchId, List.of(), a2.keyPackage, a2.encryptionPriv,
                    a2.signaturePriv, List.of(b2.keyPackage, stranger.keyPackage))))
        .startsWith("MALFORMED")
        .contains("not a member of the old group");
    // The old group's id.
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_BRANCH, epoch, suite, a.group.groupId(), List.of(), a2.keyPackage,
                    a2.encryptionPriv, a2.signaturePriv, List.of(b2.keyPackage))))
        .startsWith("MALFORMED")
        .contains("old group's group id");
    // Another cipher suite.
    CipherSuite ocs = CipherSuites.forId(otherSuite(suite));
    Client a3 = renewed(a, ocs);
    Client b3 = renewed(b, ocs);
    Group.Successor otherSuite =
        a.group.successor(
            Codes.RESUMPTION_BRANCH, epoch, ocs.id(), branchId, List.of(), a3.keyPackage, a3.encryptionPriv,
            a3.signaturePriv, List.of(b3.keyPackage));
    assertThat(refusal(() -> joinResuming(b3, otherSuite.commit().welcome(), w.config, b.group)))
        .startsWith("MALFORMED")
        .contains("changes the protocol version or cipher suite");
    // An epoch whose resumption PSK is still kept but whose membership is not (past-epoch window: 3).
    for (int i = 0; i < 4; i++) {
      w.commit(w.member(2), List.of(), true, List.of());
    }
    assertThat(
            b2Joins.apply(
                a.group.successor(
                    Codes.RESUMPTION_BRANCH, epoch, suite, branchId, List.of(), a2.keyPackage, a2.encryptionPriv,
                    a2.signaturePriv, List.of(b2.keyPackage))))
        .startsWith("WRONG_EPOCH")
        .contains("membership of the branched epoch is not kept");
    // The PSK's epoch no longer kept at all.
    for (int i = 0; i < GroupState.RESUMPTION_PSK_WINDOW; i++) {
      w.commit(w.member(2), List.of(), true, List.of());
    }
    assertThatThrownBy(
            () ->
                a.group.successor(
                    Codes.RESUMPTION_BRANCH, epoch, suite, branchId, List.of(), a2.keyPackage, a2.encryptionPriv,
                    a2.signaturePriv, List.of(b2.keyPackage)))
        .isInstanceOf(IllegalArgumentException.class);

    // A good branch of the current epoch still works.
    Group.Successor good =
        a.group.branch(branchId, a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, List.of(b2.keyPackage));
    b2.group = joinResuming(b2, good.commit().welcome(), w.config, b.group);
    a2.group = good.group();
    a2.group.merge(good.commit().staged());
    assertThat(b2.group.epochAuthenticator()).isEqualTo(a2.group.epochAuthenticator());
  }

  @Test
  void aResumingGroupMustStartAtEpochOne() {
    GroupTest.World w = fourMembers(3, true);
    Client a = w.member(0);
    Client b = w.member(1);
    Client a2 = renewed(a, w.cs);
    Client b2 = renewed(b, w.cs);
    // The branch starts with a alone; its second commit then adds b with the branch PSK again.
    Group.Successor alone =
        a.group.branch(text("branch"), a2.keyPackage, a2.encryptionPriv, a2.signaturePriv, List.of());
    a2.group = alone.group();
    a2.group.merge(alone.commit().staged());
    assertThat(alone.commit().welcome()).isNull();
    PreSharedKeyId id =
        PreSharedKeyId.resumption(
            Codes.RESUMPTION_BRANCH, a.group.groupId(), a.group.epoch(), Bytes.wrap(Csprng.randomBytes(32)));
    byte[] secret = a.group.stateForTest().resumptionPsks.get(a.group.epoch()).clone();
    Group.CommitOutput second =
        a2.group.commitResuming(
            List.of(new Proposal.Add(b2.keyPackage), new Proposal.PreSharedKey(id)), new PskSecret.Psk(id, secret));
    assertThat(refusal(() -> joinResuming(b2, second.welcome(), w.config, b.group)))
        .startsWith("MALFORMED")
        .contains("must start at epoch 1");
  }
}
