package chat.agentvault.mls.tree;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.ParentNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The public ratchet tree of a group (RFC 9420 §4, §7): a complete binary tree in array form whose
 * nodes are {@link LeafNode}s, {@link ParentNode}s or blank ({@code null}).
 *
 * <p>Tree hashes are cached per node; a change invalidates the changed node and its ancestors only,
 * so a commit that rewrites one path rehashes O(log n) nodes, not the whole tree. Not thread-safe.
 * No private key lives here (see {@link TreeKem}).
 */
public final class RatchetTree {
  private final CipherSuite suite;
  private Node[] nodes;
  private byte[][] hashCache;

  private RatchetTree(CipherSuite suite, Node[] nodes) {
    this.suite = suite;
    this.nodes = nodes;
    this.hashCache = new byte[nodes.length][];
  }

  /** A one-member tree. */
  public static RatchetTree create(CipherSuite suite, LeafNode creator) {
    return new RatchetTree(suite, new Node[] {Node.of(creator)});
  }

  /**
   * A tree from the {@code ratchet_tree} representation (§12.4.3.3), whose trailing blank nodes may
   * be omitted: padded to the smallest complete tree. The caller validates it ({@link
   * TreeValidation}).
   *
   * @throws MessageRejectedException MALFORMED for an empty list, a leaf at an odd position, a
   *     parent at an even one, or a last node that is blank
   */
  public static RatchetTree fromNodes(CipherSuite suite, List<Node> list) {
    if (list.isEmpty()) {
      throw new MessageRejectedException(Reason.MALFORMED, "ratchet tree is empty");
    }
    if (list.get(list.size() - 1) == null) {
      throw new MessageRejectedException(Reason.MALFORMED, "ratchet tree ends with a blank node (§12.4.3.3)");
    }
    int leaves = (list.size() + 1) / 2;
    int n = 1;
    while (n < leaves) {
      n <<= 1;
    }
    Node[] nodes = new Node[TreeMath.nodeWidth(n)];
    for (int i = 0; i < list.size(); i++) {
      Node node = list.get(i);
      if (node != null && node.isLeaf() != TreeMath.isLeaf(i)) {
        throw new MessageRejectedException(Reason.MALFORMED, "node " + i + " has the wrong type");
      }
      nodes[i] = node;
    }
    return new RatchetTree(suite, nodes);
  }

  /** The {@code ratchet_tree} representation: trailing blank nodes removed. */
  public List<Node> toNodes() {
    int end = nodes.length;
    while (end > 0 && nodes[end - 1] == null) {
      end--;
    }
    return Collections.unmodifiableList(new ArrayList<>(Arrays.asList(nodes).subList(0, end)));
  }

  public byte[] encode() {
    return TlsWriter.encode(toNodes(), Node::encodeTree);
  }

  public RatchetTree copy() {
    RatchetTree t = new RatchetTree(suite, nodes.clone());
    t.hashCache = hashCache.clone(); // cached arrays are never mutated, only replaced
    return t;
  }

  public CipherSuite suite() {
    return suite;
  }

  public int leafCount() {
    return (nodes.length + 1) / 2;
  }

  public int nodeWidth() {
    return nodes.length;
  }

  public Node node(int index) {
    return nodes[index];
  }

  public boolean isBlank(int index) {
    return nodes[index] == null;
  }

  /** The leaf at {@code leafIndex}, or null when blank or outside the tree. */
  public LeafNode leaf(int leafIndex) {
    if (leafIndex < 0 || leafIndex >= leafCount()) {
      return null;
    }
    Node n = nodes[TreeMath.leafToNode(leafIndex)];
    return n == null ? null : n.leaf();
  }

  public ParentNode parent(int nodeIndex) {
    Node n = nodes[nodeIndex];
    return n == null ? null : n.parent();
  }

  /** Leaf indices of non-blank leaves, ascending. */
  public List<Integer> members() {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < leafCount(); i++) {
      if (nodes[2 * i] != null) {
        out.add(i);
      }
    }
    return out;
  }

  // ---- mutation (each invalidates the cached hashes of the node and its ancestors) ----

  public void setLeaf(int leafIndex, LeafNode leaf) {
    set(TreeMath.leafToNode(leafIndex), leaf == null ? null : Node.of(leaf));
  }

  public void setParent(int nodeIndex, ParentNode parent) {
    set(nodeIndex, parent == null ? null : Node.of(parent));
  }

  private void set(int index, Node node) {
    nodes[index] = node;
    invalidate(index);
  }

  private void invalidate(int index) {
    int n = leafCount();
    int root = TreeMath.root(n);
    int x = index;
    hashCache[x] = null;
    while (x != root) {
      x = TreeMath.parent(x, n);
      hashCache[x] = null;
    }
  }

  /** Blanks every node on the direct path of a leaf (not the leaf). */
  public void blankDirectPath(int leafIndex) {
    for (int p : TreeMath.directPath(TreeMath.leafToNode(leafIndex), leafCount())) {
      set(p, null);
    }
  }

  /**
   * §12.1.1: the new member goes to the leftmost blank leaf, or the tree is extended; its index is
   * added to the unmerged leaves of every non-blank parent on its direct path.
   *
   * @return the new member's leaf index
   */
  public int addLeaf(LeafNode leaf) {
    int index = -1;
    for (int i = 0; i < leafCount(); i++) {
      if (nodes[2 * i] == null) {
        index = i;
        break;
      }
    }
    if (index < 0) {
      index = leafCount();
      extend();
    }
    for (int p : TreeMath.directPath(TreeMath.leafToNode(index), leafCount())) {
      ParentNode pn = parent(p);
      if (pn != null) {
        List<Integer> unmerged = new ArrayList<>(pn.unmergedLeaves());
        unmerged.add(index);
        set(p, Node.of(new ParentNode(pn.encryptionKey(), pn.parentHash(), unmerged)));
      }
    }
    setLeaf(index, leaf);
    return index;
  }

  /** §12.1.2: replace the sender's leaf and blank its direct path. */
  public void updateLeaf(int leafIndex, LeafNode leaf) {
    setLeaf(leafIndex, leaf);
    blankDirectPath(leafIndex);
  }

  /** §12.1.3: blank the leaf and its direct path, then truncate. */
  public void removeLeaf(int leafIndex) {
    setLeaf(leafIndex, null);
    blankDirectPath(leafIndex);
    truncate();
  }

  private void extend() {
    int oldWidth = nodes.length;
    Node[] grown = Arrays.copyOf(nodes, 2 * oldWidth + 1);
    nodes = grown;
    hashCache = Arrays.copyOf(hashCache, grown.length);
    // The old root is no longer the root: its ancestors (the new root) have no cached hash yet.
  }

  /** §12.1.3: remove the right half while it holds no non-blank leaf. */
  private void truncate() {
    while (leafCount() > 1) {
      int half = leafCount() / 2;
      boolean rightEmpty = true;
      for (int i = half; i < leafCount(); i++) {
        if (nodes[2 * i] != null) {
          rightEmpty = false;
          break;
        }
      }
      if (!rightEmpty) {
        return;
      }
      int width = TreeMath.nodeWidth(half);
      nodes = Arrays.copyOf(nodes, width);
      hashCache = Arrays.copyOf(hashCache, width);
    }
  }

  // ---- resolution and paths ----

  /** §4.1.1: node indices, left first. */
  public List<Integer> resolution(int index) {
    List<Integer> out = new ArrayList<>();
    resolve(index, out);
    return out;
  }

  private void resolve(int index, List<Integer> out) {
    Node n = nodes[index];
    if (n != null) {
      out.add(index);
      if (!n.isLeaf()) {
        for (int leaf : n.parent().unmergedLeaves()) {
          out.add(TreeMath.leafToNode(leaf));
        }
      }
      return;
    }
    if (TreeMath.isLeaf(index)) {
      return;
    }
    resolve(TreeMath.left(index), out);
    resolve(TreeMath.right(index), out);
  }

  private boolean resolutionEmpty(int index) {
    Node n = nodes[index];
    if (n != null) {
      return false;
    }
    if (TreeMath.isLeaf(index)) {
      return true;
    }
    return resolutionEmpty(TreeMath.left(index)) && resolutionEmpty(TreeMath.right(index));
  }

  /**
   * §4.1.2: the direct path of the leaf, without the nodes whose child on the copath has an empty
   * resolution.
   */
  public int[] filteredDirectPath(int leafIndex) {
    int leaf = TreeMath.leafToNode(leafIndex);
    int n = leafCount();
    int[] path = TreeMath.directPath(leaf, n);
    int[] copath = TreeMath.copath(leaf, n);
    int count = 0;
    int[] out = new int[path.length];
    for (int i = 0; i < path.length; i++) {
      if (!resolutionEmpty(copath[i])) {
        out[count++] = path[i];
      }
    }
    return Arrays.copyOf(out, count);
  }

  /** The child of {@code parent} on the copath of {@code leaf} (the sibling side). */
  public static int copathChild(int parent, int leafNode) {
    int left = TreeMath.left(parent);
    return TreeMath.isInSubtree(left, leafNode) ? TreeMath.right(parent) : left;
  }

  // ---- tree hash (§7.8) ----

  /** The tree hash of the root. */
  public byte[] treeHash() {
    return treeHash(TreeMath.root(leafCount())).clone();
  }

  /** The tree hash of any node (cached). */
  public byte[] treeHash(int index) {
    byte[] h = hashCache[index];
    if (h == null) {
      h = computeHash(index, Set.of());
      hashCache[index] = h;
    }
    return h;
  }

  private byte[] computeHash(int index, Set<Integer> excludedLeaves) {
    TlsWriter w = new TlsWriter(256);
    if (TreeMath.isLeaf(index)) {
      int leafIndex = TreeMath.nodeToLeaf(index);
      Node n = excludedLeaves.contains(leafIndex) ? null : nodes[index];
      w.u8(1).u32(Integer.toUnsignedLong(leafIndex));
      w.optional(n == null ? null : n.leaf(), (ww, l) -> l.encode(ww));
    } else {
      Node n = nodes[index];
      ParentNode p = n == null ? null : n.parent();
      if (p != null && !excludedLeaves.isEmpty()) {
        List<Integer> kept = new ArrayList<>(p.unmergedLeaves());
        kept.removeAll(excludedLeaves);
        p = new ParentNode(p.encryptionKey(), p.parentHash(), kept);
      }
      byte[] left = subtreeHash(TreeMath.left(index), excludedLeaves);
      byte[] right = subtreeHash(TreeMath.right(index), excludedLeaves);
      w.u8(2).optional(p, (ww, pp) -> pp.encode(ww)).opaque(left).opaque(right);
    }
    return suite.hash(w.toByteArray());
  }

  private byte[] subtreeHash(int index, Set<Integer> excludedLeaves) {
    if (excludedLeaves.isEmpty() || !intersects(index, excludedLeaves)) {
      return treeHash(index);
    }
    return computeHash(index, excludedLeaves);
  }

  private boolean intersects(int subtreeRoot, Set<Integer> leaves) {
    for (int leaf : leaves) {
      if (TreeMath.isInSubtree(subtreeRoot, TreeMath.leafToNode(leaf))) {
        return true;
      }
    }
    return false;
  }

  // ---- parent hash (§7.9) ----

  /**
   * The parent hash of {@code parentIndex} with copath child {@code siblingIndex}: Hash of
   * ParentHashInput{encryption_key, parent_hash, original_sibling_tree_hash}.
   */
  public byte[] parentHash(int parentIndex, int siblingIndex) {
    ParentNode p = parent(parentIndex);
    if (p == null) {
      throw new IllegalStateException("parent hash of a blank node");
    }
    return parentHash(p.encryptionKey(), p.parentHash(), originalSiblingTreeHash(p, siblingIndex));
  }

  byte[] parentHash(Bytes encryptionKey, Bytes parentHashOfParent, byte[] originalSiblingTreeHash) {
    TlsWriter w = new TlsWriter(128);
    w.opaque(encryptionKey).opaque(parentHashOfParent).opaque(originalSiblingTreeHash);
    return suite.hash(w.toByteArray());
  }

  /** Tree hash of S with P's unmerged leaves blanked and removed from unmerged lists (§7.9). */
  byte[] originalSiblingTreeHash(ParentNode p, int siblingIndex) {
    if (p.unmergedLeaves().isEmpty()) {
      return treeHash(siblingIndex);
    }
    return subtreeHash(siblingIndex, new HashSet<>(p.unmergedLeaves()));
  }

  private static Bytes parentHashField(Node n) {
    if (n.isLeaf()) {
      return n.leaf().parentHash(); // null unless source is commit
    }
    return n.parent().parentHash();
  }

  /**
   * §7.9.2, top down: every non-blank parent P must have exactly one descendant D, in the
   * resolution of one child C, whose parent_hash equals the parent hash of P with the other child
   * as copath child, and such that P's unmerged leaves under C are exactly resolution(C) minus D.
   */
  public boolean parentHashesValid() {
    for (int p = 1; p < nodes.length; p += 2) {
      if (nodes[p] == null) {
        continue;
      }
      ParentNode pn = nodes[p].parent();
      int found = 0;
      for (int side = 0; side < 2; side++) {
        int c = side == 0 ? TreeMath.left(p) : TreeMath.right(p);
        int s = side == 0 ? TreeMath.right(p) : TreeMath.left(p);
        byte[] expected = parentHash(p, s);
        List<Integer> resC = resolution(c);
        for (int d : resC) {
          if (nodes[d] == null) {
            return false; // a blank unmerged leaf: the tree is inconsistent (§12.4.3.1)
          }
          Bytes field = parentHashField(nodes[d]);
          if (field == null || !Arrays.equals(field.unsafeArray(), expected)) {
            continue;
          }
          Set<Integer> unmergedUnderC = new HashSet<>();
          for (int leaf : pn.unmergedLeaves()) {
            int ln = TreeMath.leafToNode(leaf);
            if (TreeMath.isInSubtree(c, ln)) {
              unmergedUnderC.add(ln);
            }
          }
          Set<Integer> rest = new HashSet<>(resC);
          rest.remove(d);
          if (unmergedUnderC.equals(rest)) {
            found++;
          }
        }
      }
      if (found != 1) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "RatchetTree[leaves=" + leafCount() + ", members=" + members().size() + "]";
  }
}
