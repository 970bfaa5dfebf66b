package chat.agentvault.mls.group;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.internal.InsecureNonceAead;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.crypto.Parallel;
import chat.agentvault.mls.framing.MessageProtection;
import chat.agentvault.mls.framing.Welcomes;
import chat.agentvault.mls.message.AuthenticatedContent;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Commit;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.FramedContent;
import chat.agentvault.mls.message.FramedContentAuthData;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.GroupInfo;
import chat.agentvault.mls.message.GroupSecrets;
import chat.agentvault.mls.message.HpkeCiphertext;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.PreSharedKeyId;
import chat.agentvault.mls.message.PrivateMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.PublicMessage;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.message.UpdatePath;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.mls.schedule.EpochSecrets;
import chat.agentvault.mls.schedule.PskSecret;
import chat.agentvault.mls.schedule.TranscriptHashes;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeKem;
import chat.agentvault.mls.tree.TreeMath;
import chat.agentvault.mls.tree.TreeValidation;
import chat.agentvault.mls.tree.TreeValidation.Role;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * One member's view of one MLS group (RFC 9420 §11, §12): the state machine over {@link
 * GroupState}. Every operation works on a copy of the state; the copy replaces the current state
 * only when the operation succeeded ({@link #process} of non-commits, {@link #merge} of a staged
 * commit), so a rejected message leaves the group exactly as it was. Commits are staged, never
 * merged inside {@link #process}. Not thread-safe: callers serialise access per group.
 */
public final class Group {

  private GroupState state;

  private Group(GroupState state) {
    this.state = state;
  }

  /**
   * A commit this member made: the message for the group, a Welcome if members were added, the
   * staged state, and the leaves it adds (in the new tree) and removes (in the current one).
   */
  public record CommitOutput(
      MlsMessage commit,
      MlsMessage welcome,
      Processed.StagedCommit staged,
      List<Integer> added,
      List<Integer> removed) {
    public CommitOutput {
      java.util.Objects.requireNonNull(commit, "commit");
      java.util.Objects.requireNonNull(staged, "staged");
      added = List.copyOf(added);
      removed = List.copyOf(removed);
    }
  }

  // ---------------------------------------------------------------- creation and joining

  /**
   * Creates a one-member group at epoch 0 (§11). {@code ownLeaf} is this member's signed LeafNode,
   * {@code encryptionPriv} and {@code signaturePriv} its private keys.
   */
  public static Group create(
      CipherSuite cs,
      Bytes groupId,
      LeafNode ownLeaf,
      byte[] encryptionPriv,
      byte[] signaturePriv,
      List<Extension> extensions,
      GroupConfig config) {
    GroupState s = new GroupState(cs, config, 0, signaturePriv);
    s.tree = RatchetTree.create(cs, ownLeaf);
    TreeValidation.validateLeafNode(cs, ownLeaf, Role.TREE, s.tree, groupId, 0, extensions, -1);
    s.keys = new TreeKem.PrivateKeys(0, encryptionPriv);
    s.context =
        new GroupContext(Codes.MLS10, cs.id(), groupId, 0, Bytes.wrap(s.tree.treeHash()), Bytes.EMPTY, extensions);
    byte[] init = Csprng.randomBytes(cs.hashLength());
    EpochSecrets es = EpochSecrets.derive(cs, init, null, null, s.context.toByteArray());
    SecretBytes.wipe(init);
    // Epoch 0 has no commit: its GroupInfo carries the tag over the empty confirmed transcript hash.
    byte[] ck = es.confirmationKey();
    s.confirmationTag = Bytes.wrap(TranscriptHashes.confirmationTag(cs, ck, new byte[0]));
    SecretBytes.wipe(ck);
    s.setSecrets(es);
    s.interimTranscriptHash = new byte[0]; // §8.2: interim_transcript_hash_[0] = ""
    return new Group(s);
  }

  /**
   * Joins from a Welcome (§12.4.3.1) with the KeyPackage it names and that KeyPackage's private
   * keys. {@code ratchetTree} is the tree when it is not in the GroupInfo's {@code ratchet_tree}
   * extension, else null.
   *
   * @throws MessageRejectedException MALFORMED (not for this KeyPackage, unknown PSK, invalid tree,
   *     ...), DECRYPT_FAILED, BAD_SIGNATURE (GroupInfo signature or confirmation tag), WRONG_EPOCH
   *     (the Welcome resumes a group, §11.2 and §11.3: use the overload with the previous groups)
   */
  public static Group join(
      Welcome welcome,
      KeyPackage keyPackage,
      byte[] initPriv,
      byte[] encryptionPriv,
      byte[] signaturePriv,
      List<Node> ratchetTree,
      GroupConfig config) {
    return join(welcome, keyPackage, initPriv, encryptionPriv, signaturePriv, ratchetTree, config, id -> null);
  }

  /**
   * As {@link #join(Welcome, KeyPackage, byte[], byte[], byte[], List, GroupConfig)}, for a Welcome
   * that may resume one of this member's groups: {@code previousGroups} gives this member's group of
   * a group id, or null. A resumption PSK of usage reinit or branch in the GroupSecrets is taken from
   * that group and the new group is checked against it (§12.4.3.1): at most one such PSK, the new
   * group at epoch 1; for reinit, the old group's last commit held a ReInit, the PSK is of the old
   * group's last epoch, the new group's group id, version, cipher suite and extensions are the
   * ReInit's and its members (by credential) are exactly the old group's; for branch, version and
   * cipher suite are the old group's, the group id is another, and every member of the new group is
   * a member of the old group in the PSK's epoch.
   *
   * @throws MessageRejectedException as the other overload; WRONG_EPOCH when the resumed group is
   *     not among {@code previousGroups}, or the PSK's epoch is not kept (or, for reinit, not the
   *     old group's last); MALFORMED when a check above fails
   */
  public static Group join(
      Welcome welcome,
      KeyPackage keyPackage,
      byte[] initPriv,
      byte[] encryptionPriv,
      byte[] signaturePriv,
      List<Node> ratchetTree,
      GroupConfig config,
      Function<Bytes, Group> previousGroups) {
    Resumption resumed = new Resumption(previousGroups);
    OpenedWelcome opened = openWelcome(welcome, keyPackage, initPriv, config.externalPsks(), resumed::psk);
    CipherSuite cs = CipherSuites.forId(welcome.cipherSuite());
    GroupSecrets gs = opened.secrets();
    GroupInfo gi = opened.groupInfo();
    byte[] pskSecret = opened.pskSecret();
    byte[] joiner = gs.joinerSecret().toByteArray();
    GroupContext ctx = gi.groupContext();
    if (ctx.version() != Codes.MLS10 || ctx.cipherSuite() != cs.id()) {
      throw new MessageRejectedException(Reason.MALFORMED, "GroupInfo version or cipher suite mismatch");
    }
    List<Node> nodes = ratchetTree;
    for (Extension e : gi.extensions()) {
      if (e.type() == Codes.EXT_RATCHET_TREE) {
        try {
          nodes = TlsReader.decodeAll(e.data(), Node::decodeTree);
        } catch (DecodeException ex) {
          throw new MessageRejectedException(Reason.MALFORMED, "ratchet_tree extension malformed", ex);
        }
      }
    }
    if (nodes == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "no ratchet tree in the Welcome and none given");
    }
    RatchetTree tree = RatchetTree.fromNodes(cs, nodes);
    LeafNode signer = tree.leaf(gi.signer());
    if (signer == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "GroupInfo signer is a blank leaf");
    }
    Welcomes.verifyGroupInfoSignature(cs, gi, signer.signatureKey().unsafeArray());
    TreeValidation.validateTree(tree, ctx.groupId(), ctx.treeHash().unsafeArray(), ctx.extensions(), -1);
    int myLeaf = -1;
    for (int m : tree.members()) {
      if (tree.leaf(m).equals(keyPackage.leafNode())) {
        myLeaf = m;
        break;
      }
    }
    if (myLeaf < 0) {
      throw new MessageRejectedException(Reason.MALFORMED, "own LeafNode not in the tree");
    }
    resumed.check(ctx, tree);
    GroupState s = new GroupState(cs, config, myLeaf, signaturePriv);
    s.tree = tree;
    s.context = ctx;
    s.keys = new TreeKem.PrivateKeys(myLeaf, encryptionPriv);
    if (gs.pathSecret() != null) {
      int lca = TreeMath.commonAncestor(TreeMath.leafToNode(myLeaf), TreeMath.leafToNode(gi.signer()));
      List<Integer> path = new ArrayList<>();
      boolean from = false;
      for (int p : TreeMath.directPath(TreeMath.leafToNode(myLeaf), tree.leafCount())) {
        from |= p == lca;
        if (from && !tree.isBlank(p)) {
          path.add(p);
        }
      }
      if (path.isEmpty() || path.get(0) != lca) {
        throw new MessageRejectedException(Reason.MALFORMED, "path secret for a blank common ancestor");
      }
      byte[] ps = gs.pathSecret().toByteArray();
      SecretBytes.wipe(TreeKem.derivePathKeys(tree, s.keys, path.stream().mapToInt(i -> i).toArray(), ps));
      SecretBytes.wipe(ps);
    }
    EpochSecrets es = EpochSecrets.fromJoinerSecret(cs, joiner, pskSecret, ctx.toByteArray());
    SecretBytes.wipe(joiner);
    byte[] confirmationKey = es.confirmationKey();
    byte[] tag = TranscriptHashes.confirmationTag(cs, confirmationKey, ctx.confirmedTranscriptHash().unsafeArray());
    SecretBytes.wipe(confirmationKey);
    if (!Bytes.wrap(tag).equalsConstantTime(gi.confirmationTag())) {
      es.close();
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "GroupInfo confirmation tag invalid");
    }
    s.interimTranscriptHash =
        TranscriptHashes.interim(cs, ctx.confirmedTranscriptHash().unsafeArray(), gi.confirmationTag());
    s.confirmationTag = gi.confirmationTag();
    s.setSecrets(es);
    return new Group(s);
  }

  /** A decrypted Welcome: its GroupSecrets, GroupInfo (signature not yet checked) and psk_secret. */
  public record OpenedWelcome(GroupSecrets secrets, GroupInfo groupInfo, byte[] pskSecret) {}

  /**
   * Decrypts the GroupSecrets meant for {@code keyPackage} and the GroupInfo of a Welcome
   * (§12.4.3.1, first steps). External PSKs come from {@code externalPsks}; a Welcome with a
   * resumption PSK is refused (WRONG_EPOCH: see {@link #join(Welcome, KeyPackage, byte[], byte[],
   * byte[], List, GroupConfig, Function)}).
   */
  public static OpenedWelcome openWelcome(
      Welcome welcome, KeyPackage keyPackage, byte[] initPriv, Function<Bytes, byte[]> externalPsks) {
    return openWelcome(welcome, keyPackage, initPriv, externalPsks, new Resumption(id -> null)::psk);
  }

  private static OpenedWelcome openWelcome(
      Welcome welcome,
      KeyPackage keyPackage,
      byte[] initPriv,
      Function<Bytes, byte[]> externalPsks,
      Function<PreSharedKeyId, byte[]> resumptionPsks) {
    if (welcome.cipherSuite() != keyPackage.cipherSuite()) {
      throw new MessageRejectedException(Reason.MALFORMED, "Welcome cipher suite differs from the KeyPackage's");
    }
    CipherSuite cs = CipherSuites.forId(welcome.cipherSuite());
    GroupSecrets gs = Welcomes.decryptGroupSecrets(cs, welcome, keyPackage, initPriv);
    List<PskSecret.Psk> psks = new ArrayList<>();
    Set<PreSharedKeyId> seen = new HashSet<>();
    for (PreSharedKeyId id : gs.psks()) {
      if (!seen.add(id)) {
        throw new MessageRejectedException(Reason.MALFORMED, "the same PSK twice in GroupSecrets");
      }
      if (id.pskNonce().length() != cs.hashLength()) {
        throw new MessageRejectedException(Reason.MALFORMED, "psk_nonce length is not Nh (§8.4)");
      }
      byte[] v;
      if (id.pskType() == Codes.PSK_EXTERNAL) {
        v = externalPsks.apply(id.pskId());
        if (v == null) {
          throw new MessageRejectedException(Reason.MALFORMED, "external PSK not available");
        }
        v = v.clone();
      } else {
        v = resumptionPsks.apply(id);
      }
      psks.add(new PskSecret.Psk(id, v));
    }
    byte[] pskSecret = PskSecret.compute(cs, psks);
    byte[] joiner = gs.joinerSecret().toByteArray();
    GroupInfo gi = Welcomes.decryptGroupInfo(cs, welcome, joiner, pskSecret);
    SecretBytes.wipe(joiner);
    return new OpenedWelcome(gs, gi, pskSecret);
  }

  /**
   * The resumption PSK a joiner finds in a Welcome's GroupSecrets (§8.6): taken from this member's
   * group it names, then the new group is checked against that group (§12.4.3.1, §11.2, §11.3).
   */
  private static final class Resumption {
    private final Function<Bytes, Group> previousGroups;
    private PreSharedKeyId id;
    private Group old;

    Resumption(Function<Bytes, Group> previousGroups) {
      this.previousGroups = previousGroups;
    }

    /** The secret of a resumption PSK of the GroupSecrets; refuses what a joiner cannot use. */
    byte[] psk(PreSharedKeyId psk) {
      if (psk.usage() != Codes.RESUMPTION_REINIT && psk.usage() != Codes.RESUMPTION_BRANCH) {
        throw new MessageRejectedException(
            Reason.MALFORMED, "resumption PSK of usage application in a Welcome: a joiner has none");
      }
      if (id != null) {
        throw new MessageRejectedException(
            Reason.MALFORMED, "more than one resumption PSK of usage reinit or branch (§12.4.3.1)");
      }
      Group g = previousGroups.apply(psk.pskGroupId());
      if (g == null || !g.groupId().equals(psk.pskGroupId())) {
        throw new MessageRejectedException(
            Reason.WRONG_EPOCH, "the Welcome resumes a group this member does not have (§11.2, §11.3)");
      }
      byte[] v = g.state.resumptionPsks.get(psk.pskEpoch());
      if (v == null) {
        throw new MessageRejectedException(
            Reason.WRONG_EPOCH, "resumption PSK of an epoch of the old group that is not kept (§8.6)");
      }
      id = psk;
      old = g;
      return v.clone();
    }

    /** §12.4.3.1, last step: the new group (context, tree) against the resumed one. */
    void check(GroupContext ctx, RatchetTree tree) {
      if (id == null) {
        return;
      }
      if (ctx.epoch() != 1) {
        throw new MessageRejectedException(
            Reason.MALFORMED, "a group resuming another by reinit or branch must start at epoch 1 (§12.4.3.1)");
      }
      GroupState o = old.state;
      if (id.usage() == Codes.RESUMPTION_REINIT) {
        Proposal.ReInit ri = o.reinit;
        if (ri == null) {
          throw new MessageRejectedException(
              Reason.MALFORMED, "reinit PSK, but the old group's last commit has no ReInit (§12.4.3.1)");
        }
        if (id.pskEpoch() != o.epoch()) {
          throw new MessageRejectedException(
              Reason.WRONG_EPOCH, "reinit PSK not of the old group's last epoch (§11.2)");
        }
        if (!ctx.groupId().equals(ri.groupId())
            || ctx.version() != ri.version()
            || ctx.cipherSuite() != ri.cipherSuite()
            || !ctx.extensions().equals(ri.extensions())) {
          throw new MessageRejectedException(
              Reason.MALFORMED,
              "the new group's group id, version, cipher suite or extensions differ from the ReInit (§11.2)");
        }
        // §12.4.3.1 asks that every old member be in the new group; §11.2 that the creator keep the
        // membership: anything else is refused.
        if (!credentialCounts(tree).equals(credentialCounts(o.tree))) {
          throw new MessageRejectedException(
              Reason.MALFORMED, "the new group's members are not the old group's (§11.2)");
        }
      } else {
        if (ctx.version() != o.context.version() || ctx.cipherSuite() != o.cs.id()) {
          throw new MessageRejectedException(
              Reason.MALFORMED, "a branch changes the protocol version or cipher suite (§11.3)");
        }
        if (ctx.groupId().equals(o.groupId())) {
          throw new MessageRejectedException(Reason.MALFORMED, "a branch with the old group's group id");
        }
        RatchetTree then = treeOfEpoch(o, id.pskEpoch());
        if (then == null) {
          throw new MessageRejectedException(
              Reason.WRONG_EPOCH, "the membership of the branched epoch is not kept");
        }
        if (!credentialCounts(then).keySet().containsAll(credentialCounts(tree).keySet())) {
          throw new MessageRejectedException(
              Reason.MALFORMED, "a member of the branch is not a member of the old group (§11.3)");
        }
      }
    }
  }

  private static RatchetTree treeOfEpoch(GroupState s, long epoch) {
    if (s.epoch() == epoch) {
      return s.tree;
    }
    GroupState.PastEpoch p = s.pastEpoch(epoch);
    return p == null ? null : p.tree();
  }

  /**
   * How many leaves present each credential: members match across groups by credential (§11.2,
   * §11.3 leave the equivalence to the application; this SDK's is credential equality).
   */
  private static Map<Credential, Integer> credentialCounts(RatchetTree tree) {
    Map<Credential, Integer> m = new java.util.HashMap<>();
    for (int leaf : tree.members()) {
      m.merge(tree.leaf(leaf).credential(), 1, Integer::sum);
    }
    return m;
  }

  private static Map<Credential, Integer> credentialCounts(KeyPackage own, List<KeyPackage> others) {
    Map<Credential, Integer> m = new java.util.HashMap<>();
    m.merge(own.leafNode().credential(), 1, Integer::sum);
    for (KeyPackage kp : others) {
      m.merge(kp.leafNode().credential(), 1, Integer::sum);
    }
    return m;
  }

  // ---------------------------------------------------------------- successor groups (§11.2, §11.3)

  /**
   * A new group that resumes this one: its creator's state at epoch 0 and the initial commit (Adds
   * of the other members and the resumption PSK), staged: merge it once the delivery service took
   * it, and send the Welcome.
   */
  public record Successor(Group group, CommitOutput commit) {}

  /**
   * Creates the group a committed ReInit asks for (§11.2, §12.4.2): group id, version, cipher suite
   * and extensions of the ReInit, this member from {@code own} (a KeyPackage of the new cipher
   * suite, with its private keys), the other members of this group from {@code others} (fresh
   * KeyPackages), and a resumption PSK of usage reinit of this group's last epoch in the Welcome.
   * Any member of this group may do it, the committer of the ReInit or another.
   *
   * @throws IllegalStateException no ReInit was committed (this group is not waiting for it)
   * @throws IllegalArgumentException {@code own} is not of the ReInit's cipher suite, the ReInit's
   *     version is not supported, or the members ({@code own} and {@code others}, by credential) are
   *     not exactly this group's
   * @throws MessageRejectedException a KeyPackage of {@code others} is invalid (§10.1)
   */
  public Successor reinitialize(KeyPackage own, byte[] encryptionPriv, byte[] signaturePriv, List<KeyPackage> others) {
    Proposal.ReInit ri = state.reinit;
    if (ri == null) {
      throw new IllegalStateException("no ReInit was committed: this group is not waiting for reinitialisation");
    }
    if (ri.version() != Codes.MLS10) {
      throw new IllegalArgumentException("ReInit to an unsupported protocol version " + ri.version());
    }
    if (!credentialCounts(own, others).equals(credentialCounts(state.tree))) {
      throw new IllegalArgumentException("the members of the new group must be this group's (§11.2)");
    }
    return successor(
        Codes.RESUMPTION_REINIT, state.epoch(), ri.cipherSuite(), ri.groupId(), ri.extensions(), own,
        encryptionPriv, signaturePriv, others);
  }

  /**
   * Creates a subgroup of this group (§11.3): same version, cipher suite and extensions, group id
   * {@code newGroupId}, this member from {@code own}, some other members of this group from {@code
   * others} (fresh KeyPackages), and a resumption PSK of usage branch of the current epoch in the
   * Welcome. This group is unchanged.
   *
   * @throws IllegalArgumentException {@code newGroupId} is this group's, {@code own} is of another
   *     cipher suite, or a KeyPackage's credential is not one of this group's members
   * @throws MessageRejectedException a KeyPackage of {@code others} is invalid (§10.1)
   */
  public Successor branch(
      Bytes newGroupId, KeyPackage own, byte[] encryptionPriv, byte[] signaturePriv, List<KeyPackage> others) {
    checkActive();
    if (newGroupId.equals(state.groupId())) {
      throw new IllegalArgumentException("a branch needs a group id of its own");
    }
    if (!credentialCounts(state.tree).keySet().containsAll(credentialCounts(own, others).keySet())) {
      throw new IllegalArgumentException("every member of a branch must be a member of this group (§11.3)");
    }
    return successor(
        Codes.RESUMPTION_BRANCH, state.epoch(), state.cs.id(), newGroupId, state.context.extensions(), own,
        encryptionPriv, signaturePriv, others);
  }

  /**
   * The successor group and its initial commit with a resumption PSK of {@code usage} of this
   * group's epoch {@code pskEpoch}; no checks of membership or parameters (tests forge with it).
   */
  Successor successor(
      int usage,
      long pskEpoch,
      int cipherSuite,
      Bytes groupId,
      List<Extension> extensions,
      KeyPackage own,
      byte[] encryptionPriv,
      byte[] signaturePriv,
      List<KeyPackage> others) {
    if (own.cipherSuite() != cipherSuite || own.version() != Codes.MLS10) {
      throw new IllegalArgumentException("own KeyPackage not of the new group's cipher suite " + cipherSuite);
    }
    byte[] secret = state.resumptionPsks.get(pskEpoch);
    if (secret == null) {
      throw new IllegalArgumentException("no resumption PSK kept for epoch " + pskEpoch);
    }
    CipherSuite cs = CipherSuites.forId(cipherSuite);
    Group g = create(cs, groupId, own.leafNode(), encryptionPriv, signaturePriv, extensions, state.config);
    PreSharedKeyId id =
        PreSharedKeyId.resumption(usage, state.groupId(), pskEpoch, Bytes.wrap(Csprng.randomBytes(cs.hashLength())));
    List<Proposal> byValue = new ArrayList<>();
    for (KeyPackage kp : others) {
      byValue.add(new Proposal.Add(kp));
    }
    byValue.add(new Proposal.PreSharedKey(id));
    return new Successor(g, g.commitResuming(byValue, new PskSecret.Psk(id, secret.clone())));
  }

  /**
   * Commits {@code byValue} only, where {@code psk} (of usage reinit or branch, from another group)
   * may be injected by a PreSharedKey proposal: the initial commit of a successor group.
   */
  CommitOutput commitResuming(List<Proposal> byValue, PskSecret.Psk psk) {
    checkActive();
    GroupState s = state.copy();
    List<Commit.ProposalOrRef> pors = new ArrayList<>();
    List<Proposals.Resolved> list = new ArrayList<>();
    for (Proposal p : byValue) {
      pors.add(Commit.ProposalOrRef.of(p));
      list.add(new Proposals.Resolved(p, Sender.member(s.ownLeaf), null));
    }
    return commitList(s, pors, list, false, psk, s.config.privateHandshakes(), s.config.ratchetTreeInWelcome());
  }

  static Bytes keyPackageRef(CipherSuite cs, KeyPackage kp) {
    return Bytes.wrap(MlsCrypto.keyPackageRef(cs, kp.toByteArray()));
  }

  static Bytes proposalRef(CipherSuite cs, AuthenticatedContent ac) {
    return Bytes.wrap(MlsCrypto.proposalRef(cs, ac.toByteArray()));
  }

  // ---------------------------------------------------------------- accessors

  /**
   * This member's whole state as a versioned record ({@link GroupRecord}) for persistence. The
   * record holds every secret of the group: store it encrypted, never log it, wipe it after use.
   */
  public byte[] toRecord() {
    return GroupRecord.serialize(state, null);
  }

  /**
   * As {@link #toRecord()}, with {@code pending} (an own commit made in the current epoch and not
   * merged yet, or null) stored beside the state: {@link #restore} gives it back, mergeable.
   *
   * @throws IllegalArgumentException {@code pending} is not mergeable (another commit was merged
   *     since it was made)
   */
  public byte[] toRecord(CommitOutput pending) {
    return GroupRecord.serialize(state, pending);
  }

  /**
   * A group restored from {@link #toRecord()} bytes; it continues exactly where the saved state
   * was. {@code config} supplies the external PSK lookup and the clock (not stored); the other
   * settings come from the record. A pending commit stored with it is dropped: see {@link #restore}.
   *
   * @throws GroupRecordFormatException CORRUPTED or UNSUPPORTED_VERSION; nothing is restored then
   */
  public static Group fromRecord(byte[] record, GroupConfig config) {
    return restore(record, config).group();
  }

  /** A restored group and its pending own commit (null when none was stored). */
  public record Restored(Group group, CommitOutput pendingCommit) {}

  /**
   * As {@link #fromRecord}, with the pending own commit stored by {@link #toRecord(CommitOutput)}:
   * it merges into the restored group ({@link #merge}) exactly as the original would have.
   *
   * @throws GroupRecordFormatException CORRUPTED or UNSUPPORTED_VERSION; nothing is restored then
   */
  public static Restored restore(byte[] record, GroupConfig config) {
    GroupRecord.Loaded l = GroupRecord.parse(record, config);
    return new Restored(new Group(l.state()), l.pending());
  }

  /** The settings of this member's view of the group. */
  public GroupConfig config() {
    return state.config;
  }

  /** The ReInit committed in the last epoch (the group is then inactive), else null. */
  public Proposal.ReInit reinit() {
    return state.reinit;
  }

  /** The current state itself, for tests in this package that forge insider messages. */
  GroupState stateForTest() {
    return state;
  }

  public long epoch() {
    return state.epoch();
  }

  public Bytes groupId() {
    return state.groupId();
  }

  public int ownLeaf() {
    return state.ownLeaf;
  }

  public boolean isActive() {
    return state.active;
  }

  public GroupContext context() {
    return state.context;
  }

  /** Leaf indices of the members, ascending. */
  public List<Integer> members() {
    return state.members();
  }

  public LeafNode leaf(int leafIndex) {
    return state.tree.leaf(leafIndex);
  }

  /** The ratchet tree in its {@code ratchet_tree} representation (for out-of-band Welcome trees). */
  public List<Node> ratchetTree() {
    return state.tree.toNodes();
  }

  public Bytes epochAuthenticator() {
    return Bytes.wrap(state.epochAuthenticator.clone());
  }

  /** Proposals of this epoch waiting for a commit, by reference. */
  public Map<Bytes, Proposal> pendingProposals() {
    Map<Bytes, Proposal> m = new java.util.LinkedHashMap<>();
    state.proposals.forEach((k, v) -> m.put(k, v.proposal()));
    return m;
  }

  /** MLS-Exporter(label, context, length) of the current epoch (§8.5). */
  public byte[] exportSecret(String label, byte[] context, int length) {
    byte[] derived = MlsCrypto.deriveSecret(state.cs, state.exporterSecret, label);
    try {
      return MlsCrypto.expandWithLabel(state.cs, derived, "exported", state.cs.hash(context), length);
    } finally {
      SecretBytes.wipe(derived);
    }
  }

  private void checkActive() {
    if (!state.active) {
      throw new IllegalStateException("group is inactive (this member was removed, or the group was reinitialised)");
    }
  }

  // ---------------------------------------------------------------- inbound

  /**
   * Processes a PublicMessage or PrivateMessage of this group. Application messages and proposals
   * change the state on success; a commit is validated completely and returned staged ({@link
   * Processed.CommitApplied} or {@link Processed.Removed}), to be passed to {@link #merge}.
   *
   * @throws MessageRejectedException the state is unchanged
   */
  public Processed process(MlsMessage message) {
    Object body = message.body();
    boolean application = body instanceof PrivateMessage apm && apm.contentType() == Codes.CONTENT_APPLICATION;
    if (!(application && state.reinit != null)) {
      checkActive(); // a reinitialised group still reads late application messages (§11.2: it only stops sending)
    }
    if (body instanceof PrivateMessage pm && pm.contentType() == Codes.CONTENT_APPLICATION) {
      // No copy needed: unprotectPrivate advances the secret tree only once the message is fully
      // authenticated, and nothing after it can fail.
      return processApplication(state, pm);
    }
    GroupState s = state.copy();
    AuthenticatedContent ac;
    if (body instanceof PublicMessage pm) {
      ac = MessageProtection.unprotectPublic(
          s.cs, s.context, pm, signatureKeyOf(s, pm.content()), s.membershipKey);
    } else if (body instanceof PrivateMessage pm) {
      ac = MessageProtection.unprotectPrivate(
          s.cs, s.context, pm, s.secretTree, s.senderDataSecret, leaf -> leafSignatureKey(s.tree, leaf));
    } else {
      throw new MessageRejectedException(Reason.MALFORMED, "not a PublicMessage or PrivateMessage");
    }
    FramedContent content = ac.content();
    switch (content.contentType()) {
      case Codes.CONTENT_APPLICATION -> {
        state = s;
        return new Processed.ApplicationMessage(
            content.sender().index(), content.epoch(), content.applicationData(), content.authenticatedData());
      }
      case Codes.CONTENT_PROPOSAL -> {
        Processed p = storeProposal(s, ac);
        state = s;
        return p;
      }
      default -> {
        return processCommit(s, ac);
      }
    }
  }

  private static Processed processApplication(GroupState s, PrivateMessage pm) {
    AuthenticatedContent ac;
    GroupState.PastEpoch past =
        pm.groupId().equals(s.groupId()) && pm.epoch() != s.epoch() ? s.pastEpoch(pm.epoch()) : null;
    if (past != null) {
      ac = MessageProtection.unprotectPrivate(
          s.cs, past.context(), pm, past.secretTree(), past.senderDataSecret(),
          leaf -> leafSignatureKey(past.tree(), leaf));
    } else {
      ac = MessageProtection.unprotectPrivate(
          s.cs, s.context, pm, s.secretTree, s.senderDataSecret, leaf -> leafSignatureKey(s.tree, leaf));
    }
    FramedContent c = ac.content();
    return new Processed.ApplicationMessage(c.sender().index(), c.epoch(), c.applicationData(), c.authenticatedData());
  }

  private static byte[] leafSignatureKey(RatchetTree tree, int leaf) {
    LeafNode l = tree.leaf(leaf);
    return l == null ? null : l.signatureKey().toByteArray();
  }

  /** The signature key of a PublicMessage's sender (§6.1), or null when there is none. */
  private static byte[] signatureKeyOf(GroupState s, FramedContent c) {
    Sender sender = c.sender();
    switch (sender.type()) {
      case Codes.SENDER_MEMBER:
        return leafSignatureKey(s.tree, sender.index());
      case Codes.SENDER_EXTERNAL: {
        List<Bytes> keys = externalSenderKeys(s.context.extensions());
        int i = sender.index();
        return i >= 0 && i < keys.size() ? keys.get(i).toByteArray() : null;
      }
      case Codes.SENDER_NEW_MEMBER_PROPOSAL:
        return c.proposal() instanceof Proposal.Add a
            ? a.keyPackage().leafNode().signatureKey().toByteArray()
            : null;
      case Codes.SENDER_NEW_MEMBER_COMMIT:
        return c.commit() != null && c.commit().path() != null
            ? c.commit().path().leafNode().signatureKey().toByteArray()
            : null;
      default:
        return null;
    }
  }

  /** Signature keys of the {@code external_senders} extension (§12.1.8.1). */
  static List<Bytes> externalSenderKeys(List<Extension> extensions) {
    for (Extension e : extensions) {
      if (e.type() == Codes.EXT_EXTERNAL_SENDERS) {
        try {
          return TlsReader.decodeAll(
              e.data(),
              r ->
                  r.vector(
                      rr -> {
                        Bytes key = rr.opaque();
                        Credential.decode(rr);
                        return key;
                      }));
        } catch (DecodeException ex) {
          throw new MessageRejectedException(Reason.MALFORMED, "external_senders extension malformed", ex);
        }
      }
    }
    return List.of();
  }

  private static Processed storeProposal(GroupState s, AuthenticatedContent ac) {
    Proposal p = ac.content().proposal();
    Sender sender = ac.content().sender();
    if (p instanceof Proposal.ExternalInit) {
      throw new MessageRejectedException(Reason.MALFORMED, "ExternalInit sent as a standalone proposal (§12.1.6)");
    }
    if (p instanceof Proposal.Update && !sender.isMember()) {
      throw new MessageRejectedException(Reason.MALFORMED, "Update from a non-member (§12.1.2)");
    }
    validateReceivedProposal(s, p, sender);
    Bytes ref = proposalRef(s.cs, ac);
    if (s.proposals.containsKey(ref)) {
      throw new MessageRejectedException(Reason.DUPLICATE, "proposal already received");
    }
    s.proposals.put(ref, new GroupState.PendingProposal(p, sender, null));
    return new Processed.ProposalStored(ref, p, sender);
  }

  /**
   * The checks of §12.1 that a proposal passes on its own, against the current epoch (the commit
   * validates the list again, §12.2): a proposal failing them is never stored.
   */
  private static void validateReceivedProposal(GroupState s, Proposal p, Sender sender) {
    if (p instanceof Proposal.Add a) {
      Proposals.validateKeyPackage(s, a.keyPackage(), s.context.extensions());
    } else if (p instanceof Proposal.Update u) {
      LeafNode old = s.tree.leaf(sender.index());
      TreeValidation.validateLeafNode(
          s.cs, u.leafNode(), Role.UPDATE, s.tree, s.groupId(), sender.index(), s.context.extensions(), -1);
      if (u.leafNode().encryptionKey().equals(old.encryptionKey())) {
        throw new MessageRejectedException(Reason.MALFORMED, "Update does not change the encryption key (§12.1.2)");
      }
    } else if (p instanceof Proposal.Remove r) {
      if (s.tree.leaf(r.removed()) == null) {
        throw new MessageRejectedException(Reason.MALFORMED, "Remove of a blank or absent leaf (§12.1.3)");
      }
    } else if (p instanceof Proposal.PreSharedKey psk) {
      SecretBytes.wipe(Proposals.lookupPsk(s, psk.psk()));
    } else if (p instanceof Proposal.ReInit ri) {
      Proposals.validateReInit(s, ri);
    }
  }

  private Processed processCommit(GroupState s, AuthenticatedContent ac) {
    FramedContent content = ac.content();
    Sender sender = content.sender();
    if (sender.type() == Codes.SENDER_NEW_MEMBER_COMMIT) {
      return processExternalCommit(s, ac);
    }
    if (!sender.isMember()) {
      throw new MessageRejectedException(Reason.MALFORMED, "commit from a sender that cannot commit");
    }
    int committer = sender.index();
    if (committer == s.ownLeaf) {
      throw new MessageRejectedException(Reason.MALFORMED, "own commit: merge the staged commit instead");
    }
    GroupState base = state;
    GroupContext oldContext = s.context;
    RatchetTree oldTree = s.tree.copy();
    Commit commit = content.commit();
    List<Proposals.Resolved> list = resolve(s, commit, committer);
    Proposals.Applied applied = Proposals.apply(s, list, committer);
    if ((list.isEmpty() || applied.pathRequired) && commit.path() == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "commit without the path it requires (§12.4)");
    }
    long newEpoch = oldContext.epoch() + 1;
    if (applied.removed.contains(s.ownLeaf)) {
      // Removed: nothing of the new epoch can be checked or derived by this member. (Not "own leaf
      // blank": an Add of the same commit may already have refilled the freed leaf.)
      GroupState next = s;
      next.active = false;
      return new Processed.Removed(newEpoch, committer, new Processed.StagedCommit(base, next));
    }
    byte[] commitSecret = null;
    UpdatePath path = commit.path();
    if (path != null) {
      LeafNode old = s.tree.leaf(committer);
      TreeValidation.validateLeafNode(
          s.cs, path.leafNode(), Role.COMMIT, s.tree, s.groupId(), committer, applied.extensions, -1);
      if (path.leafNode().encryptionKey().equals(old.encryptionKey())) {
        throw new MessageRejectedException(Reason.MALFORMED, "committer's leaf encryption key unchanged (§12.4.2)");
      }
      checkPathKeysFresh(s.tree, path);
      Function<byte[], byte[]> provisional = provisionalContext(s, newEpoch, applied.extensions);
      TreeKem.Applied a =
          TreeKem.applyUpdatePath(s.tree, committer, path, s.keys, Set.copyOf(applied.added), provisional);
      commitSecret = a.commitSecret();
      SecretBytes.wipe(a.pathSecret());
    }
    byte[] confirmed =
        TranscriptHashes.confirmed(s.cs, s.interimTranscriptHash, ac.wireFormat(), content, ac.auth().signature());
    GroupContext newContext =
        new GroupContext(
            Codes.MLS10, s.cs.id(), s.groupId(), newEpoch, Bytes.wrap(s.tree.treeHash()), Bytes.wrap(confirmed),
            applied.extensions);
    byte[] pskSecret = PskSecret.compute(s.cs, applied.psks);
    EpochSecrets es = EpochSecrets.derive(s.cs, s.initSecret, commitSecret, pskSecret, newContext.toByteArray());
    SecretBytes.wipe(commitSecret);
    byte[] confirmationKey = es.confirmationKey();
    byte[] tag = TranscriptHashes.confirmationTag(s.cs, confirmationKey, confirmed);
    SecretBytes.wipe(confirmationKey);
    Bytes got = ac.auth().confirmationTag();
    if (got == null || !Bytes.wrap(tag).equalsConstantTime(got)) {
      es.close();
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "confirmation tag invalid (§12.4.2)");
    }
    s.enterEpoch(es, newContext, oldTree, oldContext, TranscriptHashes.interim(s.cs, confirmed, got), got);
    if (applied.reinit != null) {
      s.active = false;
      s.reinit = applied.reinit;
    }
    return new Processed.CommitApplied(
        newEpoch, committer, applied.added, applied.removed, applied.updated, new Processed.StagedCommit(base, s));
  }

  static final String EXTERNAL_INIT_LABEL = "MLS 1.0 external init secret";

  /**
   * An external commit (§12.4.3.2): only proposals by value, exactly one ExternalInit, at most one
   * Remove, PSKs; a path from the joiner's new leaf (the leftmost blank one); init_secret from the
   * ExternalInit's KEM output and this epoch's external key; confirmation tag checked (nothing
   * else covers it: there is no membership tag).
   */
  private Processed processExternalCommit(GroupState s, AuthenticatedContent ac) {
    FramedContent content = ac.content();
    Commit commit = content.commit();
    UpdatePath path = commit.path();
    if (path == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "external commit without a path (§12.4.3.2)");
    }
    GroupState base = state;
    GroupContext oldContext = s.context;
    RatchetTree oldTree = s.tree.copy();
    Proposal.ExternalInit init = null;
    List<Integer> removed = new ArrayList<>();
    List<PskSecret.Psk> psks = new ArrayList<>();
    Set<PreSharedKeyId> pskSeen = new HashSet<>();
    for (Commit.ProposalOrRef por : commit.proposals()) {
      Proposal p = por.proposal();
      if (p == null) {
        throw new MessageRejectedException(Reason.MALFORMED, "external commit with a proposal by reference");
      }
      if (p instanceof Proposal.ExternalInit ei) {
        if (init != null) {
          throw new MessageRejectedException(Reason.MALFORMED, "external commit with two ExternalInit proposals");
        }
        init = ei;
      } else if (p instanceof Proposal.Remove rm) {
        if (!removed.isEmpty() || s.tree.leaf(rm.removed()) == null) {
          throw new MessageRejectedException(Reason.MALFORMED, "external commit: second Remove or blank leaf");
        }
        removed.add(rm.removed());
      } else if (p instanceof Proposal.PreSharedKey psk) {
        if (!pskSeen.add(psk.psk())) {
          throw new MessageRejectedException(Reason.MALFORMED, "the same PreSharedKeyID twice (§12.2)");
        }
        psks.add(new PskSecret.Psk(psk.psk(), Proposals.lookupPsk(s, psk.psk())));
      } else {
        throw new MessageRejectedException(Reason.MALFORMED, "proposal type not allowed in an external commit");
      }
    }
    if (init == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "external commit without ExternalInit (§12.2)");
    }
    long newEpoch = oldContext.epoch() + 1;
    for (int r : removed) {
      s.tree.removeLeaf(r);
    }
    s.keys.prune(s.tree);
    if (removed.contains(s.ownLeaf)) {
      s.active = false;
      return new Processed.Removed(newEpoch, -1, new Processed.StagedCommit(base, s));
    }
    checkPathKeysFresh(s.tree, path);
    int joiner = s.tree.addLeaf(path.leafNode());
    TreeValidation.validateLeafNode(
        s.cs, path.leafNode(), Role.COMMIT, s.tree, s.groupId(), joiner, oldContext.extensions(), -1);
    TreeKem.Applied a =
        TreeKem.applyUpdatePath(s.tree, joiner, path, s.keys, Set.of(), provisionalContext(s, newEpoch, oldContext.extensions()));
    SecretBytes.wipe(a.pathSecret());
    byte[] externalPriv = s.cs.deriveKeyPair(s.externalSecret)[0];
    byte[] initSecret;
    try {
      initSecret =
          s.cs.hpkeReceiveExport(
              externalPriv, init.kemOutput().unsafeArray(), new byte[0],
              EXTERNAL_INIT_LABEL.getBytes(java.nio.charset.StandardCharsets.US_ASCII), s.cs.hashLength());
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.MALFORMED, "ExternalInit KEM output invalid", e);
    } finally {
      SecretBytes.wipe(externalPriv);
    }
    byte[] confirmed =
        TranscriptHashes.confirmed(s.cs, s.interimTranscriptHash, ac.wireFormat(), content, ac.auth().signature());
    GroupContext newContext =
        new GroupContext(
            Codes.MLS10, s.cs.id(), s.groupId(), newEpoch, Bytes.wrap(s.tree.treeHash()), Bytes.wrap(confirmed),
            oldContext.extensions());
    EpochSecrets es =
        EpochSecrets.derive(s.cs, initSecret, a.commitSecret(), PskSecret.compute(s.cs, psks), newContext.toByteArray());
    SecretBytes.wipe(initSecret);
    SecretBytes.wipe(a.commitSecret());
    byte[] confirmationKey = es.confirmationKey();
    byte[] tag = TranscriptHashes.confirmationTag(s.cs, confirmationKey, confirmed);
    SecretBytes.wipe(confirmationKey);
    Bytes got = ac.auth().confirmationTag();
    if (got == null || !Bytes.wrap(tag).equalsConstantTime(got)) {
      es.close();
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "confirmation tag invalid (§12.4.2)");
    }
    s.enterEpoch(es, newContext, oldTree, oldContext, TranscriptHashes.interim(s.cs, confirmed, got), got);
    return new Processed.CommitApplied(
        newEpoch, joiner, List.of(joiner), removed, List.of(), new Processed.StagedCommit(base, s));
  }

  /**
   * A signed GroupInfo of the current epoch (§12.4.3) with {@code external_pub}, and the {@code
   * ratchet_tree} extension when asked: what an external joiner needs.
   */
  public MlsMessage groupInfo(boolean withRatchetTree) {
    checkActive();
    GroupState s = state;
    List<Extension> ext = new ArrayList<>();
    if (withRatchetTree) {
      ext.add(new Extension(Codes.EXT_RATCHET_TREE, Bytes.wrap(s.tree.encode())));
    }
    byte[][] kp = s.cs.deriveKeyPair(s.externalSecret);
    SecretBytes.wipe(kp[0]);
    ext.add(new Extension(Codes.EXT_EXTERNAL_PUB, new TlsWriter(40).opaque(kp[1]).toBytes()));
    GroupInfo unsigned = new GroupInfo(s.context, ext, s.confirmationTag, s.ownLeaf, Bytes.EMPTY);
    return new MlsMessage(Welcomes.signGroupInfo(s.cs, unsigned, s.signaturePriv));
  }

  /** An external join: the joiner's group (at the new epoch) and the commit to send to the group. */
  public record ExternalJoin(Group group, MlsMessage commit) {}

  /**
   * Joins by external commit (§12.4.3.2) from a GroupInfo with {@code external_pub}. The new leaf
   * takes signature key, credential, capabilities and extensions from {@code template}; {@code
   * removeLeaf} is an old leaf of the joiner to remove (resync), or -1. The group is valid once the
   * delivery service accepted the commit.
   */
  public static ExternalJoin joinExternal(
      GroupInfo gi, List<Node> ratchetTree, LeafNode template, byte[] signaturePriv, int removeLeaf, GroupConfig config) {
    CipherSuite cs = CipherSuites.forId(gi.groupContext().cipherSuite());
    GroupContext ctx = gi.groupContext();
    List<Node> nodes = ratchetTree;
    Bytes externalPub = null;
    for (Extension e : gi.extensions()) {
      if (e.type() == Codes.EXT_RATCHET_TREE) {
        nodes = TlsReader.decodeAll(e.data(), Node::decodeTree);
      } else if (e.type() == Codes.EXT_EXTERNAL_PUB) {
        externalPub = TlsReader.decodeAll(e.data(), TlsReader::opaque);
      }
    }
    if (nodes == null || externalPub == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "GroupInfo lacks the ratchet tree or external_pub");
    }
    RatchetTree tree = RatchetTree.fromNodes(cs, nodes);
    LeafNode signer = tree.leaf(gi.signer());
    if (signer == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "GroupInfo signer is a blank leaf");
    }
    Welcomes.verifyGroupInfoSignature(cs, gi, signer.signatureKey().unsafeArray());
    TreeValidation.validateTree(tree, ctx.groupId(), ctx.treeHash().unsafeArray(), ctx.extensions(), -1);
    CipherSuite.HpkeExported exported;
    try {
      exported =
          cs.hpkeSendExport(
              externalPub.unsafeArray(), new byte[0],
              EXTERNAL_INIT_LABEL.getBytes(java.nio.charset.StandardCharsets.US_ASCII), cs.hashLength());
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.MALFORMED, "external_pub unusable", e);
    }
    List<Commit.ProposalOrRef> pors = new ArrayList<>();
    pors.add(Commit.ProposalOrRef.of(new Proposal.ExternalInit(Bytes.wrap(exported.kemOutput()))));
    if (removeLeaf >= 0) {
      if (tree.leaf(removeLeaf) == null) {
        throw new IllegalArgumentException("removeLeaf is blank: " + removeLeaf);
      }
      pors.add(Commit.ProposalOrRef.of(new Proposal.Remove(removeLeaf)));
      tree.removeLeaf(removeLeaf);
    }
    byte[][] placeholder = cs.deriveKeyPair(Csprng.randomBytes(cs.hashLength()));
    int own = tree.addLeaf(template);
    GroupState s = new GroupState(cs, config, own, signaturePriv);
    s.tree = tree;
    s.context = ctx;
    s.keys = new TreeKem.PrivateKeys(own, placeholder[0]);
    SecretBytes.wipe(placeholder[0]);
    s.interimTranscriptHash = TranscriptHashes.interim(cs, ctx.confirmedTranscriptHash().unsafeArray(), gi.confirmationTag());
    long newEpoch = ctx.epoch() + 1;
    Bytes gid = ctx.groupId();
    TreeKem.Created created =
        TreeKem.createUpdatePath(
            tree,
            s.keys,
            (encKey, parentHash) ->
                signLeaf(
                    cs,
                    new LeafNode(
                        encKey, template.signatureKey(), template.credential(), template.capabilities(),
                        Codes.LEAF_SOURCE_COMMIT, null, parentHash, template.extensions(), Bytes.EMPTY),
                    gid, own, signaturePriv),
            Set.of(),
            provisionalContext(s, newEpoch, ctx.extensions()));
    Commit commit = new Commit(pors, created.path());
    FramedContent content =
        new FramedContent(
            gid, ctx.epoch(), new Sender(Codes.SENDER_NEW_MEMBER_COMMIT, 0), Bytes.EMPTY, Codes.CONTENT_COMMIT, null,
            null, commit);
    Bytes signature =
        MessageProtection.sign(cs, Codes.WIRE_PUBLIC_MESSAGE, content, ctx, signaturePriv, Bytes.EMPTY).signature();
    byte[] confirmed =
        TranscriptHashes.confirmed(cs, s.interimTranscriptHash, Codes.WIRE_PUBLIC_MESSAGE, content, signature);
    GroupContext newContext =
        new GroupContext(
            Codes.MLS10, cs.id(), gid, newEpoch, Bytes.wrap(tree.treeHash()), Bytes.wrap(confirmed), ctx.extensions());
    EpochSecrets es =
        EpochSecrets.derive(cs, exported.secret(), created.commitSecret(), null, newContext.toByteArray());
    SecretBytes.wipe(exported.secret());
    SecretBytes.wipe(created.commitSecret());
    byte[] ck = es.confirmationKey();
    Bytes tag = Bytes.wrap(TranscriptHashes.confirmationTag(cs, ck, confirmed));
    SecretBytes.wipe(ck);
    MlsMessage message =
        new MlsMessage(MessageProtection.protectPublic(cs, ctx, content, signaturePriv, null, tag));
    s.context = newContext;
    s.interimTranscriptHash = TranscriptHashes.interim(cs, confirmed, tag);
    s.confirmationTag = tag;
    s.setSecrets(es);
    return new ExternalJoin(new Group(s), message);
  }

  /** §12.4.2: none of the UpdatePath's public keys may already appear in the tree. */
  private static void checkPathKeysFresh(RatchetTree tree, UpdatePath path) {
    Set<Bytes> keys = new HashSet<>();
    for (int i = 0; i < tree.nodeWidth(); i++) {
      Node n = tree.node(i);
      if (n != null) {
        keys.add(n.isLeaf() ? n.leaf().encryptionKey() : n.parent().encryptionKey());
      }
    }
    Set<Bytes> inPath = new HashSet<>();
    inPath.add(path.leafNode().encryptionKey());
    for (UpdatePath.Node n : path.nodes()) {
      if (!inPath.add(n.encryptionKey())) {
        throw new MessageRejectedException(Reason.MALFORMED, "UpdatePath repeats a public key");
      }
    }
    for (Bytes k : inPath) {
      if (keys.contains(k)) {
        throw new MessageRejectedException(Reason.MALFORMED, "UpdatePath public key already in the tree (§12.4.2)");
      }
    }
  }

  private static Function<byte[], byte[]> provisionalContext(GroupState s, long newEpoch, List<Extension> ext) {
    return treeHash ->
        new GroupContext(
                Codes.MLS10, s.cs.id(), s.groupId(), newEpoch, Bytes.wrap(treeHash),
                s.context.confirmedTranscriptHash(), ext)
            .toByteArray();
  }

  private static List<Proposals.Resolved> resolve(GroupState s, Commit commit, int committer) {
    List<Proposals.Resolved> out = new ArrayList<>();
    Set<Bytes> refs = new HashSet<>();
    for (Commit.ProposalOrRef por : commit.proposals()) {
      if (por.proposal() != null) {
        if (por.proposal() instanceof Proposal.Update) {
          throw new MessageRejectedException(Reason.MALFORMED, "Update by value: an Update by the committer (§12.2)");
        }
        out.add(new Proposals.Resolved(por.proposal(), Sender.member(committer), null));
      } else {
        GroupState.PendingProposal p = s.proposals.get(por.reference());
        if (p == null) {
          throw new MessageRejectedException(Reason.MALFORMED, "commit references an unknown proposal");
        }
        if (!refs.add(por.reference())) {
          throw new MessageRejectedException(Reason.MALFORMED, "commit references a proposal twice");
        }
        out.add(new Proposals.Resolved(p.proposal(), p.sender(), p.leafPriv()));
      }
    }
    return out;
  }

  /**
   * Makes a staged commit (own or received) the current state. Proposals received or made since it
   * was staged do not matter (they end with the epoch). Throws IllegalStateException when another
   * commit was merged since it was staged.
   */
  public void merge(Processed.StagedCommit staged) {
    if (staged.base.lineage != state.lineage) {
      throw new IllegalStateException("another commit was merged since this commit was staged");
    }
    staged.next.adoptApplicationRatchets(state);
    state = staged.next;
    state.lineage = new Object();
  }

  // ---------------------------------------------------------------- outbound

  /** Encrypts application data as a PrivateMessage (§6.3). */
  public MlsMessage encrypt(Bytes data, Bytes authenticatedData) {
    checkActive();
    if (!state.proposals.isEmpty()) {
      throw new IllegalStateException("proposals are pending: commit before sending application data (§12.4)");
    }
    // In place, like receiving: only the sender ratchet advances, and a staged commit merged later
    // takes the live ratchets over (GroupState.adoptApplicationRatchets).
    GroupState s = state;
    FramedContent content =
        new FramedContent(
            s.groupId(), s.epoch(), Sender.member(s.ownLeaf), authenticatedData, Codes.CONTENT_APPLICATION, data,
            null, null);
    PrivateMessage pm =
        MessageProtection.protectPrivate(
            s.cs, s.context, content, s.signaturePriv, null, s.secretTree, s.senderDataSecret, 0);
    return new MlsMessage(pm);
  }

  /** Proposes Add, Remove, PreSharedKey, ReInit or GroupContextExtensions (§12.1); stored as an own proposal. */
  public MlsMessage propose(Proposal proposal) {
    checkActive();
    if (proposal instanceof Proposal.Update || proposal instanceof Proposal.ExternalInit) {
      throw new IllegalArgumentException("use proposeUpdate(); ExternalInit is for external commits");
    }
    return sendProposal(proposal, null);
  }

  /** Proposes an Update of this member's leaf with a fresh encryption key (§12.1.2). */
  public MlsMessage proposeUpdate() {
    checkActive();
    CipherSuite cs = state.cs;
    byte[][] kp = cs.deriveKeyPair(Csprng.randomBytes(cs.hashLength()));
    LeafNode old = state.tree.leaf(state.ownLeaf);
    LeafNode unsigned =
        new LeafNode(
            Bytes.wrap(kp[1]), old.signatureKey(), old.credential(), old.capabilities(), Codes.LEAF_SOURCE_UPDATE,
            null, null, old.extensions(), Bytes.EMPTY);
    LeafNode leaf = signLeaf(cs, unsigned, state.groupId(), state.ownLeaf, state.signaturePriv);
    try {
      return sendProposal(new Proposal.Update(leaf), kp[0]);
    } finally {
      SecretBytes.wipe(kp[0]);
    }
  }

  private MlsMessage sendProposal(Proposal proposal, byte[] leafPriv) {
    GroupState s = state.copy();
    validateReceivedProposal(s, proposal, Sender.member(s.ownLeaf));
    FramedContent content =
        new FramedContent(
            s.groupId(), s.epoch(), Sender.member(s.ownLeaf), Bytes.EMPTY, Codes.CONTENT_PROPOSAL, null, proposal, null);
    int wf = s.config.privateHandshakes() ? Codes.WIRE_PRIVATE_MESSAGE : Codes.WIRE_PUBLIC_MESSAGE;
    FramedContentAuthData auth = MessageProtection.sign(s.cs, wf, content, s.context, s.signaturePriv, null);
    Bytes ref = proposalRef(s.cs, new AuthenticatedContent(wf, content, auth));
    MlsMessage out =
        wf == Codes.WIRE_PUBLIC_MESSAGE
            ? new MlsMessage(
                MessageProtection.protectPublic(s.cs, s.context, content, s.signaturePriv, s.membershipKey, null))
            : new MlsMessage(
                MessageProtection.protectPrivate(
                    s.cs, s.context, content, s.signaturePriv, null, s.secretTree, s.senderDataSecret, 0));
    s.proposals.put(ref, new GroupState.PendingProposal(proposal, Sender.member(s.ownLeaf), leafPriv == null ? null : leafPriv.clone()));
    state = s;
    return out;
  }

  static LeafNode signLeaf(CipherSuite cs, LeafNode unsigned, Bytes groupId, int leafIndex, byte[] signaturePriv) {
    byte[] sig = MlsCrypto.signWithLabel(cs, signaturePriv, "LeafNodeTBS", unsigned.toBeSigned(groupId, leafIndex));
    return unsigned.withSignature(Bytes.wrap(sig));
  }

  /**
   * Commits the pending proposals by reference plus {@code byValue} (§12.4.1). Left out, as §12.2
   * requires or recommends: own Updates (the path replaces them), Removes of this member, Updates of
   * a leaf that is also removed, duplicate Updates/Removes of one leaf; and pending ReInit proposals,
   * which must be committed alone ({@link #commitReInit}). The path is included when required or
   * when {@code forcePath}. Nothing changes until the returned staged commit is merged.
   */
  public CommitOutput commit(List<Proposal> byValue, boolean forcePath) {
    return commit(byValue, forcePath, state.config.privateHandshakes(), state.config.ratchetTreeInWelcome());
  }

  /**
   * As {@link #commit(List, boolean)}, with this commit's wire format and Welcome contents chosen
   * here instead of by the group's {@link GroupConfig}: {@code privateHandshake} sends it as
   * PrivateMessage, {@code ratchetTreeInWelcome} puts the {@code ratchet_tree} extension into the
   * Welcome's GroupInfo (without it, joiners need the tree out of band, §12.4.3.3).
   */
  public CommitOutput commit(
      List<Proposal> byValue, boolean forcePath, boolean privateHandshake, boolean ratchetTreeInWelcome) {
    checkActive();
    GroupState s = state.copy();
    List<Commit.ProposalOrRef> pors = new ArrayList<>();
    List<Proposals.Resolved> list = new ArrayList<>();
    // §12.2: prefer a Remove over Updates of the same leaf, and keep one Remove per leaf.
    Set<Integer> removedLeaves = new HashSet<>();
    for (GroupState.PendingProposal p : s.proposals.values()) {
      if (p.proposal() instanceof Proposal.Remove r) {
        removedLeaves.add(r.removed());
      }
    }
    for (Proposal p : byValue) {
      if (p instanceof Proposal.Remove r) {
        removedLeaves.add(r.removed());
      }
    }
    Set<Integer> removeTaken = new HashSet<>();
    Set<Integer> updateTaken = new HashSet<>();
    for (Map.Entry<Bytes, GroupState.PendingProposal> e : s.proposals.entrySet()) {
      GroupState.PendingProposal p = e.getValue();
      if (p.proposal() instanceof Proposal.Update && p.sender().isMember() && p.sender().index() == s.ownLeaf) {
        continue; // an own Update cannot be committed by oneself (§12.2); the path replaces it
      }
      if (p.proposal() instanceof Proposal.Update
          && (removedLeaves.contains(p.sender().index()) || !updateTaken.add(p.sender().index()))) {
        continue;
      }
      if (p.proposal() instanceof Proposal.Remove r && (r.removed() == s.ownLeaf || !removeTaken.add(r.removed()))) {
        continue; // a committer cannot commit its own removal (§12.2): left for another member
      }
      if (p.proposal() instanceof Proposal.ReInit) {
        continue; // only alone (§12.2): commitReInit
      }
      pors.add(Commit.ProposalOrRef.ref(e.getKey()));
      list.add(new Proposals.Resolved(p.proposal(), p.sender(), p.leafPriv()));
    }
    for (Proposal p : byValue) {
      if (p instanceof Proposal.Update || p instanceof Proposal.ExternalInit) {
        throw new IllegalArgumentException("Update and ExternalInit cannot be committed by value");
      }
      pors.add(Commit.ProposalOrRef.of(p));
      list.add(new Proposals.Resolved(p, Sender.member(s.ownLeaf), null));
    }
    return commitList(s, pors, list, forcePath, null, privateHandshake, ratchetTreeInWelcome);
  }

  /**
   * Commits a ReInit alone (§11.2, §12.2): {@code byValue}, or when null the first ReInit proposal
   * pending in this epoch, by reference. Other pending proposals are left out. Once merged the
   * group is inactive; a member then creates the new group with {@link #reinitialize}.
   *
   * @throws IllegalStateException when {@code byValue} is null and no ReInit is pending
   */
  public CommitOutput commitReInit(Proposal.ReInit byValue) {
    checkActive();
    GroupState s = state.copy();
    if (byValue != null) {
      return commitList(
          s, List.of(Commit.ProposalOrRef.of(byValue)),
          List.of(new Proposals.Resolved(byValue, Sender.member(s.ownLeaf), null)), false, null,
          s.config.privateHandshakes(), s.config.ratchetTreeInWelcome());
    }
    for (Map.Entry<Bytes, GroupState.PendingProposal> e : s.proposals.entrySet()) {
      GroupState.PendingProposal p = e.getValue();
      if (p.proposal() instanceof Proposal.ReInit) {
        return commitList(
            s, List.of(Commit.ProposalOrRef.ref(e.getKey())),
            List.of(new Proposals.Resolved(p.proposal(), p.sender(), null)), false, null,
            s.config.privateHandshakes(), s.config.ratchetTreeInWelcome());
      }
    }
    throw new IllegalStateException("no ReInit proposal pending in this epoch");
  }

  /**
   * Commits {@code list} ({@code pors} on the wire) from {@code s}, a copy of the current state;
   * {@code successorPsk} as in {@link Proposals#apply(GroupState, List, int, PskSecret.Psk)}.
   */
  private CommitOutput commitList(
      GroupState s,
      List<Commit.ProposalOrRef> pors,
      List<Proposals.Resolved> list,
      boolean forcePath,
      PskSecret.Psk successorPsk,
      boolean privateHandshake,
      boolean ratchetTreeInWelcome) {
    GroupState base = state;
    CipherSuite cs = s.cs;
    GroupContext oldContext = s.context;
    RatchetTree oldTree = s.tree.copy();
    Proposals.Applied applied = Proposals.apply(s, list, s.ownLeaf, successorPsk);
    long newEpoch = oldContext.epoch() + 1;
    boolean withPath = forcePath || list.isEmpty() || applied.pathRequired;
    TreeKem.Created created = null;
    int[] fdp = null;
    if (withPath) {
      LeafNode old = s.tree.leaf(s.ownLeaf);
      Bytes gid = s.groupId();
      int own = s.ownLeaf;
      byte[] sigPriv = s.signaturePriv;
      created =
          TreeKem.createUpdatePath(
              s.tree,
              s.keys,
              (encKey, parentHash) ->
                  signLeaf(
                      cs,
                      new LeafNode(
                          encKey, old.signatureKey(), old.credential(), old.capabilities(), Codes.LEAF_SOURCE_COMMIT,
                          null, parentHash, old.extensions(), Bytes.EMPTY),
                      gid, own, sigPriv),
              Set.copyOf(applied.added),
              provisionalContext(s, newEpoch, applied.extensions));
      fdp = s.tree.filteredDirectPath(s.ownLeaf);
    }
    Commit commit = new Commit(pors, created == null ? null : created.path());
    FramedContent content =
        new FramedContent(
            s.groupId(), oldContext.epoch(), Sender.member(s.ownLeaf), Bytes.EMPTY, Codes.CONTENT_COMMIT, null, null,
            commit);
    int wf = privateHandshake ? Codes.WIRE_PRIVATE_MESSAGE : Codes.WIRE_PUBLIC_MESSAGE;
    // Ed25519 is deterministic: this signature is the one the protect call below produces.
    Bytes signature =
        MessageProtection.sign(cs, wf, content, oldContext, s.signaturePriv, Bytes.EMPTY).signature();
    byte[] confirmed = TranscriptHashes.confirmed(cs, s.interimTranscriptHash, wf, content, signature);
    GroupContext newContext =
        new GroupContext(
            Codes.MLS10, cs.id(), s.groupId(), newEpoch, Bytes.wrap(s.tree.treeHash()), Bytes.wrap(confirmed),
            applied.extensions);
    byte[] pskSecret = PskSecret.compute(cs, applied.psks);
    byte[] commitSecret = created == null ? null : created.commitSecret();
    EpochSecrets es = EpochSecrets.derive(cs, s.initSecret, commitSecret, pskSecret, newContext.toByteArray());
    byte[] confirmationKey = es.confirmationKey();
    Bytes tag = Bytes.wrap(TranscriptHashes.confirmationTag(cs, confirmationKey, confirmed));
    SecretBytes.wipe(confirmationKey);
    MlsMessage message =
        wf == Codes.WIRE_PUBLIC_MESSAGE
            ? new MlsMessage(
                MessageProtection.protectPublic(cs, oldContext, content, s.signaturePriv, s.membershipKey, tag))
            // Sealed with the live secret tree, not the staged copy's: the handshake generation is
            // consumed even if this commit is discarded, so the next one gets a fresh key and nonce
            // (RFC 9420 §9.2). A merge takes the live ratchets over (adoptApplicationRatchets).
            : new MlsMessage(
                MessageProtection.protectPrivate(
                    cs, oldContext, content, s.signaturePriv, tag, base.secretTree, s.senderDataSecret, 0));
    MlsMessage welcome = null;
    if (!applied.added.isEmpty()) {
      welcome = welcome(s, es, newContext, tag, applied, created, fdp, pskSecret, ratchetTreeInWelcome);
    }
    SecretBytes.wipe(commitSecret);
    s.enterEpoch(es, newContext, oldTree, oldContext, TranscriptHashes.interim(cs, confirmed, tag), tag);
    if (applied.reinit != null) {
      s.active = false;
      s.reinit = applied.reinit;
    }
    return new CommitOutput(message, welcome, new Processed.StagedCommit(base, s), applied.added, applied.removed);
  }

  private static MlsMessage welcome(
      GroupState s,
      EpochSecrets es,
      GroupContext newContext,
      Bytes tag,
      Proposals.Applied applied,
      TreeKem.Created created,
      int[] fdp,
      byte[] pskSecret,
      boolean ratchetTreeInWelcome) {
    CipherSuite cs = s.cs;
    List<Extension> ext = new ArrayList<>();
    if (ratchetTreeInWelcome) {
      ext.add(new Extension(Codes.EXT_RATCHET_TREE, Bytes.wrap(s.tree.encode())));
    }
    ext.add(new Extension(Codes.EXT_EXTERNAL_PUB, new TlsWriter(40).opaque(es.externalPub()).toBytes()));
    GroupInfo gi =
        Welcomes.signGroupInfo(cs, new GroupInfo(newContext, ext, tag, s.ownLeaf, Bytes.EMPTY), s.signaturePriv);
    byte[] joiner = es.joinerSecret();
    byte[] welcomeSecret = EpochSecrets.welcomeSecret(cs, joiner, pskSecret);
    byte[] key = MlsCrypto.expandWithLabel(cs, welcomeSecret, "key", new byte[0], cs.aeadKeyLength());
    byte[] nonce = MlsCrypto.expandWithLabel(cs, welcomeSecret, "nonce", new byte[0], cs.aeadNonceLength());
    SecretBytes.wipe(welcomeSecret);
    byte[] encryptedGroupInfo;
    try {
      InsecureNonceAead aead = cs.aead(key);
      try {
        encryptedGroupInfo = aead.seal(nonce, new byte[0], gi.toByteArray());
      } finally {
        aead.destroy();
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AEAD failed on well-formed input", e);
    } finally {
      SecretBytes.wipe(key);
    }
    int ownNode = TreeMath.leafToNode(s.ownLeaf);
    int count = applied.added.size();
    byte[][] plains = new byte[count][];
    for (int i = 0; i < count; i++) {
      int leaf = applied.added.get(i);
      Bytes pathSecret = null;
      if (created != null) {
        int newNode = TreeMath.leafToNode(leaf);
        for (int j = 0; j < fdp.length; j++) {
          if (TreeMath.isInSubtree(RatchetTree.copathChild(fdp[j], ownNode), newNode)) {
            pathSecret = Bytes.wrap(created.pathSecrets().get(j).clone());
            break;
          }
        }
      }
      GroupSecrets gs = new GroupSecrets(Bytes.wrap(joiner.clone()), pathSecret, applied.pskIds);
      plains[i] = TlsWriter.encode(gs, (w, g) -> g.encode(w));
    }
    SecretBytes.wipe(joiner);
    // Each entry's HPKE info holds the whole encrypted GroupInfo (about 300 KB for 1024 members):
    // hashed once for all entries; the entries are independent, so encrypted on several cores.
    MlsCrypto.Encryptor encryptor = MlsCrypto.encryptorWithLabel(cs, "Welcome", encryptedGroupInfo);
    Welcome.EncryptedGroupSecrets[] entries = new Welcome.EncryptedGroupSecrets[count];
    GeneralSecurityException[] failed = new GeneralSecurityException[count];
    Parallel.forEach(
        count,
        i -> {
          KeyPackage kp = applied.addedKeyPackages.get(i);
          try {
            var sealed = encryptor.encrypt(kp.initKey().unsafeArray(), plains[i]);
            entries[i] =
                new Welcome.EncryptedGroupSecrets(
                    keyPackageRef(cs, kp),
                    new HpkeCiphertext(Bytes.wrap(sealed.kemOutput()), Bytes.wrap(sealed.ciphertext())));
          } catch (GeneralSecurityException e) {
            failed[i] = e;
          } finally {
            SecretBytes.wipe(plains[i]);
          }
        });
    List<Welcome.EncryptedGroupSecrets> secrets = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      if (failed[i] != null) {
        throw new MessageRejectedException(Reason.MALFORMED, "cannot encrypt to a KeyPackage init key", failed[i]);
      }
      secrets.add(entries[i]);
    }
    return new MlsMessage(new Welcome(cs.id(), secrets, Bytes.wrap(encryptedGroupInfo)));
  }

  @Override
  public String toString() {
    return "Group[" + state + "]";
  }
}
