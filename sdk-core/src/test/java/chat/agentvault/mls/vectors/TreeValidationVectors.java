package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeMath;
import chat.agentvault.mls.tree.TreeValidation;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** tree-validation.json: resolutions, tree hashes of every node, parent hashes, leaf signatures (§7.8, §7.9). */
final class TreeValidationVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    tally.perSuite(entries, TreeValidationVectors::check);
  }

  private static void check(CipherSuite cs, JsonNode e) throws Exception {
    List<Node> nodes = TlsReader.decodeAll(Vectors.hex(e.get("tree")), Node::decodeTree);
    RatchetTree tree = RatchetTree.fromNodes(cs, nodes);
    JsonNode resolutions = e.get("resolutions");
    JsonNode hashes = e.get("tree_hashes");
    assertThat(hashes.size()).isEqualTo(tree.nodeWidth());
    for (int n = 0; n < tree.nodeWidth(); n++) {
      List<Integer> expected = new ArrayList<>();
      resolutions.get(n).forEach(x -> expected.add(x.asInt()));
      assertThat(tree.resolution(n)).as("resolution(%d)", n).isEqualTo(expected);
      assertThat(tree.treeHash(n)).as("tree hash of %d", n).isEqualTo(Vectors.hex(hashes.get(n)));
    }
    assertThat(tree.parentHashesValid()).as("parent hashes valid").isTrue();
    Bytes groupId = Bytes.wrap(Vectors.hex(e.get("group_id")));
    for (int leaf : tree.members()) {
      LeafNode ln = tree.leaf(leaf);
      MlsCrypto.verifyWithLabel(
          cs, ln.signatureKey().toByteArray(), "LeafNodeTBS", ln.toBeSigned(groupId, leaf), ln.signature().toByteArray());
    }
    assertThat(TlsReader.decodeAll(tree.encode(), Node::decodeTree)).isEqualTo(nodes);
    // The whole join-time validation of §12.4.3.1 (lifetimes are not checked: vector leaves carry
    // arbitrary ones, and §7.3 makes the check optional for received trees).
    TreeValidation.validateTree(
        tree, groupId, Vectors.hex(hashes.get(TreeMath.root(tree.leafCount()))), List.of(), -1);
  }
}
