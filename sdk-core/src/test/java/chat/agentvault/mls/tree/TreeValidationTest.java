package chat.agentvault.mls.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.ParentNode;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Join-time tree validation refuses each kind of inconsistency (§7.3, §7.9.2, §12.4.3.1). */
class TreeValidationTest {
  private List<Node> nodes;
  private Bytes groupId;

  /** The largest suite-1 tree of tree-validation.json that has unmerged leaves. */
  @BeforeEach
  void loadTree() {
    JsonNode all = Vectors.json(Vectors.file("mls", "tree-validation.json"));
    for (JsonNode e : all) {
      if (e.get("cipher_suite").asInt() != 1) {
        continue;
      }
      List<Node> candidate = TlsReader.decodeAll(Vectors.hex(e.get("tree")), Node::decodeTree);
      boolean unmerged =
          candidate.stream().anyMatch(n -> n != null && !n.isLeaf() && !n.parent().unmergedLeaves().isEmpty());
      if (unmerged && (nodes == null || candidate.size() > nodes.size())) {
        nodes = candidate;
        groupId = Bytes.wrap(Vectors.hex(e.get("group_id")));
      }
    }
    assertThat(nodes).as("a suite-1 tree with unmerged leaves").isNotNull();
  }

  private RatchetTree tree(List<Node> list) {
    return RatchetTree.fromNodes(CipherSuites.forId(1), list);
  }

  private void validate(List<Node> list, byte[] expectedHash) {
    TreeValidation.validateTree(tree(list), groupId, expectedHash, List.of(), -1);
  }

  private void assertRejected(Consumer<List<Node>> mutation, Reason reason) {
    List<Node> copy = new ArrayList<>(nodes);
    mutation.accept(copy);
    while (copy.get(copy.size() - 1) == null) {
      copy.remove(copy.size() - 1); // the encoding of the mutated tree omits trailing blanks
    }
    byte[] hash = tree(copy).treeHash(); // so that only the mutated property can fail
    assertThatThrownBy(() -> validate(copy, hash))
        .isInstanceOf(MessageRejectedException.class)
        .extracting(e -> ((MessageRejectedException) e).reason())
        .isEqualTo(reason);
  }

  private int firstParentWithUnmerged() {
    for (int i = 1; i < nodes.size(); i += 2) {
      if (nodes.get(i) != null && !nodes.get(i).parent().unmergedLeaves().isEmpty()) {
        return i;
      }
    }
    throw new AssertionError();
  }

  @Test
  void theOriginalIsValid() {
    assertThatCode(() -> validate(nodes, tree(nodes).treeHash())).doesNotThrowAnyException();
  }

  @Test
  void wrongTreeHashIsRefused() {
    byte[] wrong = tree(nodes).treeHash();
    wrong[0] ^= 1;
    assertThatThrownBy(() -> validate(nodes, wrong)).isInstanceOf(MessageRejectedException.class);
  }

  @Test
  void replacedParentKeyBreaksParentHashes() {
    int p = firstParentWithUnmerged();
    assertRejected(
        l -> {
          ParentNode pn = l.get(p).parent();
          byte[] k = pn.encryptionKey().toByteArray();
          k[0] ^= 1;
          l.set(p, Node.of(new ParentNode(Bytes.wrap(k), pn.parentHash(), pn.unmergedLeaves())));
        },
        Reason.MALFORMED);
  }

  @Test
  void forgedLeafSignatureIsRefused() {
    assertRejected(
        l -> {
          LeafNode leaf = l.get(0).leaf();
          byte[] sig = leaf.signature().toByteArray();
          sig[5] ^= 1;
          l.set(0, Node.of(leaf.withSignature(Bytes.wrap(sig))));
        },
        Reason.BAD_SIGNATURE);
  }

  @Test
  void unmergedLeafThatIsBlankIsRefused() {
    int p = firstParentWithUnmerged();
    int leaf = nodes.get(p).parent().unmergedLeaves().get(0);
    assertRejected(l -> l.set(2 * leaf, null), Reason.MALFORMED);
  }

  @Test
  void unmergedLeavesOutOfOrderOrForeignAreRefused() {
    int p = firstParentWithUnmerged();
    assertRejected(
        l -> {
          ParentNode pn = l.get(p).parent();
          List<Integer> um = new ArrayList<>(pn.unmergedLeaves());
          um.add(0, um.get(0)); // duplicate: not strictly increasing
          l.set(p, Node.of(new ParentNode(pn.encryptionKey(), pn.parentHash(), um)));
        },
        Reason.MALFORMED);
  }
}
