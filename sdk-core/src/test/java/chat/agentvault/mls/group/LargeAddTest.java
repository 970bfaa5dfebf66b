package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Proposal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Adds and joins large enough for the signatures of the Adds, of the joined tree and the Welcome
 * encryptions to run on several cores (mls.crypto.Parallel): the results and the errors are those
 * of the sequential checks, whichever KeyPackage is bad.
 */
class LargeAddTest {
  private static final GroupConfig CONFIG = GroupConfig.DEFAULT;

  private static List<Client> clients(CipherSuite cs, int n) {
    List<Client> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Client(cs, "client-" + i));
    }
    return out;
  }

  private static List<Proposal> adds(List<Client> clients) {
    List<Proposal> out = new ArrayList<>();
    for (Client c : clients) {
      out.add(new Proposal.Add(c.keyPackage));
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void everyoneAddedJoinsAndAgrees(int suite) {
    CipherSuite cs = CipherSuites.forId(suite);
    Client creator = new Client(cs, "creator");
    creator.create(Bytes.wrap(new byte[] {1, 2, 3}), CONFIG);
    List<Client> joiners = clients(cs, 40);
    Group.CommitOutput out = creator.group.commit(adds(joiners), false);
    creator.group.merge(out.staged());
    for (Client c : joiners) {
      c.join(out.welcome(), CONFIG);
      assertThat(c.group.epochAuthenticator()).isEqualTo(creator.group.epochAuthenticator());
    }
    // An empty commit with a path to 40 separate leaves (every parent blank), processed by all.
    Group.CommitOutput update = creator.group.commit(List.of(), true);
    creator.group.merge(update.staged());
    for (Client c : joiners) {
      Processed p = c.group.process(update.commit());
      c.group.merge(((Processed.CommitApplied) p).staged());
      assertThat(c.group.epochAuthenticator()).isEqualTo(creator.group.epochAuthenticator());
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 17, 39})
  void aBadKeyPackageSignatureAnywhereIsReportedAsBefore(int bad) {
    CipherSuite cs = CipherSuites.forId(1);
    Client creator = new Client(cs, "creator");
    creator.create(Bytes.wrap(new byte[] {1}), CONFIG);
    List<Client> joiners = clients(cs, 40);
    List<Proposal> adds = adds(joiners);
    KeyPackage kp = joiners.get(bad).keyPackage;
    byte[] sig = kp.signature().toByteArray();
    sig[3] ^= 1;
    adds.set(bad, new Proposal.Add(
        new KeyPackage(kp.version(), kp.cipherSuite(), kp.initKey(), kp.leafNode(), kp.extensions(), Bytes.wrap(sig))));
    assertThatThrownBy(() -> creator.group.commit(adds, false))
        .isInstanceOf(MessageRejectedException.class)
        .hasMessageContaining("KeyPackage signature invalid")
        .extracting(e -> ((MessageRejectedException) e).reason())
        .isEqualTo(Reason.BAD_SIGNATURE);
  }

  @ParameterizedTest
  @ValueSource(ints = {5, 33})
  void aDuplicateAfterABadLeafIsNotReportedFirst(int bad) {
    // Two faults: a bad leaf signature at `bad` (its KeyPackage signature is over the bad leaf, so
    // valid) and a duplicate of KeyPackage 38 at 39. The earlier fault is reported, as sequentially.
    CipherSuite cs = CipherSuites.forId(3);
    Client creator = new Client(cs, "creator");
    creator.create(Bytes.wrap(new byte[] {2}), CONFIG);
    List<Client> joiners = clients(cs, 40);
    List<Proposal> adds = adds(joiners);
    adds.set(39, adds.get(38));
    Client c = joiners.get(bad);
    LeafNode leaf = c.keyPackage.leafNode();
    byte[] leafSig = leaf.signature().toByteArray();
    leafSig[7] ^= 1;
    LeafNode badLeaf = leaf.withSignature(Bytes.wrap(leafSig));
    KeyPackage unsigned =
        new KeyPackage(c.keyPackage.version(), cs.id(), c.keyPackage.initKey(), badLeaf, List.of(), Bytes.EMPTY);
    byte[] kpSig =
        chat.agentvault.mls.crypto.MlsCrypto.signWithLabel(cs, c.signaturePriv, "KeyPackageTBS", unsigned.toBeSigned());
    adds.set(bad, new Proposal.Add(
        new KeyPackage(unsigned.version(), cs.id(), unsigned.initKey(), badLeaf, List.of(), Bytes.wrap(kpSig))));
    assertThatThrownBy(() -> creator.group.commit(adds, false))
        .isInstanceOf(MessageRejectedException.class)
        .hasMessageContaining("leaf node signature invalid")
        .extracting(e -> ((MessageRejectedException) e).reason())
        .isEqualTo(Reason.BAD_SIGNATURE);
    // Without the bad leaf, the duplicate is refused.
    adds.set(bad, new Proposal.Add(c.keyPackage));
    assertThatThrownBy(() -> creator.group.commit(adds, false))
        .isInstanceOf(MessageRejectedException.class)
        .extracting(e -> ((MessageRejectedException) e).reason())
        .isEqualTo(Reason.MALFORMED);
  }
}
