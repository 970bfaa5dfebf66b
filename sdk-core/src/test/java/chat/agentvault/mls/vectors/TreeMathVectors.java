package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.mls.tree.TreeMath;
import com.fasterxml.jackson.databind.JsonNode;

/** tree-math.json: root, left, right, parent, sibling of every node (RFC 9420 Appendix C). */
final class TreeMathVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    for (JsonNode e : entries) {
      int n = e.get("n_leaves").asInt();
      tally.entry(
          "n_leaves=" + n,
          () -> {
            int width = TreeMath.nodeWidth(n);
            assertThat(width).isEqualTo(e.get("n_nodes").asInt());
            assertThat(TreeMath.root(n)).isEqualTo(e.get("root").asInt());
            for (int x = 0; x < width; x++) {
              check(e.get("left").get(x), TreeMath.isLeaf(x) ? null : TreeMath.left(x), "left", x);
              check(e.get("right").get(x), TreeMath.isLeaf(x) ? null : TreeMath.right(x), "right", x);
              boolean isRoot = x == TreeMath.root(n);
              check(e.get("parent").get(x), isRoot ? null : TreeMath.parent(x, n), "parent", x);
              check(e.get("sibling").get(x), isRoot ? null : TreeMath.sibling(x, n), "sibling", x);
            }
          });
    }
  }

  private static void check(JsonNode expected, Integer actual, String fn, int x) {
    if (expected == null || expected.isNull()) {
      assertThat(actual).as("%s(%d)", fn, x).isNull();
    } else {
      assertThat(actual).as("%s(%d)", fn, x).isEqualTo(expected.asInt());
    }
  }
}
