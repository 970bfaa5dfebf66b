package chat.agentvault.mls;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.group.Group;
import chat.agentvault.mls.group.GroupConfig;
import chat.agentvault.mls.group.GroupRecordFormatException;
import chat.agentvault.mls.group.Processed;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.Welcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One member's view of one MLS group (RFC 9420). Every method that changes the group returns
 * something to send and changes nothing locally until the application confirms: own commits
 * through {@link #mergePendingCommit}, received ones through {@link #merge}. Rejected input throws
 * {@link MessageRejectedException} and leaves the group as it was. Not thread-safe: serialise calls
 * per group.
 *
 * <p><b>Persistence.</b> After {@link #persistTo} (or {@link #load}) the group writes its whole
 * state to a {@link GroupStore} after every change, before the change's result leaves: ciphertext
 * from {@link #encrypt} (a restarted member never reuses a generation), plaintext from {@link
 * #process} (a consumed key stays consumed), a new {@link PendingCommit} with the state of the
 * epoch it leads to, its message and Welcome, and at {@link #merge}/{@link #mergePendingCommit}/
 * {@link #discardPendingCommit} (the new epoch replaces the old one atomically). If saving fails
 * the call throws and its result is not returned. After a restart the pending commit is still
 * there: merge it if the delivery service accepted it, discard it if not; or {@link #process} what
 * the service delivers, its own commit included (recognised, and merged like any other).
 *
 * <p><b>Reinitialisation and branching</b> (RFC 9420 §11.2, §11.3). {@link #commitReInit} (or a
 * ReInit proposal, {@link #proposeReInit}, then {@link #commitReInit()}) closes this group for
 * sending once merged; then any member creates the new group with {@link #reinitialize}, and the
 * others join it with {@link #joinSuccessor}, which checks the new group against this one. {@link
 * #branch} starts a group of some of the members beside this one, joined the same way.
 */
public final class MlsGroup {
  private final Group group;
  private PendingCommit pending;
  private GroupStore store;

  private MlsGroup(Group group) {
    this.group = group;
  }

  /**
   * Saves this group's state to {@code store} now and after every later change (see the class
   * comment). The record holds the group's secrets; {@code store} must keep it encrypted.
   */
  public MlsGroup persistTo(GroupStore store) {
    Objects.requireNonNull(store, "store");
    this.store = store;
    persist();
    return this;
  }

  /**
   * The group saved in {@code store} under {@code groupId}, continuing where it was saved, and
   * persisting to {@code store} from now on; empty if none is stored.
   *
   * @throws GroupRecordException the stored record is corrupted or of an unsupported version
   */
  public static Optional<MlsGroup> load(GroupStore store, Bytes groupId) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(groupId, "groupId");
    Optional<byte[]> record = store.load(groupId);
    if (record.isEmpty()) {
      return Optional.empty();
    }
    byte[] r = record.get();
    try {
      Group.Restored restored = Group.restore(r, GroupConfig.DEFAULT);
      MlsGroup g = new MlsGroup(restored.group());
      if (!g.groupId().equals(groupId)) {
        throw new GroupRecordException(GroupRecordException.Reason.CORRUPTED, "record of another group");
      }
      if (restored.pendingCommit() != null) {
        g.pending = new PendingCommit(restored.pendingCommit());
      }
      g.store = store;
      return Optional.of(g);
    } catch (GroupRecordFormatException e) {
      throw new GroupRecordException(
          e.reason() == GroupRecordFormatException.Reason.UNSUPPORTED_VERSION
              ? GroupRecordException.Reason.UNSUPPORTED_VERSION
              : GroupRecordException.Reason.CORRUPTED,
          e.getMessage(),
          e);
    } finally {
      chat.agentvault.crypto.SecretBytes.wipe(r);
    }
  }

  private void persist() {
    if (store != null) {
      byte[] r = group.toRecord(pending == null ? null : pending.output);
      try {
        store.save(group.groupId(), r);
      } finally {
        chat.agentvault.crypto.SecretBytes.wipe(r);
      }
    }
  }

  /**
   * A member: its leaf index, the identity of its basic credential, and its leaf's signature public
   * key (32 bytes, Ed25519), which signs its messages and which an application can bind to the
   * identity (e.g. an endorsement carried in the credential identity). {@code identity} and {@code
   * signatureKey} are null for a sender that is not a member (a proposal from outside the group).
   * Equality includes the signature key.
   */
  public record Member(int leafIndex, Bytes identity, Bytes signatureKey) {
    /** A member without its signature key (as before the key was exposed). */
    public Member(int leafIndex, Bytes identity) {
      this(leafIndex, identity, null);
    }
  }

  /**
   * An own commit, made but not applied: send {@link #message()}, then merge it. Persisted with the
   * group (see the class comment).
   */
  public static final class PendingCommit {
    private final Bytes message;
    private final Bytes welcome;
    private final Group.CommitOutput output;

    private PendingCommit(Group.CommitOutput output) {
      this.output = output;
      this.message = Bytes.wrap(output.commit().toByteArray());
      this.welcome = output.welcome() == null ? null : Bytes.wrap(output.welcome().toByteArray());
    }

    /** The commit for every current member. */
    public Bytes message() {
      return message;
    }

    /** The Welcome for the members this commit adds, if any. */
    public Optional<Bytes> welcome() {
      return Optional.ofNullable(welcome);
    }
  }

  /** A new group with {@code self} as its only member; handshakes as PublicMessage. */
  public static MlsGroup create(MlsKeyPackage self, Bytes groupId) {
    return create(self, groupId, false);
  }

  /** A new group; {@code encryptHandshakes} sends proposals and commits as PrivateMessage. */
  public static MlsGroup create(MlsKeyPackage self, Bytes groupId, boolean encryptHandshakes) {
    Objects.requireNonNull(self, "self");
    Objects.requireNonNull(groupId, "groupId");
    return new MlsGroup(
        Group.create(
            self.suite, groupId, self.keyPackage.leafNode(), self.encryptionPriv, self.signaturePriv, List.of(),
            GroupConfig.DEFAULT.withPrivateHandshakes(encryptHandshakes)));
  }

  /**
   * Joins from a Welcome made for {@code self}'s KeyPackage (the ratchet tree must be in it).
   *
   * @throws MessageRejectedException when the Welcome is malformed, not for this KeyPackage, or fails
   *     a check of RFC 9420 §12.4.3.1
   */
  public static MlsGroup join(MlsKeyPackage self, Bytes welcome, boolean encryptHandshakes) {
    Objects.requireNonNull(self, "self");
    MlsMessage m = parse(welcome);
    if (!(m.body() instanceof Welcome w)) {
      throw new MessageRejectedException(Reason.MALFORMED, "not a Welcome");
    }
    return new MlsGroup(
        Group.join(
            w, self.keyPackage, self.initPriv, self.encryptionPriv, self.signaturePriv, null,
            GroupConfig.DEFAULT.withPrivateHandshakes(encryptHandshakes)));
  }

  /** The result of an external join: the new group state and the commit to send to its members. */
  public record ExternalJoin(MlsGroup group, Bytes commit) {}

  /**
   * Joins by external commit (RFC 9420 §12.4.3.2) from a GroupInfo published by a member ({@link
   * #groupInfo()}), with the keys and identity of {@code self}. Send {@link ExternalJoin#commit()};
   * the returned group is valid once the delivery service accepted it.
   */
  public static ExternalJoin joinExternal(MlsKeyPackage self, Bytes groupInfo, boolean encryptHandshakes) {
    Objects.requireNonNull(self, "self");
    MlsMessage m = parse(groupInfo);
    if (!(m.body() instanceof chat.agentvault.mls.message.GroupInfo gi)) {
      throw new MessageRejectedException(Reason.MALFORMED, "not a GroupInfo");
    }
    return externalJoin(self, gi, encryptHandshakes, -1);
  }

  /**
   * Rejoins a group this client is (or was) a member of by external commit (RFC 9420 §12.4.3.2,
   * "resync"): as {@link #joinExternal}, and the commit also removes the old leaf whose credential
   * identity is {@code self}'s, if the GroupInfo's tree has one. For a member whose state is lost or
   * behind (missed commit, restored backup).
   */
  public static ExternalJoin rejoinExternal(MlsKeyPackage self, Bytes groupInfo, boolean encryptHandshakes) {
    Objects.requireNonNull(self, "self");
    return rejoinExternal(self, groupInfo, encryptHandshakes, self.identity()::equals);
  }

  /**
   * As {@link #rejoinExternal(MlsKeyPackage, Bytes, boolean)}, the old leaf being the one whose
   * credential identity {@code isOldSelf} accepts (the last such, if several): for credentials that
   * differ per KeyPackage, e.g. that carry a signature over the leaf's signature key.
   */
  public static ExternalJoin rejoinExternal(
      MlsKeyPackage self, Bytes groupInfo, boolean encryptHandshakes, java.util.function.Predicate<Bytes> isOldSelf) {
    Objects.requireNonNull(self, "self");
    Objects.requireNonNull(isOldSelf, "isOldSelf");
    MlsMessage m = parse(groupInfo);
    if (!(m.body() instanceof chat.agentvault.mls.message.GroupInfo gi)) {
      throw new MessageRejectedException(Reason.MALFORMED, "not a GroupInfo");
    }
    int old = -1;
    for (chat.agentvault.mls.message.Extension e : gi.extensions()) {
      if (e.type() == chat.agentvault.mls.message.Codes.EXT_RATCHET_TREE) {
        List<chat.agentvault.mls.message.Node> nodes;
        try {
          nodes = chat.agentvault.mls.codec.TlsReader.decodeAll(e.data(), chat.agentvault.mls.message.Node::decodeTree);
        } catch (RuntimeException ex) {
          throw new MessageRejectedException(Reason.MALFORMED, "GroupInfo ratchet tree does not decode", ex);
        }
        for (int i = 0; i < nodes.size(); i += 2) {
          chat.agentvault.mls.message.Node n = nodes.get(i);
          if (n != null && n.leaf() != null && isOldSelf.test(n.leaf().credential().identity())) {
            old = i / 2;
          }
        }
      }
    }
    return externalJoin(self, gi, encryptHandshakes, old);
  }

  private static ExternalJoin externalJoin(
      MlsKeyPackage self, chat.agentvault.mls.message.GroupInfo gi, boolean encryptHandshakes, int removeLeaf) {
    if (gi.groupContext().cipherSuite() != self.cipherSuite()) {
      throw new MessageRejectedException(Reason.MALFORMED, "GroupInfo cipher suite differs from the KeyPackage's");
    }
    Group.ExternalJoin j =
        Group.joinExternal(
            gi, null, self.keyPackage.leafNode(), self.signaturePriv, removeLeaf,
            GroupConfig.DEFAULT.withPrivateHandshakes(encryptHandshakes));
    return new ExternalJoin(new MlsGroup(j.group()), Bytes.wrap(j.commit().toByteArray()));
  }

  /**
   * The {@code KeyPackageRef}s a Welcome has secrets for ({@link MlsKeyPackage#ref()}): to find the
   * own KeyPackage to {@link #join} with, without trying each.
   *
   * @throws MessageRejectedException MALFORMED when it is not an MLSMessage carrying a Welcome
   */
  public static List<Bytes> welcomeKeyPackageRefs(Bytes welcome) {
    MlsMessage m = parse(welcome);
    if (!(m.body() instanceof Welcome w)) {
      throw new MessageRejectedException(Reason.MALFORMED, "not a Welcome");
    }
    List<Bytes> out = new ArrayList<>();
    for (Welcome.EncryptedGroupSecrets s : w.secrets()) {
      out.add(s.newMember());
    }
    return out;
  }

  /**
   * Joins a group that resumes {@code previous} (RFC 9420 §11.2 reinitialisation, §11.3 branch)
   * from a Welcome made for {@code self}'s KeyPackage. The Welcome's resumption PSK is taken from
   * {@code previous}, and the new group is checked against it (§12.4.3.1): it starts at epoch 1; a
   * reinitialised group has the group id, version, cipher suite and extensions of the ReInit
   * committed last in {@code previous}, the PSK is of {@code previous}'s last epoch, and its members
   * are exactly {@code previous}'s (by credential); a branch keeps the version and cipher suite, and
   * all its members are members of {@code previous}. Handshakes are sent as in {@code previous}.
   *
   * @throws MessageRejectedException WRONG_EPOCH when the Welcome does not resume {@code previous}
   *     or its epoch cannot be used (for reinit: not the last one); MALFORMED when a check above
   *     fails; otherwise as {@link #join}
   */
  public static MlsGroup joinSuccessor(MlsKeyPackage self, Bytes welcome, MlsGroup previous) {
    Objects.requireNonNull(self, "self");
    Objects.requireNonNull(previous, "previous");
    MlsMessage m = parse(welcome);
    if (!(m.body() instanceof Welcome w)) {
      throw new MessageRejectedException(Reason.MALFORMED, "not a Welcome");
    }
    Group old = previous.group;
    return new MlsGroup(
        Group.join(
            w, self.keyPackage, self.initPriv, self.encryptionPriv, self.signaturePriv, null,
            GroupConfig.DEFAULT.withPrivateHandshakes(old.config().privateHandshakes()),
            id -> id.equals(old.groupId()) ? old : null));
  }

  /**
   * The epoch a PublicMessage or PrivateMessage names in its clear header (not yet authenticated:
   * for routing, e.g. to tell a message of a past epoch from one of an epoch this member missed);
   * empty for other messages or bytes that do not parse.
   */
  public static java.util.OptionalLong epochOf(Bytes message) {
    Objects.requireNonNull(message, "message");
    try {
      Object body = MlsMessage.parse(message.unsafeArray()).body();
      if (body instanceof chat.agentvault.mls.message.PublicMessage p) {
        return java.util.OptionalLong.of(p.content().epoch());
      }
      if (body instanceof chat.agentvault.mls.message.PrivateMessage p) {
        return java.util.OptionalLong.of(p.epoch());
      }
    } catch (RuntimeException e) {
      // not an MLSMessage: no epoch
    }
    return java.util.OptionalLong.empty();
  }

  /** A signed GroupInfo of the current epoch with the ratchet tree and external key: for external joins. */
  public Bytes groupInfo() {
    return Bytes.wrap(group.groupInfo(true).toByteArray());
  }

  private static MlsMessage parse(Bytes bytes) {
    Objects.requireNonNull(bytes, "message");
    try {
      return MlsMessage.parse(bytes.unsafeArray());
    } catch (DecodeException e) {
      throw new MessageRejectedException(Reason.MALFORMED, "not an MLSMessage", e);
    }
  }

  // ---------------------------------------------------------------- state

  public long epoch() {
    return group.epoch();
  }

  public Bytes groupId() {
    return group.groupId();
  }

  /** False once this member was removed, or once a ReInit was committed ({@link #reinit()}). */
  public boolean isActive() {
    return group.isActive();
  }

  /**
   * The parameters of a new group that replaces this one (RFC 9420 §11.2).
   *
   * @param groupId the new group's id
   * @param cipherSuite the new group's cipher suite ({@link MlsKeyPackage#SUITE_X25519_AES128GCM_ED25519}, ...)
   */
  public record ReInit(Bytes groupId, int cipherSuite) {
    public ReInit {
      Objects.requireNonNull(groupId, "groupId");
    }
  }

  /**
   * The ReInit committed in this group's last epoch: this group is closed for sending and waits
   * for the new group ({@link #reinitialize}, {@link #joinSuccessor}). Empty otherwise.
   */
  public Optional<ReInit> reinit() {
    Proposal.ReInit r = group.reinit();
    return r == null ? Optional.empty() : Optional.of(new ReInit(r.groupId(), r.cipherSuite()));
  }

  public Member self() {
    return member(group.ownLeaf());
  }

  /** The members, by leaf index. */
  public List<Member> members() {
    List<Member> out = new ArrayList<>();
    for (int leaf : group.members()) {
      out.add(member(leaf));
    }
    return out;
  }

  private Member member(int leaf) {
    return memberOf(leaf, group.leaf(leaf));
  }

  static Member memberOf(int leaf, LeafNode l) {
    return l == null ? new Member(leaf, null, null) : new Member(leaf, l.credential().identity(), l.signatureKey());
  }

  /** The epoch authenticator (§8.7): equal for all members of an epoch; compare out of band. */
  public Bytes epochAuthenticator() {
    return group.epochAuthenticator();
  }

  /** MLS-Exporter (§8.5): a secret all members of this epoch derive alike. */
  public byte[] exportSecret(String label, byte[] context, int length) {
    return group.exportSecret(label, context, length);
  }

  // ---------------------------------------------------------------- sending

  /** Encrypts application data for the group. */
  public Bytes encrypt(Bytes plaintext) {
    checkNoPending();
    Bytes out = Bytes.wrap(group.encrypt(plaintext, Bytes.EMPTY).toByteArray());
    persist();
    return out;
  }

  /** A commit adding the members whose serialized KeyPackages are given. */
  public PendingCommit addMembers(List<Bytes> keyPackages) {
    List<Proposal> adds = new ArrayList<>();
    for (KeyPackage kp : keyPackagesOf(keyPackages)) {
      adds.add(new Proposal.Add(kp));
    }
    return commit(adds, false);
  }

  /** A commit removing the members at these leaf indices. */
  public PendingCommit removeMembers(List<Integer> leafIndices) {
    List<Proposal> removes = new ArrayList<>();
    for (int i : leafIndices) {
      removes.add(new Proposal.Remove(i));
    }
    return commit(removes, false);
  }

  /** A commit with fresh keys on this member's path (forward secrecy, post-compromise security). */
  public PendingCommit update() {
    return commit(List.of(), true);
  }

  /**
   * Proposes to replace this group by a new one with id {@code newGroupId} and cipher suite {@code
   * cipherSuite} (RFC 9420 §12.1.5); send the returned proposal. A member commits it with {@link
   * #commitReInit()}. The new group keeps this group's extensions and protocol version.
   *
   * @throws chat.agentvault.mls.crypto.UnsupportedCipherSuiteException for suites other than 1 and 3
   */
  public Bytes proposeReInit(Bytes newGroupId, int cipherSuite) {
    checkNoPending();
    Bytes out = Bytes.wrap(group.propose(reInitOf(newGroupId, cipherSuite)).toByteArray());
    persist();
    return out;
  }

  /**
   * A commit of a ReInit proposal to a new group with id {@code newGroupId} and cipher suite {@code
   * cipherSuite}, alone (RFC 9420 §11.2, §12.2). Once merged this group is inactive for sending and
   * {@link #reinit()} tells the new group; a member then creates it with {@link #reinitialize}.
   *
   * @throws chat.agentvault.mls.crypto.UnsupportedCipherSuiteException for suites other than 1 and 3
   */
  public PendingCommit commitReInit(Bytes newGroupId, int cipherSuite) {
    Proposal.ReInit ri = reInitOf(newGroupId, cipherSuite);
    return pend(() -> group.commitReInit(ri));
  }

  /**
   * A commit of the ReInit proposal received (or made) in this epoch, alone (RFC 9420 §12.2); other
   * pending proposals are left out. See {@link #commitReInit(Bytes, int)}.
   *
   * @throws IllegalStateException no ReInit proposal is pending
   */
  public PendingCommit commitReInit() {
    return pend(() -> group.commitReInit(null));
  }

  private Proposal.ReInit reInitOf(Bytes newGroupId, int cipherSuite) {
    Objects.requireNonNull(newGroupId, "newGroupId");
    chat.agentvault.mls.crypto.CipherSuites.forId(cipherSuite); // only suites this SDK can run
    return new Proposal.ReInit(
        newGroupId, group.context().version(), cipherSuite, group.context().extensions());
  }

  /** A new group resuming this one and its creator's initial commit (pending in the new group). */
  public record Successor(MlsGroup group, PendingCommit commit) {}

  /**
   * Creates the new group that the ReInit committed last asks for (RFC 9420 §11.2): its id and
   * cipher suite, this group's extensions, this member from {@code self} (a fresh KeyPackage of the
   * new cipher suite), the other members from {@code keyPackages} (fresh KeyPackages of every other
   * member of this group), and in the Welcome a resumption PSK of usage reinit of this group's last
   * epoch. The new group's initial commit is pending: send {@link PendingCommit#welcome()} to the
   * others and merge it ({@link #mergePendingCommit}) on the new group once the delivery service
   * accepted it (another member may have created the new group first: then discard it and join that
   * one). Handshakes are sent as in this group; the new group is not persisted until {@link
   * #persistTo}.
   *
   * @throws IllegalStateException no ReInit was committed in this group
   * @throws IllegalArgumentException {@code self} is not of the new cipher suite, or the members
   *     ({@code self} and {@code keyPackages}, by credential) are not exactly this group's
   * @throws MessageRejectedException a KeyPackage is malformed or invalid
   */
  public Successor reinitialize(MlsKeyPackage self, List<Bytes> keyPackages) {
    Objects.requireNonNull(self, "self");
    List<KeyPackage> others = keyPackagesOf(keyPackages);
    return successor(group.reinitialize(self.keyPackage, self.encryptionPriv, self.signaturePriv, others));
  }

  /**
   * Creates a subgroup of this group (RFC 9420 §11.3) with id {@code newGroupId}: this group's
   * version, cipher suite and extensions, this member from {@code self}, some other members of this
   * group from {@code keyPackages} (fresh KeyPackages), and in the Welcome a resumption PSK of usage
   * branch of the current epoch. This group is unchanged. As with {@link #reinitialize}, the new
   * group's initial commit is pending on it.
   *
   * @throws IllegalArgumentException {@code newGroupId} is this group's, {@code self} is of another
   *     cipher suite, or a KeyPackage is of someone who is not a member of this group
   * @throws MessageRejectedException a KeyPackage is malformed or invalid
   */
  public Successor branch(MlsKeyPackage self, Bytes newGroupId, List<Bytes> keyPackages) {
    Objects.requireNonNull(self, "self");
    Objects.requireNonNull(newGroupId, "newGroupId");
    List<KeyPackage> others = keyPackagesOf(keyPackages);
    return successor(group.branch(newGroupId, self.keyPackage, self.encryptionPriv, self.signaturePriv, others));
  }

  private static Successor successor(Group.Successor s) {
    MlsGroup g = new MlsGroup(s.group());
    g.pending = new PendingCommit(s.commit());
    return new Successor(g, g.pending);
  }

  private static List<KeyPackage> keyPackagesOf(List<Bytes> keyPackages) {
    List<KeyPackage> out = new ArrayList<>();
    for (Bytes b : keyPackages) {
      MlsMessage m = parse(b);
      if (!(m.body() instanceof KeyPackage kp)) {
        throw new MessageRejectedException(Reason.MALFORMED, "not a KeyPackage");
      }
      out.add(kp);
    }
    return out;
  }

  private PendingCommit commit(List<Proposal> byValue, boolean forcePath) {
    return pend(() -> group.commit(byValue, forcePath));
  }

  /** Makes the pending commit and saves it with the state before it leaves. */
  private PendingCommit pend(java.util.function.Supplier<Group.CommitOutput> make) {
    checkNoPending();
    pending = new PendingCommit(make.get());
    try {
      persist(); // the pending commit, and an encrypted handshake advanced a ratchet
    } catch (RuntimeException e) {
      pending = null;
      throw e;
    }
    return pending;
  }

  /**
   * The own commit made and not yet merged or discarded, if any; after a restart ({@link #load})
   * too, so that its message and Welcome can be sent again.
   */
  public Optional<PendingCommit> pendingCommit() {
    return Optional.ofNullable(pending);
  }

  private void checkNoPending() {
    if (pending != null) {
      throw new IllegalStateException("a commit is pending: merge or discard it first");
    }
  }

  /** Applies the own pending commit (after the delivery service accepted it). */
  public void mergePendingCommit() {
    if (pending == null) {
      throw new IllegalStateException("no pending commit");
    }
    group.merge(pending.output.staged());
    pending = null;
    persist();
  }

  /** Drops the own pending commit (the delivery service ordered another commit first). */
  public void discardPendingCommit() {
    pending = null;
    persist();
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Processes a message of this group. A commit comes back as {@link Inbound.StagedCommit}, applied
   * only by {@link #merge}.
   *
   * The own pending commit, coming back from the delivery service, is recognised (by its bytes)
   * and returned staged like any other: {@link #merge} it.
   *
   * @throws MessageRejectedException the group is unchanged
   */
  public Inbound process(Bytes message) {
    if (pending != null && pending.message.equals(message)) {
      return ownCommit(pending);
    }
    Processed p = group.process(parse(message));
    persist();
    if (p instanceof Processed.ApplicationMessage a) {
      return new Inbound.Application(member(a.senderLeaf()), a.epoch(), a.data());
    }
    if (p instanceof Processed.ProposalStored s) {
      Member sender = s.sender().isMember() ? member(s.sender().index()) : new Member(-1, null);
      return new Inbound.ProposalReceived(sender, s.proposal().type());
    }
    if (p instanceof Processed.Removed r) {
      return new Inbound.StagedCommit(r.newEpoch(), member(r.committer()), List.of(), List.of(self()), true, r.staged());
    }
    Processed.CommitApplied c = (Processed.CommitApplied) p;
    List<Member> removed = new ArrayList<>();
    for (int leaf : c.removed()) {
      removed.add(member(leaf));
    }
    // Added members are in the new epoch's tree, not in ours yet.
    List<Member> added = new ArrayList<>();
    for (int leaf : c.added()) {
      added.add(memberOf(leaf, c.staged().leafAfter(leaf)));
    }
    return new Inbound.StagedCommit(c.newEpoch(), member(c.committer()), added, removed, false, c.staged());
  }

  private Inbound.StagedCommit ownCommit(PendingCommit p) {
    Group.CommitOutput o = p.output;
    List<Member> added = new ArrayList<>();
    for (int leaf : o.added()) {
      added.add(memberOf(leaf, o.staged().leafAfter(leaf)));
    }
    List<Member> removed = new ArrayList<>();
    for (int leaf : o.removed()) {
      removed.add(member(leaf));
    }
    return new Inbound.StagedCommit(group.epoch() + 1, self(), added, removed, false, o.staged());
  }

  /** Applies a commit returned by {@link #process}; the pending own commit, if any, is dropped. */
  public void merge(Inbound.StagedCommit commit) {
    group.merge(commit.staged);
    pending = null;
    persist();
  }

  @Override
  public String toString() {
    return "MlsGroup[" + group.groupId() + ", epoch " + group.epoch() + ", " + group.members().size() + " members]";
  }
}
