package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.message.FramedContentAuthData;
import chat.agentvault.mls.message.GroupInfo;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.PublicMessage;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Joining by external commit (§12.4.3.2), resync with removal of the old leaf, forged tags. */
class ExternalCommitTest {
  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> setups() {
    return GroupTest.setups();
  }

  private static void deliver(GroupTest.World w, MlsMessage commit, Client except) {
    for (Client m : List.copyOf(w.members)) {
      if (m == except) {
        continue;
      }
      Processed p = m.group.process(commit);
      if (p instanceof Processed.Removed r) {
        m.group.merge(r.staged());
        w.members.remove(m);
      } else {
        m.group.merge(((Processed.CommitApplied) p).staged());
      }
    }
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void externalJoinAndResync(int suite, boolean priv) {
    GroupTest.World w = new GroupTest.World(suite, priv);
    Client b = w.newClient();
    Client c = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b), w.addOf(c)), false, List.of(b, c));

    // An outsider joins from a GroupInfo published by c.
    Client x = w.newClient();
    GroupInfo gi = (GroupInfo) c.group.groupInfo(true).body();
    Group.ExternalJoin ej = Group.joinExternal(gi, null, x.keyPackage.leafNode(), x.signaturePriv, -1, w.config);
    x.group = ej.group();

    // The confirmation tag is all that binds an external commit to the key schedule: forging it fails.
    PublicMessage pm = (PublicMessage) ej.commit().body();
    PublicMessage forged =
        new PublicMessage(
            pm.content(),
            new FramedContentAuthData(pm.auth().signature(), Bytes.wrap(new byte[w.cs.hashLength()])),
            null);
    Bytes before = b.group.epochAuthenticator();
    try {
      b.group.process(new MlsMessage(forged));
      throw new AssertionError("accepted");
    } catch (MessageRejectedException e) {
      assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE);
    }
    assertThat(b.group.epochAuthenticator()).isEqualTo(before);

    Processed p = w.members.get(0).group.process(ej.commit());
    assertThat(((Processed.CommitApplied) p).added()).containsExactly(x.group.ownLeaf());
    w.members.get(0).group.merge(((Processed.CommitApplied) p).staged());
    deliver(w, ej.commit(), w.members.get(0));
    w.members.add(x);
    w.checkAgreement();
    w.everyoneTalks();

    // b lost its state: it rejoins externally, removing its old leaf.
    int oldLeaf = b.group.ownLeaf();
    GroupInfo gi2 = (GroupInfo) x.group.groupInfo(true).body();
    Group.ExternalJoin again = Group.joinExternal(gi2, null, b.keyPackage.leafNode(), b.signaturePriv, oldLeaf, w.config);
    Processed forOld = b.group.process(again.commit());
    assertThat(forOld).isInstanceOf(Processed.Removed.class);
    w.members.remove(b);
    deliver(w, again.commit(), null);
    b.group = again.group();
    w.members.add(b);
    w.checkAgreement();
    w.everyoneTalks();
    // A regular commit after the external ones works for everybody.
    w.commit(x, List.of(), true, List.of());
    w.everyoneTalks();
  }
}
