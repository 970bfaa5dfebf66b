package chat.agentvault.mls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.Inbound;
import chat.agentvault.mls.MlsGroup;
import chat.agentvault.mls.MlsKeyPackage;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.mls.TreeKEM.LeafNode;
import org.bouncycastle.mls.TreeKEM.LifeTime;
import org.bouncycastle.mls.TreeKEM.TreeKEMPublicKey;
import org.bouncycastle.mls.codec.Capabilities;
import org.bouncycastle.mls.codec.Credential;
import org.bouncycastle.mls.codec.Extension;
import org.bouncycastle.mls.codec.KeyPackage;
import org.bouncycastle.mls.codec.MLSInputStream;
import org.bouncycastle.mls.codec.MLSMessage;
import org.bouncycastle.mls.codec.MLSOutputStream;
import org.bouncycastle.mls.codec.ProtocolVersion;
import org.bouncycastle.mls.codec.WireFormat;
import org.bouncycastle.mls.crypto.MlsCipherSuite;
import org.bouncycastle.mls.crypto.Secret;
import org.bouncycastle.mls.protocol.Group;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Reinitialisation and subgroup branching (RFC 9420 §11.2, §11.3) between our engine (public
 * {@link MlsGroup} API) and Bouncy Castle's MLS ({@code bcmls-jdk18on} 1.84, driven as its interop
 * client {@code MLSClientImpl} drives {@code Group.reinit}, {@code reinitCommit}, {@code
 * handleReinitCommit}, {@code Tombstone.createWelcome/handleWelcome}, {@code createBranch} and
 * {@code handleBranch}). Alice is ours, Bob is BC's; each side in turn proposes, commits, creates the
 * new group and joins it; after each step both agree on epoch, epoch authenticator and MLS-Exporter,
 * and application messages cross both ways.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BcMlsSuccessorInteropTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final byte[] CTX = "ctx".getBytes(StandardCharsets.UTF_8);

  private static Bytes b(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Keys and a KeyPackage of Bob for one cipher suite (BC side). */
  static final class BcKeys {
    final MlsCipherSuite cs;
    final AsymmetricCipherKeyPair initKeys;
    final AsymmetricCipherKeyPair leafKeys;
    final AsymmetricCipherKeyPair sigKeys;
    final KeyPackage kp;

    BcKeys(String name, int suite) throws Exception {
      cs = MlsCipherSuite.getSuite((short) suite);
      initKeys = cs.getHPKE().generatePrivateKey();
      leafKeys = cs.getHPKE().generatePrivateKey();
      sigKeys = cs.generateSignatureKeyPair();
      LeafNode leaf =
          new LeafNode(
              cs, cs.getHPKE().serializePublicKey(leafKeys.getPublic()),
              cs.serializeSignaturePublicKey(sigKeys.getPublic()),
              Credential.forBasic(name.getBytes(StandardCharsets.UTF_8)), new Capabilities(), new LifeTime(),
              new ArrayList<Extension>(), sigPriv());
      kp =
          new KeyPackage(
              cs, cs.getHPKE().serializePublicKey(initKeys.getPublic()), leaf, new ArrayList<Extension>(), sigPriv());
    }

    byte[] sigPriv() {
      return cs.serializeSignaturePrivateKey(sigKeys.getPrivate());
    }

    Bytes keyPackage() throws Exception {
      return Bytes.wrap(MLSOutputStream.encode(MLSMessage.keyPackage(kp)));
    }

    byte[] leafSecret() {
      byte[] s = new byte[cs.getKDF().getHashLength()];
      RANDOM.nextBytes(s);
      return s;
    }

    /** Joins a plain Welcome. */
    Group join(Bytes welcome) throws Exception {
      return new Group(
          cs.getHPKE().serializePrivateKey(initKeys.getPrivate()), leafKeys, sigPriv(), kp, parse(welcome).welcome,
          (TreeKEMPublicKey) null, new HashMap<Secret, byte[]>(), new HashMap<Group.EpochRef, byte[]>());
    }
  }

  private static MLSMessage parse(Bytes b) throws Exception {
    return (MLSMessage) MLSInputStream.decode(b.toByteArray(), MLSMessage.class);
  }

  private static Bytes welcomeOf(Group.GroupWithMessage gwm) throws Exception {
    // As MLSClientImpl does: the returned MLSMessage carries the Welcome too.
    gwm.message.wireFormat = WireFormat.mls_welcome;
    return Bytes.wrap(MLSOutputStream.encode(gwm.message));
  }

  /** Ours and BC's agree on the epoch, the epoch authenticator and MLS-Exporter; messages cross. */
  private static void agree(MlsGroup ours, Group bc) throws Exception {
    assertThat(bc.getEpoch()).isEqualTo(ours.epoch());
    assertThat(bc.getGroupID()).isEqualTo(ours.groupId().toByteArray());
    assertThat(bc.getEpochAuthenticator()).isEqualTo(ours.epochAuthenticator().toByteArray());
    assertThat(bc.getKeySchedule().MLSExporter("agentvault interop", CTX, 32))
        .isEqualTo(ours.exportSecret("agentvault interop", CTX, 32));
    byte[] fromBc = MLSOutputStream.encode(bc.protect(new byte[0], "from bc".getBytes(StandardCharsets.UTF_8), 0));
    assertThat(((Inbound.Application) ours.process(Bytes.wrap(fromBc))).data()).isEqualTo(b("from bc"));
    byte[] fromOurs = ours.encrypt(b("from ours")).toByteArray();
    assertThat(bc.unprotect((MLSMessage) MLSInputStream.decode(fromOurs, MLSMessage.class))[1])
        .isEqualTo("from ours".getBytes(StandardCharsets.UTF_8));
  }

  /** Alice (ours) creates the group and adds Bob (BC). */
  private static Object[] start(int suite, boolean enc, BcKeys bob) throws Exception {
    MlsGroup alice = MlsGroup.create(MlsKeyPackage.generate(suite, b("alice")), b("bc-successor"), enc);
    MlsGroup.PendingCommit add = alice.addMembers(List.of(bob.keyPackage()));
    alice.mergePendingCommit();
    Group bobs = bob.join(add.welcome().orElseThrow());
    return new Object[] {alice, bobs};
  }

  @ParameterizedTest(name = "suite {0} to {1}, encrypted handshakes {2}")
  @CsvSource({"1, 3, false", "3, 1, true", "1, 1, true", "3, 3, false"})
  void oursCommitsTheReInitAndCreatesTheNewGroupBcJoins(int suite, int newSuite, boolean enc) throws Exception {
    BcKeys bob = new BcKeys("bob", suite);
    Object[] s = start(suite, enc, bob);
    MlsGroup alice = (MlsGroup) s[0];
    Group bobs = (Group) s[1];
    agree(alice, bobs);

    MlsGroup.PendingCommit reinit = alice.commitReInit(b("bc-successor v2"), newSuite);
    alice.mergePendingCommit();
    Group.Tombstone tomb = bobs.handleReinitCommit(parse(reinit.message()));
    assertThat(tomb.getEpochAuthenticator()).isEqualTo(alice.epochAuthenticator().toByteArray());

    MlsKeyPackage alice2 = MlsKeyPackage.generate(newSuite, b("alice"));
    BcKeys bob2 = new BcKeys("bob", newSuite);
    MlsGroup.Successor created = alice.reinitialize(alice2, List.of(bob2.keyPackage()));
    created.group().mergePendingCommit();
    Group bobs2 =
        tomb.handleWelcome(
            bob2.initKeys, bob2.leafKeys, bob2.sigKeys, bob2.kp, parse(created.commit().welcome().orElseThrow()), null);
    agree(created.group(), bobs2);
    assertThat(created.group().epoch()).isEqualTo(1);
  }

  @ParameterizedTest(name = "suite {0} to {1}, encrypted handshakes {2}")
  @CsvSource({"1, 3, false", "3, 1, true", "1, 1, false", "3, 3, true"})
  void bcProposesOursCommitsBcCreatesTheNewGroupOursJoins(int suite, int newSuite, boolean enc) throws Exception {
    Group.MessageOptions options = new Group.MessageOptions(enc, new byte[0], 0);
    BcKeys bob = new BcKeys("bob", suite);
    Object[] s = start(suite, enc, bob);
    MlsGroup alice = (MlsGroup) s[0];
    Group bobs = (Group) s[1];

    MLSMessage proposal =
        bobs.reinit(
            "bc-successor v2".getBytes(StandardCharsets.UTF_8), ProtocolVersion.mls10,
            MlsCipherSuite.getSuite((short) newSuite), new ArrayList<Extension>(), options);
    byte[] proposalBytes = MLSOutputStream.encode(proposal);
    // bcmls keeps a proposal, its own too, only once Group.handle has processed it (its interop
    // client, handleReInitCommitImpl, hands the commit's proposals to handle before the commit).
    assertThat(bobs.handle(proposalBytes, null)).isNull();
    Inbound.ProposalReceived got = (Inbound.ProposalReceived) alice.process(Bytes.wrap(proposalBytes));
    assertThat(got.proposalType()).isEqualTo(5);
    MlsGroup.PendingCommit commit = alice.commitReInit();
    alice.mergePendingCommit();
    assertThat(alice.reinit()).contains(new MlsGroup.ReInit(b("bc-successor v2"), newSuite));
    Group.Tombstone tomb = bobs.handleReinitCommit(parse(commit.message()));
    assertThat(tomb.getEpochAuthenticator()).isEqualTo(alice.epochAuthenticator().toByteArray());

    MlsKeyPackage alice2 = MlsKeyPackage.generate(newSuite, b("alice"));
    BcKeys bob2 = new BcKeys("bob", newSuite);
    List<KeyPackage> others = List.of(parse(alice2.toBytes()).keyPackage);
    Group.GroupWithMessage gwm =
        tomb.createWelcome(
            bob2.leafKeys, bob2.sigPriv(), bob2.kp.getLeafNode(), others, bob2.leafSecret(),
            new Group.CommitOptions(new ArrayList<>(), true, false, null));
    MlsGroup alices2 = MlsGroup.joinSuccessor(alice2, welcomeOf(gwm), alice);
    agree(alices2, gwm.group);
  }

  @ParameterizedTest(name = "suite {0} to {1}, encrypted handshakes {2}")
  @CsvSource({"1, 3, true", "3, 1, false"})
  void bcCommitsTheReInitOursCreatesTheNewGroupBcJoins(int suite, int newSuite, boolean enc) throws Exception {
    Group.MessageOptions options = new Group.MessageOptions(enc, new byte[0], 0);
    BcKeys bob = new BcKeys("bob", suite);
    Object[] s = start(suite, enc, bob);
    MlsGroup alice = (MlsGroup) s[0];
    Group bobs = (Group) s[1];

    byte[] proposal =
        MLSOutputStream.encode(
            bobs.reinit(
                "bc-successor v3".getBytes(StandardCharsets.UTF_8), ProtocolVersion.mls10,
                MlsCipherSuite.getSuite((short) newSuite), new ArrayList<Extension>(), options));
    assertThat(bobs.handle(proposal, null)).isNull();
    alice.process(Bytes.wrap(proposal));
    Group.TombstoneWithMessage tomb =
        bobs.reinitCommit(bob.leafSecret(), new Group.CommitOptions(new ArrayList<>(), true, false, null), options);
    Inbound.StagedCommit staged =
        (Inbound.StagedCommit) alice.process(Bytes.wrap(MLSOutputStream.encode(tomb.getMessage())));
    alice.merge(staged);
    assertThat(alice.isActive()).isFalse();
    assertThat(alice.reinit()).contains(new MlsGroup.ReInit(b("bc-successor v3"), newSuite));
    assertThat(tomb.getEpochAuthenticator()).isEqualTo(alice.epochAuthenticator().toByteArray());

    MlsKeyPackage alice2 = MlsKeyPackage.generate(newSuite, b("alice"));
    BcKeys bob2 = new BcKeys("bob", newSuite);
    MlsGroup.Successor created = alice.reinitialize(alice2, List.of(bob2.keyPackage()));
    created.group().mergePendingCommit();
    Group bobs2 =
        tomb.handleWelcome(
            bob2.initKeys, bob2.leafKeys, bob2.sigKeys, bob2.kp, parse(created.commit().welcome().orElseThrow()), null);
    agree(created.group(), bobs2);
  }

  @ParameterizedTest(name = "suite {0}, encrypted handshakes {1}")
  @CsvSource({"1, false", "1, true", "3, false", "3, true"})
  void branchesEitherWay(int suite, boolean enc) throws Exception {
    Group.MessageOptions options = new Group.MessageOptions(enc, new byte[0], 0);
    BcKeys bob = new BcKeys("bob", suite);
    Object[] s = start(suite, enc, bob);
    MlsGroup alice = (MlsGroup) s[0];
    Group bobs = (Group) s[1];

    // Ours branches, BC joins.
    MlsKeyPackage alice2 = MlsKeyPackage.generate(suite, b("alice"));
    BcKeys bob2 = new BcKeys("bob", suite);
    MlsGroup.Successor side = alice.branch(alice2, b("side ours"), List.of(bob2.keyPackage()));
    side.group().mergePendingCommit();
    Group bobSide =
        bobs.handleBranch(
            bob2.initKeys, bob2.leafKeys, bob2.sigKeys, bob2.kp, parse(side.commit().welcome().orElseThrow()), null);
    agree(side.group(), bobSide);

    // BC branches, ours joins.
    MlsKeyPackage alice3 = MlsKeyPackage.generate(suite, b("alice"));
    BcKeys bob3 = new BcKeys("bob", suite);
    Group.GroupWithMessage gwm =
        bobs.createBranch(
            "side bc".getBytes(StandardCharsets.UTF_8), bob3.leafKeys, bob3.sigKeys, bob3.kp.getLeafNode(),
            new ArrayList<Extension>(), List.of(parse(alice3.toBytes()).keyPackage), bob3.leafSecret(),
            new Group.CommitOptions(new ArrayList<>(), true, false, null));
    MlsGroup aliceSide = MlsGroup.joinSuccessor(alice3, welcomeOf(gwm), alice);
    agree(aliceSide, gwm.group);

    // The old group goes on.
    agree(alice, bobs);
  }
}
