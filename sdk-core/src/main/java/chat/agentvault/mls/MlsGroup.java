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
 * #process} (a consumed key stays consumed), and at {@link #merge}/{@link #mergePendingCommit}
 * (the new epoch replaces the old one atomically). If saving fails the call throws and its result
 * is not returned. Not persisted: a {@link PendingCommit} (after a restart it is gone; the member
 * processes the delivery service's next commit as usual, but its own commit, if the service
 * accepted it, cannot be processed and the member must rejoin).
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
      MlsGroup g = new MlsGroup(Group.fromRecord(r, GroupConfig.DEFAULT));
      if (!g.groupId().equals(groupId)) {
        throw new GroupRecordException(GroupRecordException.Reason.CORRUPTED, "record of another group");
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
      byte[] r = group.toRecord();
      try {
        store.save(group.groupId(), r);
      } finally {
        chat.agentvault.crypto.SecretBytes.wipe(r);
      }
    }
  }

  /** A member: its leaf index and the identity of its basic credential. */
  public record Member(int leafIndex, Bytes identity) {}

  /** An own commit, made but not applied: send {@link #message()}, then merge it. */
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
    if (gi.groupContext().cipherSuite() != self.cipherSuite()) {
      throw new MessageRejectedException(Reason.MALFORMED, "GroupInfo cipher suite differs from the KeyPackage's");
    }
    Group.ExternalJoin j =
        Group.joinExternal(
            gi, null, self.keyPackage.leafNode(), self.signaturePriv, -1,
            GroupConfig.DEFAULT.withPrivateHandshakes(encryptHandshakes));
    return new ExternalJoin(new MlsGroup(j.group()), Bytes.wrap(j.commit().toByteArray()));
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

  /** False once this member was removed. */
  public boolean isActive() {
    return group.isActive();
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
    LeafNode l = group.leaf(leaf);
    return new Member(leaf, l == null ? null : l.credential().identity());
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
    for (Bytes b : keyPackages) {
      MlsMessage m = parse(b);
      if (!(m.body() instanceof KeyPackage kp)) {
        throw new MessageRejectedException(Reason.MALFORMED, "not a KeyPackage");
      }
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

  private PendingCommit commit(List<Proposal> byValue, boolean forcePath) {
    checkNoPending();
    PendingCommit p = new PendingCommit(group.commit(byValue, forcePath));
    persist(); // an encrypted handshake advanced a ratchet
    pending = p;
    return pending;
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
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Processes a message of this group. A commit comes back as {@link Inbound.StagedCommit}, applied
   * only by {@link #merge}.
   *
   * @throws MessageRejectedException the group is unchanged
   */
  public Inbound process(Bytes message) {
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
      LeafNode l = c.staged().leafAfter(leaf);
      added.add(new Member(leaf, l == null ? null : l.credential().identity()));
    }
    return new Inbound.StagedCommit(c.newEpoch(), member(c.committer()), added, removed, false, c.staged());
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
