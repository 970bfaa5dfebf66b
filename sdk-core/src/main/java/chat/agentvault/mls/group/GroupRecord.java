package chat.agentvault.mls.group;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.Sha256;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.UnsupportedCipherSuiteException;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.PrivateMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.PublicMessage;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.mls.schedule.SecretTree;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeKem;
import chat.agentvault.mls.tree.TreeMath;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The persisted form of one member's whole {@link GroupState}: everything a restored member needs
 * to continue exactly (decrypt the next and the delayed application messages whose skipped keys
 * were kept, process and make commits, export the same secrets).
 *
 * <p><b>The record holds every secret of the group</b> (signature key, HPKE keys, epoch secrets,
 * ratchets): store it only encrypted (for instance in an {@code
 * EncryptedFileStore}), wipe copies after use, never log it.
 *
 * <p>Format version 2 (version 1, still read, is the same without {@code reinit} and {@code
 * pending_commit}):
 *
 * <pre>
 * opaque magic[4] = "AVGS";
 * uint8  version = 2;
 * State  state;
 * optional&lt;PendingCommit&gt; pending_commit;               // v2
 * opaque checksum[32];                                 // SHA-256 of everything before it
 *
 * struct {                                             // State
 * uint16 cipher_suite;
 * bool   private_handshakes; bool ratchet_tree_in_welcome;
 * uint32 out_of_order_tolerance; uint32 max_forward_distance; uint8 past_epochs;
 * uint32 own_leaf;
 * opaque signature_private_key&lt;V&gt;;
 * GroupContext context;
 * uint32 tree_node_width; optional&lt;Node&gt; ratchet_tree&lt;V&gt;;
 * struct { uint32 node; opaque hpke_private_key&lt;V&gt;; } private_keys&lt;V&gt;;   // ascending node
 * opaque init_secret&lt;V&gt;, sender_data_secret&lt;V&gt;, membership_key&lt;V&gt;,
 *        exporter_secret&lt;V&gt;, external_secret&lt;V&gt;, epoch_authenticator&lt;V&gt;;
 * SecretTree secret_tree;                              // SecretTree#writeTo
 * opaque interim_transcript_hash&lt;V&gt;;                 // empty at epoch 0 (§8.2)
 * optional&lt;opaque confirmation_tag&lt;V&gt;&gt;;
 * struct { opaque ref&lt;V&gt;; Proposal proposal; Sender sender;
 *          optional&lt;opaque leaf_private_key&lt;V&gt;&gt;; } proposals&lt;V&gt;;  // arrival order
 * struct { GroupContext context; uint32 tree_node_width; optional&lt;Node&gt; ratchet_tree&lt;V&gt;;
 *          SecretTree secret_tree; opaque sender_data_secret&lt;V&gt;; } past_epochs&lt;V&gt;; // newest first
 * struct { uint64 epoch; opaque resumption_psk&lt;V&gt;; } resumption_psks&lt;V&gt;;     // oldest first
 * bool   active;
 * optional&lt;Proposal&gt; reinit;                         // v2: the ReInit of the last commit
 * } State;
 *
 * struct {                                             // PendingCommit: an own commit, not merged
 * opaque commit&lt;V&gt;;                                  // the MLSMessage sent
 * optional&lt;opaque welcome&lt;V&gt;&gt;;                       // its MLSMessage Welcome
 * uint32 added&lt;V&gt;; uint32 removed&lt;V&gt;;                // leaf indices
 * State  next;                                         // the state of the new epoch
 * } PendingCommit;
 * </pre>
 *
 * The functions of {@link GroupConfig} (external PSK lookup, clock) are not stored: {@link #parse}
 * takes them from the caller's config. Parsing is total: a record is loaded whole or refused with
 * {@link GroupRecordFormatException}; counts and lengths are checked against the bytes left before
 * anything is allocated.
 */
final class GroupRecord {
  static final byte[] MAGIC = {'A', 'V', 'G', 'S'};
  static final int VERSION = 2;
  /** The oldest version {@link #parse} reads. */
  static final int OLDEST_VERSION = 1;
  private static final int CHECKSUM_LENGTH = 32;

  private GroupRecord() {}

  /** A parsed record: the state and, if one was stored, the own commit pending on it. */
  record Loaded(GroupState state, Group.CommitOutput pending) {}

  /** {@code s} and {@code pending} (null, or an own commit staged on {@code s}) as a record. */
  static byte[] serialize(GroupState s, Group.CommitOutput pending) {
    if (pending != null && pending.staged().base.lineage != s.lineage) {
      throw new IllegalArgumentException("the pending commit was not staged in this state's epoch");
    }
    TlsWriter w = new TlsWriter(pending == null ? 4096 : 8192);
    w.raw(MAGIC).u8(VERSION);
    writeState(w, s);
    w.optional(pending, (ww, p) -> {
      ww.opaque(p.commit().toByteArray());
      ww.optional(p.welcome(), (www, m) -> www.opaque(m.toByteArray()));
      ww.vector(p.added(), (www, i) -> www.u32(i));
      ww.vector(p.removed(), (www, i) -> www.u32(i));
      writeState(ww, p.staged().next);
    });
    byte[] body = w.toByteArray();
    byte[] out = Arrays.copyOf(body, body.length + CHECKSUM_LENGTH);
    System.arraycopy(Sha256.hash(body), 0, out, body.length, CHECKSUM_LENGTH);
    SecretBytes.wipe(body);
    return out;
  }

  private static void writeState(TlsWriter w, GroupState s) {
    w.u16(s.cs.id());
    GroupConfig c = s.config;
    w.bool(c.privateHandshakes()).bool(c.ratchetTreeInWelcome());
    w.u32(c.limits().outOfOrderTolerance()).u32(c.limits().maxForwardDistance()).u8(c.pastEpochs());
    w.u32(Integer.toUnsignedLong(s.ownLeaf)).opaque(s.signaturePriv);
    s.context.encode(w);
    writeTree(w, s.tree);
    w.vector(s.keys.nodes(), (ww, n) -> {
      byte[] k = s.keys.get(n);
      ww.u32(n).opaque(k);
      SecretBytes.wipe(k);
    });
    w.opaque(s.initSecret).opaque(s.senderDataSecret).opaque(s.membershipKey);
    w.opaque(s.exporterSecret).opaque(s.externalSecret).opaque(s.epochAuthenticator);
    s.secretTree.writeTo(w);
    w.opaque(s.interimTranscriptHash);
    w.optional(s.confirmationTag, TlsWriter::opaque);
    w.vector(s.proposals.entrySet(), (ww, e) -> {
      ww.opaque(e.getKey());
      e.getValue().proposal().encode(ww);
      e.getValue().sender().encode(ww);
      ww.optional(e.getValue().leafPriv(), TlsWriter::opaque);
    });
    w.vector(s.past, (ww, p) -> {
      p.context().encode(ww);
      writeTree(ww, p.tree());
      p.secretTree().writeTo(ww);
      ww.opaque(p.senderDataSecret());
    });
    w.vector(s.resumptionPsks.entrySet(), (ww, e) -> ww.u64(e.getKey()).opaque(e.getValue()));
    w.bool(s.active);
    w.optional(s.reinit, (ww, ri) -> ri.encode(ww));
  }

  private static void writeTree(TlsWriter w, RatchetTree t) {
    w.u32(t.nodeWidth());
    Node.encodeTree(w, t.toNodes());
  }

  private static RatchetTree readTree(TlsReader r, CipherSuite cs) {
    long width = r.u32();
    RatchetTree t = RatchetTree.fromNodes(cs, Node.decodeTree(r));
    if (t.nodeWidth() != width) {
      throw new DecodeException("ratchet tree width does not match");
    }
    return t;
  }

  /**
   * Loads a record of {@link #serialize} (format version 1 or 2); {@code config} supplies what is
   * not stored (external PSK lookup, clock), the stored settings replace its others.
   *
   * @throws GroupRecordFormatException UNSUPPORTED_VERSION for another magic-compatible version,
   *     CORRUPTED for anything else wrong
   */
  static Loaded parse(byte[] record, GroupConfig config) {
    Objects.requireNonNull(record, "record");
    Objects.requireNonNull(config, "config");
    if (record.length < MAGIC.length + 1 || !Arrays.equals(Arrays.copyOf(record, MAGIC.length), MAGIC)) {
      throw corrupted("not a group record", null);
    }
    int version = record[MAGIC.length] & 0xff;
    if (version < OLDEST_VERSION || version > VERSION) {
      throw new GroupRecordFormatException(
          GroupRecordFormatException.Reason.UNSUPPORTED_VERSION,
          "group record version " + version + " (this SDK reads " + OLDEST_VERSION + " to " + VERSION + ")");
    }
    int bodyLength = record.length - CHECKSUM_LENGTH;
    if (bodyLength <= MAGIC.length + 1) {
      throw corrupted("group record too short", null);
    }
    byte[] body = Arrays.copyOf(record, bodyLength);
    List<GroupState> read = new ArrayList<>(2); // wiped unless returned
    try {
      if (!MessageDigest.isEqual(Sha256.hash(body), Arrays.copyOfRange(record, bodyLength, record.length))) {
        throw corrupted("group record checksum mismatch", null);
      }
      TlsReader r = TlsReader.of(body);
      r.fixed(MAGIC.length + 1);
      GroupState s = readState(r, config, version, read);
      Group.CommitOutput pending = null;
      if (version >= 2) {
        pending = r.optional(rr -> readPending(rr, s, config, version, read));
      }
      r.finish();
      read.clear();
      return new Loaded(s, pending);
    } catch (DecodeException
        | UnsupportedCipherSuiteException
        | chat.agentvault.MessageRejectedException
        | IllegalArgumentException
        | IllegalStateException
        | NullPointerException
        | IndexOutOfBoundsException
        | ClassCastException e) {
      throw corrupted("group record does not decode", e);
    } finally {
      SecretBytes.wipe(body);
      for (GroupState s : read) {
        wipe(s);
      }
    }
  }

  private static Group.CommitOutput readPending(
      TlsReader r, GroupState base, GroupConfig config, int version, List<GroupState> read) {
    MlsMessage commit = TlsReader.decodeAll(r.opaque(), MlsMessage::decode);
    if (!(commit.body() instanceof PublicMessage) && !(commit.body() instanceof PrivateMessage)) {
      throw new DecodeException("pending commit is not a PublicMessage or PrivateMessage");
    }
    MlsMessage welcome = r.optional(rr -> TlsReader.decodeAll(rr.opaque(), MlsMessage::decode));
    if (welcome != null && !(welcome.body() instanceof Welcome)) {
      throw new DecodeException("pending commit's Welcome is not a Welcome");
    }
    List<Integer> added = r.vector(GroupRecord::leafIndex);
    List<Integer> removed = r.vector(GroupRecord::leafIndex);
    GroupState next = readState(r, config, version, read);
    if (next.cs != base.cs
        || next.ownLeaf != base.ownLeaf
        || !next.groupId().equals(base.groupId())
        || next.epoch() != base.epoch() + 1) {
      throw new DecodeException("pending commit does not follow the stored state");
    }
    return new Group.CommitOutput(commit, welcome, new Processed.StagedCommit(base, next), added, removed);
  }

  private static int leafIndex(TlsReader r) {
    long i = r.u32();
    if (i > Integer.MAX_VALUE) {
      throw new DecodeException("leaf index out of range");
    }
    return (int) i;
  }

  /** One State; added to {@code read} as soon as it holds secrets, so a failure wipes it. */
  private static GroupState readState(TlsReader r, GroupConfig config, int version, List<GroupState> read) {
    CipherSuite cs = CipherSuites.forId(r.u16());
    boolean privateHandshakes = r.bool();
    boolean treeInWelcome = r.bool();
    long tolerance = r.u32();
    long forward = r.u32();
    int pastEpochs = r.u8();
    if (tolerance > Integer.MAX_VALUE || forward > Integer.MAX_VALUE) {
      throw new DecodeException("limits out of range");
    }
    GroupConfig cfg =
        new GroupConfig(
            privateHandshakes,
            treeInWelcome,
            config.externalPsks(),
            config.clockSeconds(),
            new SecretTree.Limits((int) tolerance, (int) forward),
            pastEpochs);
    long ownLeaf = r.u32();
    byte[] sig = r.opaque().toByteArray();
    GroupState s = new GroupState(cs, cfg, (int) Math.min(ownLeaf, Integer.MAX_VALUE), sig);
    read.add(s);
    SecretBytes.wipe(sig);
    s.context = GroupContext.decode(r);
    if (s.context.cipherSuite() != cs.id()) {
      throw new DecodeException("context cipher suite differs");
    }
    s.tree = readTree(r, cs);
    if (ownLeaf >= s.tree.leafCount()) {
      throw new DecodeException("own leaf outside the tree");
    }
    int leafNode = TreeMath.leafToNode((int) ownLeaf);
    int width = s.tree.nodeWidth();
    List<Object[]> keyEntries =
        r.vector(rr -> {
          long n = rr.u32();
          byte[] k = rr.opaque().toByteArray();
          if (n >= width) {
            SecretBytes.wipe(k);
            throw new DecodeException("private key node outside the tree");
          }
          return new Object[] {(int) n, k};
        });
    byte[] leafKey = new byte[0];
    for (Object[] e : keyEntries) {
      if ((int) e[0] == leafNode) {
        leafKey = (byte[]) e[1];
      }
    }
    TreeKem.PrivateKeys keys = new TreeKem.PrivateKeys((int) ownLeaf, leafKey);
    if (leafKey.length == 0) {
      keys.remove(leafNode);
    }
    List<Integer> seen = new ArrayList<>();
    for (Object[] e : keyEntries) {
      if (seen.contains((Integer) e[0])) {
        throw new DecodeException("duplicate private key node");
      }
      seen.add((Integer) e[0]);
      keys.put((int) e[0], (byte[]) e[1]);
      SecretBytes.wipe((byte[]) e[1]);
    }
    s.keys = keys;
    int h = cs.hashLength();
    s.initSecret = secret(r, h);
    s.senderDataSecret = secret(r, h);
    s.membershipKey = secret(r, h);
    s.exporterSecret = secret(r, h);
    s.externalSecret = secret(r, h);
    s.epochAuthenticator = secret(r, h);
    s.secretTree = SecretTree.readFrom(r, cs, cfg.limits());
    if (s.secretTree.leafCount() < s.tree.leafCount()) {
      throw new DecodeException("secret tree smaller than the ratchet tree");
    }
    // §8.2: interim_transcript_hash_[0] = "", so a group at epoch 0 has an empty one.
    s.interimTranscriptHash = s.context.epoch() == 0 ? r.opaque().toByteArray() : secret(r, h);
    if (s.interimTranscriptHash.length != 0 && s.interimTranscriptHash.length != h) {
      throw new DecodeException("interim transcript hash of the wrong length");
    }
    s.confirmationTag = r.optional(TlsReader::opaque);
    GroupState st = s;
    r.vector(rr -> {
      Bytes ref = rr.opaque();
      Proposal p = Proposal.decode(rr);
      Sender sender = Sender.decode(rr);
      Bytes leafPriv = rr.optional(TlsReader::opaque);
      if (st.proposals.containsKey(ref)) {
        throw new DecodeException("duplicate proposal reference");
      }
      st.proposals.put(
          ref, new GroupState.PendingProposal(p, sender, leafPriv == null ? null : leafPriv.toByteArray()));
      return ref;
    });
    r.vector(rr -> {
      GroupContext ctx = GroupContext.decode(rr);
      RatchetTree t = readTree(rr, cs);
      SecretTree sec = SecretTree.readFrom(rr, cs, cfg.limits());
      byte[] sds = secret(rr, h);
      st.past.addLast(new GroupState.PastEpoch(ctx, t, sec, sds));
      return ctx;
    });
    if (s.past.size() > cfg.pastEpochs()) {
      throw new DecodeException("more past epochs than configured");
    }
    r.vector(rr -> {
      long epoch = rr.u64();
      byte[] psk = secret(rr, h);
      if (st.resumptionPsks.put(epoch, psk) != null) {
        throw new DecodeException("duplicate resumption PSK epoch");
      }
      return epoch;
    });
    if (s.resumptionPsks.size() > GroupState.RESUMPTION_PSK_WINDOW) {
      throw new DecodeException("too many resumption PSKs");
    }
    s.active = r.bool();
    if (version >= 2) {
      Proposal ri = r.optional(Proposal::decode);
      if (ri != null && !(ri instanceof Proposal.ReInit)) {
        throw new DecodeException("reinit is not a ReInit proposal");
      }
      s.reinit = (Proposal.ReInit) ri;
      if (s.reinit != null && s.active) {
        throw new DecodeException("an active group with a committed ReInit");
      }
    }
    return s;
  }

  private static byte[] secret(TlsReader r, int length) {
    Bytes b = r.opaque();
    if (b.length() != length) {
      throw new DecodeException("secret of the wrong length");
    }
    return b.toByteArray();
  }

  /** Wipes what a partially read state holds. */
  private static void wipe(GroupState s) {
    for (byte[] b :
        Arrays.asList(
            s.initSecret, s.senderDataSecret, s.membershipKey, s.exporterSecret, s.externalSecret,
            s.epochAuthenticator, s.interimTranscriptHash, s.signaturePriv)) {
      SecretBytes.wipe(b);
    }
    if (s.keys != null) {
      s.keys.close();
    }
    if (s.secretTree != null) {
      s.secretTree.close();
    }
    for (GroupState.PastEpoch p : s.past) {
      p.secretTree().close();
      SecretBytes.wipe(p.senderDataSecret());
    }
    for (Map.Entry<Long, byte[]> e : s.resumptionPsks.entrySet()) {
      SecretBytes.wipe(e.getValue());
    }
    for (GroupState.PendingProposal p : s.proposals.values()) {
      SecretBytes.wipe(p.leafPriv());
    }
  }

  private static GroupRecordFormatException corrupted(String message, Throwable cause) {
    return new GroupRecordFormatException(GroupRecordFormatException.Reason.CORRUPTED, message, cause);
  }
}
