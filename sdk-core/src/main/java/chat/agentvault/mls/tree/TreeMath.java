package chat.agentvault.mls.tree;

import java.util.ArrayList;
import java.util.List;

/**
 * Array-based tree arithmetic, RFC 9420 Appendix C. Nodes are numbered left to right; leaves are
 * the even indices (leaf {@code i} is node {@code 2i}). The tree is always complete: its leaf count
 * is a power of two (§7.7: it grows by doubling and shrinks by halving), so {@code n} below is a
 * power of two and every function is O(log n) integer arithmetic.
 */
public final class TreeMath {
  private TreeMath() {}

  /** floor(log2(x)) for x &gt; 0, and 0 for 0. */
  static int log2(int x) {
    return x == 0 ? 0 : 31 - Integer.numberOfLeadingZeros(x);
  }

  /** The level of node x: leaves are 0, their parents 1, ... (the count of trailing one bits). */
  public static int level(int x) {
    return Integer.numberOfTrailingZeros(~x);
  }

  /** Nodes in a tree of {@code nLeaves} leaves. */
  public static int nodeWidth(int nLeaves) {
    return nLeaves == 0 ? 0 : 2 * (nLeaves - 1) + 1;
  }

  public static int root(int nLeaves) {
    int w = nodeWidth(nLeaves);
    return (1 << log2(w)) - 1;
  }

  public static boolean isLeaf(int x) {
    return (x & 1) == 0;
  }

  public static int leafToNode(int leafIndex) {
    return 2 * leafIndex;
  }

  public static int nodeToLeaf(int node) {
    if (!isLeaf(node)) {
      throw new IllegalArgumentException("node " + node + " is not a leaf");
    }
    return node >>> 1;
  }

  public static int left(int x) {
    int k = level(x);
    if (k == 0) {
      throw new IllegalArgumentException("leaf node has no children");
    }
    return x ^ (1 << (k - 1));
  }

  public static int right(int x) {
    int k = level(x);
    if (k == 0) {
      throw new IllegalArgumentException("leaf node has no children");
    }
    return x ^ (3 << (k - 1));
  }

  public static int parent(int x, int nLeaves) {
    if (x == root(nLeaves)) {
      throw new IllegalArgumentException("root node has no parent");
    }
    int k = level(x);
    int b = (x >>> (k + 1)) & 1;
    return (x | (1 << k)) ^ (b << (k + 1));
  }

  public static int sibling(int x, int nLeaves) {
    int p = parent(x, nLeaves);
    return x < p ? right(p) : left(p);
  }

  /** The direct path of x, leaf to root, excluding x and including the root (§4.1). */
  public static int[] directPath(int x, int nLeaves) {
    int r = root(nLeaves);
    List<Integer> d = new ArrayList<>();
    while (x != r) {
      x = parent(x, nLeaves);
      d.add(x);
    }
    return d.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The copath of x: the sibling of x and of each node of its direct path except the root. */
  public static int[] copath(int x, int nLeaves) {
    int r = root(nLeaves);
    int[] dp = directPath(x, nLeaves);
    int[] out = new int[dp.length];
    int cur = x;
    for (int i = 0; i < dp.length; i++) {
      out[i] = sibling(cur, nLeaves);
      cur = dp[i];
    }
    assert dp.length == 0 || dp[dp.length - 1] == r;
    return out;
  }

  /** The lowest common ancestor of two nodes. */
  public static int commonAncestor(int x, int y) {
    int lx = level(x) + 1;
    int ly = level(y) + 1;
    if (lx <= ly && (x >>> ly) == (y >>> ly)) {
      return y;
    }
    if (ly <= lx && (x >>> lx) == (y >>> lx)) {
      return x;
    }
    int xn = x;
    int yn = y;
    int k = 0;
    while (xn != yn) {
      xn >>>= 1;
      yn >>>= 1;
      k++;
    }
    return (xn << k) + (1 << (k - 1)) - 1;
  }

  /** Whether {@code ancestor} lies on the direct path of {@code x} (or is x). */
  public static boolean isInSubtree(int ancestor, int x) {
    int k = level(ancestor);
    return (x >>> (k + 1)) == (ancestor >>> (k + 1));
  }
}
