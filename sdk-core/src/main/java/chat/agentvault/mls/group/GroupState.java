package chat.agentvault.mls.group;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.schedule.EpochSecrets;
import chat.agentvault.mls.schedule.SecretTree;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeKem;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole mutable state of one member in one epoch (RFC 9420 §8, §9, §12). Operations run on a
 * {@link #copy()} and the caller swaps the copy in only on success (copy-try-commit). Holds secrets:
 * {@link #toString()} prints none.
 */
final class GroupState {
  /** How many epochs of resumption PSKs are kept (§8.6). */
  static final int RESUMPTION_PSK_WINDOW = 8;

  final CipherSuite cs;
  final GroupConfig config;
  GroupContext context;
  RatchetTree tree;
  TreeKem.PrivateKeys keys;
  final int ownLeaf;
  final byte[] signaturePriv;

  // Secrets of the current epoch needed after the key schedule ran.
  byte[] initSecret;
  byte[] senderDataSecret;
  byte[] membershipKey;
  byte[] exporterSecret;
  byte[] externalSecret;
  byte[] epochAuthenticator;
  SecretTree secretTree;
  byte[] interimTranscriptHash;
  /** The confirmation tag of the commit that started this epoch (for GroupInfo, §12.4.3). */
  Bytes confirmationTag;

  /** Proposals of this epoch by ProposalRef, in arrival order. */
  final LinkedHashMap<Bytes, PendingProposal> proposals = new LinkedHashMap<>();
  /** Previous epochs, newest first, for late application messages. */
  final ArrayDeque<PastEpoch> past = new ArrayDeque<>();
  /** Resumption PSKs of this group by epoch (the current one included), oldest first. */
  final LinkedHashMap<Long, byte[]> resumptionPsks = new LinkedHashMap<>();
  /** False after this member was removed, or after a ReInit commit (§12.4.2). */
  boolean active = true;
  /**
   * The ReInit proposal of the commit that started this epoch (§11.2), else null: the group is
   * then inactive and waits for the new group's Welcome.
   */
  Proposal.ReInit reinit;
  /**
   * Shared by this state and its copies until a commit is merged ({@link Group#merge} renews it):
   * within an epoch the state is only replaced by copies that store proposals, which leave a
   * commit staged earlier in the epoch mergeable.
   */
  Object lineage = new Object();

  /**
   * A stored proposal; {@code leafPriv} is the HPKE private key of an own Update's new leaf (null
   * otherwise).
   */
  record PendingProposal(Proposal proposal, Sender sender, byte[] leafPriv) {}

  /** What a previous epoch keeps: enough to authenticate and decrypt application messages. */
  record PastEpoch(GroupContext context, RatchetTree tree, SecretTree secretTree, byte[] senderDataSecret) {
    PastEpoch copy() {
      return new PastEpoch(context, tree.copy(), secretTree.copy(), senderDataSecret.clone());
    }
  }

  GroupState(CipherSuite cs, GroupConfig config, int ownLeaf, byte[] signaturePriv) {
    this.cs = cs;
    this.config = config;
    this.ownLeaf = ownLeaf;
    this.signaturePriv = signaturePriv.clone();
  }

  GroupState copy() {
    GroupState c = new GroupState(cs, config, ownLeaf, signaturePriv);
    c.context = context;
    c.tree = tree.copy();
    c.keys = keys.copy();
    c.initSecret = initSecret.clone();
    c.senderDataSecret = senderDataSecret.clone();
    c.membershipKey = membershipKey.clone();
    c.exporterSecret = exporterSecret.clone();
    c.externalSecret = externalSecret.clone();
    c.epochAuthenticator = epochAuthenticator.clone();
    c.secretTree = secretTree.copy();
    c.interimTranscriptHash = interimTranscriptHash.clone();
    c.confirmationTag = confirmationTag;
    proposals.forEach(
        (k, v) ->
            c.proposals.put(
                k, new PendingProposal(v.proposal(), v.sender(), v.leafPriv() == null ? null : v.leafPriv().clone())));
    for (PastEpoch p : past) {
      c.past.addLast(p.copy());
    }
    resumptionPsks.forEach((k, v) -> c.resumptionPsks.put(k, v.clone()));
    c.active = active;
    c.reinit = reinit;
    c.lineage = lineage;
    return c;
  }

  long epoch() {
    return context.epoch();
  }

  Bytes groupId() {
    return context.groupId();
  }

  /**
   * Enters a new epoch: the current epoch's application-message material goes to the past window
   * (with {@code oldTree}, the tree senders of that epoch are found in), the new secrets replace the
   * current ones, pending proposals are dropped.
   */
  void enterEpoch(
      EpochSecrets es,
      GroupContext newContext,
      RatchetTree oldTree,
      GroupContext oldContext,
      byte[] newInterim,
      Bytes newConfirmationTag) {
    if (config.pastEpochs() > 0) {
      past.addFirst(new PastEpoch(oldContext, oldTree, secretTree, senderDataSecret));
      while (past.size() > config.pastEpochs()) {
        PastEpoch dropped = past.removeLast();
        dropped.secretTree().close();
        SecretBytes.wipe(dropped.senderDataSecret());
      }
    } else {
      secretTree.close();
      SecretBytes.wipe(senderDataSecret);
    }
    for (byte[] b : List.of(initSecret, membershipKey, exporterSecret, externalSecret, epochAuthenticator)) {
      SecretBytes.wipe(b);
    }
    context = newContext;
    setSecrets(es);
    interimTranscriptHash = newInterim;
    confirmationTag = newConfirmationTag;
    for (PendingProposal p : proposals.values()) {
      SecretBytes.wipe(p.leafPriv());
    }
    proposals.clear();
  }

  /** Takes what this state keeps from {@code es} (and closes it). */
  void setSecrets(EpochSecrets es) {
    initSecret = es.initSecret();
    senderDataSecret = es.senderDataSecret();
    membershipKey = es.membershipKey();
    exporterSecret = es.exporterSecret();
    externalSecret = es.externalSecret();
    epochAuthenticator = es.epochAuthenticator();
    byte[] enc = es.encryptionSecret();
    secretTree = new SecretTree(cs, enc, leafCountPow2(tree.leafCount()), config.limits());
    SecretBytes.wipe(enc);
    resumptionPsks.put(context.epoch(), es.resumptionPsk());
    Iterator<Map.Entry<Long, byte[]>> it = resumptionPsks.entrySet().iterator();
    while (resumptionPsks.size() > RESUMPTION_PSK_WINDOW && it.hasNext()) {
      SecretBytes.wipe(it.next().getValue());
      it.remove();
    }
    es.close();
  }

  private static int leafCountPow2(int n) {
    int p = 1;
    while (p < n) {
      p <<= 1;
    }
    return p;
  }

  /**
   * Before this staged state replaces {@code live}: application messages processed since staging
   * advanced {@code live}'s secret trees in place (they need no copy), so this state takes those
   * trees over instead of its snapshot copies; otherwise a message consumed in between could be
   * accepted again. Handshake ratchets of the old epoch are not needed (its handshakes are refused
   * as WRONG_EPOCH).
   */
  void adoptApplicationRatchets(GroupState live) {
    if (context.epoch() == live.context.epoch()) {
      // Not advanced (a member that was removed): the live current epoch and window, as they are.
      secretTree.close();
      secretTree = live.secretTree;
      senderDataSecret = live.senderDataSecret.clone();
      past.forEach(p -> p.secretTree().close());
      past.clear();
      live.past.forEach(p -> past.addLast(p));
      return;
    }
    if (past.isEmpty()) {
      return; // no past-epoch window: nothing of the old epoch is kept
    }
    PastEpoch left = past.removeFirst(); // the epoch just left, from the snapshot
    left.secretTree().close();
    past.forEach(p -> p.secretTree().close());
    past.clear();
    past.addFirst(new PastEpoch(left.context(), left.tree(), live.secretTree, live.senderDataSecret.clone()));
    for (PastEpoch p : live.past) {
      if (past.size() < config.pastEpochs()) {
        past.addLast(p);
      } else {
        p.secretTree().close();
      }
    }
  }

  PastEpoch pastEpoch(long epoch) {
    for (PastEpoch p : past) {
      if (p.context().epoch() == epoch) {
        return p;
      }
    }
    return null;
  }

  List<Integer> members() {
    return new ArrayList<>(tree.members());
  }

  @Override
  public String toString() {
    return "GroupState[epoch " + Long.toUnsignedString(context.epoch()) + ", leaf " + ownLeaf + ", redacted]";
  }
}
