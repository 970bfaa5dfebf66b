package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;

/** tree-operations.json: one Add, Update or Remove applied to a tree (§12.1). */
final class TreeOperationsVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    int i = 0;
    for (JsonNode e : entries) {
      int suite = e.get("cipher_suite").asInt();
      int index = i++;
      if (!MlsTestVectorsTest.supportedSuite(suite)) {
        tally.skip("cipher suite not implemented");
        continue;
      }
      tally.entry(
          "entry " + index,
          () -> {
            CipherSuite cs = CipherSuites.forId(suite);
            RatchetTree tree =
                RatchetTree.fromNodes(cs, TlsReader.decodeAll(Vectors.hex(e.get("tree_before")), Node::decodeTree));
            assertThat(tree.treeHash()).isEqualTo(Vectors.hex(e.get("tree_hash_before")));
            Proposal p = TlsReader.decodeAll(Vectors.hex(e.get("proposal")), Proposal::decode);
            int sender = (int) e.get("proposal_sender").asLong();
            if (p instanceof Proposal.Add add) {
              tree.addLeaf(add.keyPackage().leafNode());
            } else if (p instanceof Proposal.Update upd) {
              tree.updateLeaf(sender, upd.leafNode());
            } else if (p instanceof Proposal.Remove rem) {
              tree.removeLeaf(rem.removed());
            } else {
              throw new AssertionError("unexpected proposal type " + p.type());
            }
            assertThat(tree.encode()).isEqualTo(Vectors.hex(e.get("tree_after")));
            assertThat(tree.treeHash()).isEqualTo(Vectors.hex(e.get("tree_hash_after")));
          });
    }
  }
}
