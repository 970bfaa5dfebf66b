package chat.agentvault.mls.tree;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.HpkeCiphertext;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.ParentNode;
import chat.agentvault.mls.message.UpdatePath;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A test-only MLS group reduced to its ratchet tree: every member keeps its own {@link
 * RatchetTree} and {@link TreeKem.PrivateKeys}, proposals are applied by each member separately,
 * commits go through {@link TreeKem}, joiners take the Welcome route (§12.4.3.1). Next to the
 * production state each member keeps a mirror of the path secrets it learnt, derived here from the
 * RFC text (§7.4), against which the production private keys are checked.
 *
 * <p>Every commit is checked against the RFC (see {@link #checkAll()} and the checks in {@link
 * #commitWithPath}); a failing check throws an AssertionError naming the epoch and member.
 */
public final class TreeKemGroup {
  public final CipherSuite cs;
  public final Bytes groupId;
  private long epoch;
  private Bytes confirmedTranscriptHash;
  private final TreeMap<Integer, Member> members = new TreeMap<>();
  private int names;
  /** Commits made so far (with and without path). */
  public int commits;

  /** One member's state. */
  public static final class Member {
    public final String name;
    public final int leaf;
    public final byte[] signaturePriv;
    public final Bytes signaturePub;
    public final Credential credential;
    public RatchetTree tree;
    public TreeKem.PrivateKeys keys;
    /** Test mirror (§7.4): node index to the path secret this member knows for it. */
    public final TreeMap<Integer, byte[]> pathSecrets = new TreeMap<>();

    Member(Candidate c, int leaf, RatchetTree tree) {
      this.name = c.name;
      this.leaf = leaf;
      this.signaturePriv = c.signaturePriv;
      this.signaturePub = c.signaturePub;
      this.credential = c.credential;
      this.tree = tree;
      this.keys = new TreeKem.PrivateKeys(leaf, c.hpkePriv);
    }

    public int node() {
      return TreeMath.leafToNode(leaf);
    }

    @Override
    public String toString() {
      return name + "@leaf" + leaf;
    }
  }

  /** A key package's worth of keys: not yet in the group. */
  public static final class Candidate {
    public final String name;
    public final byte[] signaturePriv;
    public final Bytes signaturePub;
    public final Credential credential;
    public final byte[] hpkePriv;
    public final LeafNode leaf;

    Candidate(TreeKemGroup g, String name) {
      this.name = name;
      try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate();
          SecretBytes seed = sk.seed()) {
        this.signaturePriv = seed.copyOfSecret();
        this.signaturePub = Bytes.wrap(sk.publicKey().toByteArray());
      }
      this.credential = Credential.basic(Bytes.wrap(name.getBytes(StandardCharsets.UTF_8)));
      byte[][] kp = g.cs.deriveKeyPair(Csprng.randomBytes(32));
      this.hpkePriv = kp[0];
      LeafNode unsigned =
          new LeafNode(
              Bytes.wrap(kp[1]),
              signaturePub,
              credential,
              g.capabilities(),
              Codes.LEAF_SOURCE_KEY_PACKAGE,
              new chat.agentvault.mls.message.Lifetime(0, 1L << 62),
              null,
              List.of(),
              Bytes.EMPTY);
      this.leaf = g.sign(unsigned, 0, signaturePriv);
    }
  }

  /** Proposals applied by everyone, the commit not made yet. */
  public final class Pending {
    public final Member committer;
    public final List<Integer> removed;
    public final Map<Integer, Candidate> joiners; // leaf index -> candidate
    public final Set<Integer> excluded;
    public final RatchetTree treeBefore; // after the proposals, before the path

    Pending(Member committer, List<Integer> removed, Map<Integer, Candidate> joiners) {
      this.committer = committer;
      this.removed = removed;
      this.joiners = joiners;
      this.excluded = Set.copyOf(joiners.keySet());
      this.treeBefore = committer.tree.copy();
    }

    public Function<byte[], byte[]> context() {
      return contextFor(epoch + 1);
    }

    public TreeKemGroup group() {
      return TreeKemGroup.this;
    }
  }

  /** What a commit with a path produced. */
  public record Outcome(
      Member committer,
      int[] fdp,
      TreeKem.Created created,
      byte[] context,
      Map<Integer, TreeKem.Applied> applied,
      Set<Integer> joined) {}

  public TreeKemGroup(CipherSuite cs) {
    this.cs = cs;
    this.groupId = Bytes.wrap(Csprng.randomBytes(16));
    this.confirmedTranscriptHash = Bytes.wrap(Csprng.randomBytes(cs.hashLength()));
    Candidate c = candidate();
    members.put(0, new Member(c, 0, RatchetTree.create(cs, c.leaf)));
    checkAll();
  }

  public long epoch() {
    return epoch;
  }

  public Bytes confirmedTranscriptHash() {
    return confirmedTranscriptHash;
  }

  public Capabilities capabilities() {
    return new Capabilities(List.of(Codes.MLS10), List.of(cs.id()), List.of(), List.of(), List.of());
  }

  public Candidate candidate() {
    return new Candidate(this, "m" + names++);
  }

  public List<Integer> leaves() {
    return new ArrayList<>(members.keySet());
  }

  public Member member(int leaf) {
    Member m = members.get(leaf);
    if (m == null) {
      throw new IllegalArgumentException("no member at leaf " + leaf);
    }
    return m;
  }

  public int size() {
    return members.size();
  }

  public RatchetTree tree() {
    return members.firstEntry().getValue().tree;
  }

  /** GroupContext{version, suite, group id, epoch, tree hash, confirmed transcript hash, []}. */
  public Function<byte[], byte[]> contextFor(long ep) {
    Bytes cth = confirmedTranscriptHash;
    return th ->
        new GroupContext(Codes.MLS10, cs.id(), groupId, ep, Bytes.wrap(th), cth, List.of()).toByteArray();
  }

  /** Signs a LeafNode (LeafNodeTBS, §7.2). */
  public LeafNode sign(LeafNode unsigned, int leafIndex, byte[] signaturePriv) {
    byte[] tbs = unsigned.toBeSigned(groupId, leafIndex);
    return unsigned.withSignature(Bytes.wrap(MlsCrypto.signWithLabel(cs, signaturePriv, "LeafNodeTBS", tbs)));
  }

  /** A commit leaf for {@code m}: same credential and signature key, new key and parent hash. */
  public LeafNode commitLeaf(Member m, Bytes encryptionKey, Bytes parentHash) {
    LeafNode unsigned =
        new LeafNode(
            encryptionKey,
            m.signaturePub,
            m.credential,
            capabilities(),
            Codes.LEAF_SOURCE_COMMIT,
            null,
            parentHash,
            List.of(),
            Bytes.EMPTY);
    return sign(unsigned, m.leaf, m.signaturePriv);
  }

  public TreeKem.LeafSigner signer(Member m) {
    return (enc, ph) -> commitLeaf(m, enc, ph);
  }

  // ---- proposals ----

  /** Applies Removes then Adds (§12.3 order) to every remaining member's own tree. */
  public Pending propose(int committerLeaf, List<Integer> removes, int adds) {
    Member committer = member(committerLeaf);
    if (removes.contains(committerLeaf)) {
      throw new IllegalArgumentException("committer cannot remove itself");
    }
    for (int r : removes) {
      member(r);
    }
    for (int r : removes) {
      members.remove(r);
    }
    List<Candidate> cands = new ArrayList<>();
    for (int i = 0; i < adds; i++) {
      cands.add(candidate());
    }
    Map<Integer, Candidate> joiners = new LinkedHashMap<>();
    List<Integer> committerIdx = null;
    List<Member> order = new ArrayList<>();
    order.add(committer);
    members.values().stream().filter(m -> m != committer).forEach(order::add);
    for (Member m : order) {
      for (int r : removes) {
        m.tree.removeLeaf(r);
      }
      List<Integer> idx = new ArrayList<>();
      for (Candidate c : cands) {
        idx.add(m.tree.addLeaf(c.leaf));
      }
      if (committerIdx == null) {
        committerIdx = idx;
      } else {
        assertThat(idx).as("leaf indices of adds seen by %s", m).isEqualTo(committerIdx);
      }
      // Test mirror: path secrets of nodes blanked or cut off are gone (they were deleted, §7.5).
      m.pathSecrets.keySet().removeIf(n -> n >= m.tree.nodeWidth() || m.tree.isBlank(n));
    }
    for (int i = 0; i < cands.size(); i++) {
      joiners.put(committerIdx.get(i), cands.get(i));
    }
    return new Pending(committer, List.copyOf(removes), joiners);
  }

  // ---- commits ----

  /** A commit without path: joiners get only their leaf key; commit_secret is zero (§12.4.2). */
  public void commitWithoutPath(Pending p) {
    if (!p.removed.isEmpty()) {
      throw new IllegalArgumentException("a Remove requires a path (§12.4)");
    }
    for (var e : p.joiners.entrySet()) {
      members.put(e.getKey(), new Member(e.getValue(), e.getKey(), welcomeTree(p.committer)));
    }
    epoch++;
    commits++;
    confirmedTranscriptHash = Bytes.wrap(Csprng.randomBytes(cs.hashLength()));
    checkAll();
  }

  /** Convenience: propose and commit with a path. */
  public Outcome commit(int committerLeaf, List<Integer> removes, int adds) {
    return commitWithPath(propose(committerLeaf, removes, adds));
  }

  /** Commit by {@code leaf} without proposals. */
  public Outcome update(int leaf) {
    return commit(leaf, List.of(), 0);
  }

  public Outcome commitWithPath(Pending p) {
    Member c = p.committer;
    String at = "epoch " + epoch + " commit by " + c;
    Function<byte[], byte[]> ctx = p.context();
    int[] fdp = c.tree.filteredDirectPath(c.leaf);
    Map<Integer, TreeKem.PrivateKeys> keysBefore = new TreeMap<>();
    for (Member m : members.values()) {
      keysBefore.put(m.leaf, m.keys.copy());
    }
    Bytes oldLeafKey = c.tree.leaf(c.leaf).encryptionKey();

    TreeKem.Created created = TreeKem.createUpdatePath(c.tree, c.keys, signer(c), p.excluded, ctx);
    byte[] context = ctx.apply(c.tree.treeHash());
    UpdatePath path = created.path();

    // Shape (§7.5, §7.6): one node per filtered direct-path node, same fdp after the merge.
    assertThat(c.tree.filteredDirectPath(c.leaf)).as(at + ": fdp unchanged by the merge").isEqualTo(fdp);
    assertThat(path.nodes()).as(at + ": path nodes").hasSize(fdp.length);
    assertThat(created.pathSecrets()).as(at + ": path secrets").hasSize(fdp.length);
    assertThat(path.leafNode().encryptionKey()).as(at + ": fresh leaf key").isNotEqualTo(oldLeafKey);
    // Every direct-path node not in the fdp is blank, every fdp node holds the path's key, no unmerged leaves.
    Set<Integer> fdpSet = new HashSet<>();
    for (int n : fdp) {
      fdpSet.add(n);
    }
    for (int n : TreeMath.directPath(c.node(), c.tree.leafCount())) {
      if (fdpSet.contains(n)) {
        assertThat(c.tree.parent(n).unmergedLeaves()).as(at + ": unmerged of %d", n).isEmpty();
      } else {
        assertThat(c.tree.isBlank(n)).as(at + ": skipped node %d blank", n).isTrue();
      }
    }
    // Path secrets chain (§7.4) and public keys.
    byte[] expectCommit = null;
    for (int i = 0; i < fdp.length; i++) {
      byte[] ps = created.pathSecrets().get(i);
      if (i > 0) {
        assertThat(ps).as(at + ": path_secret[%d]", i)
            .isEqualTo(MlsCrypto.deriveSecret(cs, created.pathSecrets().get(i - 1), "path"));
      }
      byte[][] kp = cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, ps, "node"));
      assertThat(path.nodes().get(i).encryptionKey().toByteArray()).as(at + ": node_pub[%d]", i).isEqualTo(kp[1]);
      assertThat(c.tree.parent(fdp[i]).encryptionKey().toByteArray()).isEqualTo(kp[1]);
      expectCommit = MlsCrypto.deriveSecret(cs, ps, "path");
    }
    if (expectCommit != null) {
      assertThat(created.commitSecret()).as(at + ": commit_secret = path_secret[n+1]").isEqualTo(expectCommit);
    }
    // Committer's leaf: commit source, valid signature, parent hash of the first fdp node (§7.9).
    checkCommitterLeaf(c, fdp, path.leafNode(), at);
    // Who receives what (§7.5, §7.6): each ciphertext decrypts under the key of its resolution node.
    checkCiphertexts(p, c, fdp, created, context, keysBefore, at);

    // Committer's mirror.
    for (int n : TreeMath.directPath(c.node(), c.tree.leafCount())) {
      c.pathSecrets.remove(n);
    }
    for (int i = 0; i < fdp.length; i++) {
      c.pathSecrets.put(fdp[i], created.pathSecrets().get(i));
    }

    // Every other member processes the path, received over the wire.
    UpdatePath wire = TlsReader.decodeAll(TlsWriter.encode(path, (w, x) -> x.encode(w)), UpdatePath::decode);
    assertThat(wire).isEqualTo(path);
    Map<Integer, TreeKem.Applied> applied = new TreeMap<>();
    for (Member m : members.values()) {
      if (m == c) {
        continue;
      }
      TreeKem.Applied a = TreeKem.applyUpdatePath(m.tree, c.leaf, wire, m.keys, p.excluded, ctx);
      applied.put(m.leaf, a);
      int idx = decryptIndex(fdp, c.node(), m.node());
      assertThat(a.commitSecret()).as(at + ": commit secret of %s", m).isEqualTo(created.commitSecret());
      assertThat(a.pathSecretNode()).as(at + ": path secret node of %s", m).isEqualTo(fdp[idx]);
      assertThat(a.pathSecret()).as(at + ": path secret of %s", m).isEqualTo(created.pathSecrets().get(idx));
      for (int n : TreeMath.directPath(c.node(), m.tree.leafCount())) {
        m.pathSecrets.remove(n);
      }
      for (int i = idx; i < fdp.length; i++) {
        m.pathSecrets.put(fdp[i], created.pathSecrets().get(i));
      }
    }

    // Joiners: Welcome route, path secret of the LCA with the committer (§12.4.3.1).
    for (var e : p.joiners.entrySet()) {
      Member j = new Member(e.getValue(), e.getKey(), welcomeTree(c));
      int lca = TreeMath.commonAncestor(j.node(), c.node());
      int idx = indexIn(fdp, lca);
      assertThat(idx).as(at + ": LCA %d of joiner %s is on the fdp", lca, j).isGreaterThanOrEqualTo(0);
      assertThat(decryptIndex(fdp, c.node(), j.node())).isEqualTo(idx);
      int[] from = Arrays.copyOfRange(fdp, idx, fdp.length);
      byte[] cs2 = TreeKem.derivePathKeys(j.tree, j.keys, from, created.pathSecrets().get(idx));
      assertThat(cs2).as(at + ": joiner %s commit secret", j).isEqualTo(created.commitSecret());
      for (int i = idx; i < fdp.length; i++) {
        j.pathSecrets.put(fdp[i], created.pathSecrets().get(i));
      }
      members.put(j.leaf, j);
    }
    epoch++;
    commits++;
    confirmedTranscriptHash = Bytes.wrap(Csprng.randomBytes(cs.hashLength()));
    checkAll();
    return new Outcome(c, fdp, created, context, applied, p.joiners.keySet());
  }

  /** The ratchet_tree a joiner gets in the Welcome: the committer's tree, through the wire encoding. */
  private RatchetTree welcomeTree(Member committer) {
    return RatchetTree.fromNodes(cs, TlsReader.decodeAll(committer.tree.encode(), Node::decodeTree));
  }

  /** The index in the fdp of the first node whose copath child contains {@code memberNode}. */
  public static int decryptIndex(int[] fdp, int senderNode, int memberNode) {
    for (int i = 0; i < fdp.length; i++) {
      int left = TreeMath.left(fdp[i]);
      int right = TreeMath.right(fdp[i]);
      int copath = TreeMath.isInSubtree(left, senderNode) ? right : left;
      if (TreeMath.isInSubtree(copath, memberNode)) {
        return i;
      }
    }
    throw new AssertionError("member node " + memberNode + " under no copath child of " + Arrays.toString(fdp));
  }

  private static int indexIn(int[] a, int v) {
    for (int i = 0; i < a.length; i++) {
      if (a[i] == v) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Parent hash (§7.9): Hash(ParentHashInput{encryption_key, parent_hash, original_sibling_tree_hash}),
   * written out here from the struct definition, independently of RatchetTree.parentHash.
   */
  public byte[] parentHashOf(Bytes encryptionKey, Bytes parentHash, byte[] siblingTreeHash) {
    TlsWriter w = new TlsWriter();
    w.opaque(encryptionKey).opaque(parentHash).opaque(siblingTreeHash);
    return cs.hash(w.toByteArray());
  }

  private void checkCommitterLeaf(Member c, int[] fdp, LeafNode leaf, String at) {
    assertThat(leaf.source()).isEqualTo(Codes.LEAF_SOURCE_COMMIT);
    assertThat(c.tree.leaf(c.leaf)).isEqualTo(leaf);
    verifyLeafSignature(leaf, c.leaf, at);
    // Parent-hash chain, root down: root has an empty parent hash, each fdp node the hash of the next.
    byte[] above = new byte[0];
    for (int i = fdp.length - 1; i >= 0; i--) {
      ParentNode pn = c.tree.parent(fdp[i]);
      assertThat(pn.parentHash().toByteArray()).as(at + ": parent_hash of node %d", fdp[i]).isEqualTo(above);
      int sib = RatchetTree.copathChild(fdp[i], c.node());
      above = parentHashOf(pn.encryptionKey(), pn.parentHash(), c.tree.treeHash(sib));
    }
    assertThat(leaf.parentHash().toByteArray()).as(at + ": leaf parent hash").isEqualTo(above);
    if (fdp.length > 0) {
      assertThat(leaf.parentHash().toByteArray())
          .isEqualTo(c.tree.parentHash(fdp[0], RatchetTree.copathChild(fdp[0], c.node())));
    }
  }

  public void verifyLeafSignature(LeafNode leaf, int leafIndex, String at) {
    try {
      MlsCrypto.verifyWithLabel(
          cs, leaf.signatureKey().toByteArray(), "LeafNodeTBS", leaf.toBeSigned(groupId, leafIndex),
          leaf.signature().toByteArray());
    } catch (java.security.GeneralSecurityException e) {
      throw new AssertionError(at + ": signature of leaf " + leafIndex + " does not verify", e);
    }
  }

  private void checkCiphertexts(
      Pending p, Member c, int[] fdp, TreeKem.Created created, byte[] context,
      Map<Integer, TreeKem.PrivateKeys> keysBefore, String at) {
    RatchetTree before = p.treeBefore;
    for (int i = 0; i < fdp.length; i++) {
      int copath = RatchetTree.copathChild(fdp[i], c.node());
      List<Integer> targets = new ArrayList<>();
      for (int n : before.resolution(copath)) {
        if (!(TreeMath.isLeaf(n) && p.excluded.contains(TreeMath.nodeToLeaf(n)))) {
          targets.add(n);
        }
      }
      List<HpkeCiphertext> cts = created.path().nodes().get(i).encryptedPathSecret();
      assertThat(cts).as(at + ": ciphertexts of node %d (resolution of %d minus joiners: %s)", fdp[i], copath, targets)
          .hasSize(targets.size());
      for (int j = 0; j < targets.size(); j++) {
        int target = targets.get(j);
        byte[] priv = null;
        for (TreeKem.PrivateKeys k : keysBefore.values()) {
          priv = k.get(target);
          if (priv != null) {
            break;
          }
        }
        assertThat(priv).as(at + ": some member holds the key of resolution node %d", target).isNotNull();
        byte[] pub = TreeMath.isLeaf(target)
            ? before.leaf(TreeMath.nodeToLeaf(target)).encryptionKey().toByteArray()
            : before.parent(target).encryptionKey().toByteArray();
        assertThat(publicOf(priv)).isEqualTo(pub);
        HpkeCiphertext ct = cts.get(j);
        byte[] pt;
        try {
          pt = MlsCrypto.decryptWithLabel(
              cs, priv, "UpdatePathNode", context, ct.kemOutput().toByteArray(), ct.ciphertext().toByteArray());
        } catch (java.security.GeneralSecurityException e) {
          throw new AssertionError(at + ": ciphertext " + j + " of node " + fdp[i] + " not for node " + target, e);
        }
        assertThat(pt).as(at + ": E(pk(%d), path_secret[%d])", target, i).isEqualTo(created.pathSecrets().get(i));
      }
    }
  }

  /** X25519 public key of a private key (suites 1 and 3). */
  public static byte[] publicOf(byte[] priv) {
    try (X25519PrivateKey k = X25519PrivateKey.of(priv)) {
      return k.publicKey().toByteArray();
    }
  }

  // ---- invariants ----

  /**
   * After every epoch: all trees identical (encoding, cached and fresh tree hash), parent hashes
   * valid, signatures valid, members are exactly the non-blank leaves, and every member's private
   * state is exactly what the tree invariant (§4.2) allows.
   */
  public void checkAll() {
    String at = "after epoch " + epoch;
    Member first = members.firstEntry().getValue();
    byte[] enc = first.tree.encode();
    RatchetTree fresh = RatchetTree.fromNodes(cs, TlsReader.decodeAll(enc, Node::decodeTree));
    byte[] th = fresh.treeHash();
    for (Member m : members.values()) {
      assertThat(m.tree.encode()).as(at + ": tree of %s", m).isEqualTo(enc);
      assertThat(m.tree.treeHash()).as(at + ": (cached) tree hash of %s", m).isEqualTo(th);
      assertThat(m.tree.nodeWidth()).isEqualTo(fresh.nodeWidth());
    }
    assertThat(fresh.members()).as(at + ": non-blank leaves").containsExactlyElementsOf(members.keySet());
    assertThat(first.tree.parentHashesValid()).as(at + ": parent hashes valid").isTrue();
    assertThat(fresh.parentHashesValid()).isTrue();
    // §7.7 truncation: the rightmost leaf of a tree of more than one leaf is in its right half.
    if (fresh.leafCount() > 1) {
      assertThat(members.lastKey()).as(at + ": tree truncated").isGreaterThanOrEqualTo(fresh.leafCount() / 2);
    }
    for (int leaf : fresh.members()) {
      verifyLeafSignature(fresh.leaf(leaf), leaf, at);
    }
    for (Member m : members.values()) {
      checkInvariant(m, at);
    }
  }

  /** The private keys {@code m} should hold: its leaf, and the non-blank direct-path nodes where it is merged. */
  public static Set<Integer> entitledNodes(RatchetTree t, int leaf) {
    Set<Integer> out = new TreeSet<>();
    int node = TreeMath.leafToNode(leaf);
    out.add(node);
    for (int p : TreeMath.directPath(node, t.leafCount())) {
      ParentNode pn = t.parent(p);
      if (pn != null && !pn.unmergedLeaves().contains(leaf)) {
        out.add(p);
      }
    }
    return out;
  }

  private void checkInvariant(Member m, String at) {
    Set<Integer> expected = entitledNodes(m.tree, m.leaf);
    assertThat(m.keys.nodes()).as(at + ": private key nodes of %s", m).containsExactlyElementsOf(expected);
    for (int n : m.keys.nodes()) {
      byte[] pub = TreeMath.isLeaf(n)
          ? m.tree.leaf(TreeMath.nodeToLeaf(n)).encryptionKey().toByteArray()
          : m.tree.parent(n).encryptionKey().toByteArray();
      assertThat(publicOf(m.keys.get(n))).as(at + ": key of node %d held by %s", n, m).isEqualTo(pub);
    }
    Set<Integer> parents = new TreeSet<>(expected);
    parents.remove(m.node());
    assertThat(m.pathSecrets.keySet()).as(at + ": path secrets known to %s", m).containsExactlyElementsOf(parents);
    for (var e : m.pathSecrets.entrySet()) {
      byte[][] kp = cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, e.getValue(), "node"));
      assertThat(m.keys.get(e.getKey())).as(at + ": key of %d from its path secret", e.getKey()).isEqualTo(kp[0]);
    }
  }
}
