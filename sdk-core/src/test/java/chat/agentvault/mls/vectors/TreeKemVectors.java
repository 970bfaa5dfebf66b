package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.ParentNode;
import chat.agentvault.mls.message.UpdatePath;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeKem;
import chat.agentvault.mls.tree.TreeMath;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * treekem.json (test-vectors.md "TreeKEM"): private states from {@code leaves_private} checked
 * against the tree; each UpdatePath parent-hash valid, processed by every other member (path secret,
 * commit secret, tree hash after); then a new UpdatePath from the same sender that every other
 * member processes to the same commit secret (§7.4 – §7.9).
 */
final class TreeKemVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    tally.perSuite(entries, TreeKemVectors::check);
  }

  private static byte[] h(JsonNode n, String f) {
    JsonNode v = n.get(f);
    if (v == null || v.isNull()) {
      throw new AssertionError("missing field " + f);
    }
    return Vectors.hex(v);
  }

  private static void check(CipherSuite cs, JsonNode e) throws GeneralSecurityException {
    Bytes groupId = Bytes.wrap(h(e, "group_id"));
    long epoch = e.get("epoch").bigIntegerValue().longValue(); // uint64
    Bytes cth = Bytes.wrap(h(e, "confirmed_transcript_hash"));
    RatchetTree tree = RatchetTree.fromNodes(cs, withoutTrailingBlanks(
        TlsReader.decodeAll(h(e, "ratchet_tree"), Node::decodeTree)));
    // tree_hash reflecting the tree as updated by the UpdatePath (the provisional context of §12.4.2);
    // other fields as provided. test-vectors.md also says "the root tree hash of ratchet_tree" in its
    // verification list; the published treekem.json of mlswg/mls-implementations (506d27b) decrypts
    // only under the updated hash (an older revision, 0679dd2, used the hash before the update).
    Function<byte[], byte[]> context =
        th -> new GroupContext(Codes.MLS10, cs.id(), groupId, epoch, Bytes.wrap(th), cth, List.of()).toByteArray();

    // leaves_private: private states, each consistent with the tree.
    Map<Integer, TreeKem.PrivateKeys> privates = new TreeMap<>();
    Map<Integer, byte[]> signaturePrivs = new TreeMap<>();
    for (JsonNode lp : e.get("leaves_private")) {
      int index = (int) lp.get("index").asLong();
      String at = "leaves_private[" + index + "]";
      LeafNode leaf = tree.leaf(index);
      assertThat(leaf).as(at + ": leaf is not blank").isNotNull();
      byte[] encPriv = h(lp, "encryption_priv");
      assertKeyPair(cs, encPriv, leaf.encryptionKey(), at + ": encryption_priv");
      TreeKem.PrivateKeys keys = new TreeKem.PrivateKeys(index, encPriv);
      for (JsonNode ps : lp.get("path_secrets")) {
        int node = (int) ps.get("node").asLong();
        assertThat(node).as(at + ": path secret node inside the tree").isLessThan(tree.nodeWidth());
        assertThat(TreeMath.isLeaf(node)).as(at + ": path secret node %d is a parent", node).isFalse();
        ParentNode pn = tree.parent(node);
        assertThat(pn).as(at + ": node %d not blank", node).isNotNull();
        byte[][] kp = cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, h(ps, "path_secret"), "node"));
        assertThat(kp[1]).as(at + ": public key of node %d from its path secret", node)
            .isEqualTo(pn.encryptionKey().toByteArray());
        keys.put(node, kp[0]);
      }
      privates.put(index, keys);
      signaturePrivs.put(index, h(lp, "signature_priv"));
    }

    int u = 0;
    for (JsonNode up : e.get("update_paths")) {
      int sender = (int) up.get("sender").asLong();
      String at = "update_paths[" + u++ + "] from " + sender;
      UpdatePath path = TlsReader.decodeAll(h(up, "update_path"), UpdatePath::decode);
      byte[] commitSecret = h(up, "commit_secret");
      byte[] treeHashAfter = h(up, "tree_hash_after");
      JsonNode pathSecrets = up.get("path_secrets");

      // Parent-hash valid relative to ratchet_tree: merge (§7.5) and check the leaf and the tree.
      RatchetTree merged = tree.copy();
      int[] fdp = merged.filteredDirectPath(sender);
      assertThat(path.nodes()).as(at + ": one node per filtered direct-path node").hasSize(fdp.length);
      merged.blankDirectPath(sender);
      byte[] above = new byte[0];
      int senderNode = TreeMath.leafToNode(sender);
      for (int k = fdp.length - 1; k >= 0; k--) {
        merged.setParent(fdp[k], new ParentNode(path.nodes().get(k).encryptionKey(), Bytes.wrap(above), List.of()));
        above = merged.parentHash(fdp[k], RatchetTree.copathChild(fdp[k], senderNode));
      }
      assertThat(path.leafNode().source()).as(at + ": leaf source").isEqualTo(Codes.LEAF_SOURCE_COMMIT);
      assertThat(path.leafNode().parentHash().toByteArray()).as(at + ": leaf parent hash").isEqualTo(above);
      merged.setLeaf(sender, path.leafNode());
      assertThat(merged.parentHashesValid()).as(at + ": parent hashes valid after merge").isTrue();
      assertThat(merged.treeHash()).as(at + ": tree_hash_after").isEqualTo(treeHashAfter);

      // Every other non-blank leaf processes it.
      for (int j : tree.members()) {
        if (j == sender) {
          continue;
        }
        TreeKem.PrivateKeys keys = privates.get(j);
        assertThat(keys).as(at + ": leaves_private has leaf %d", j).isNotNull();
        JsonNode expected = pathSecrets.get(j);
        assertThat(expected == null || expected.isNull()).as(at + ": path_secrets[%d] present", j).isFalse();
        RatchetTree t = tree.copy();
        TreeKem.Applied a = TreeKem.applyUpdatePath(t, sender, path, keys.copy(), Set.of(), context);
        assertThat(a.pathSecret()).as(at + ": path_secrets[%d]", j).isEqualTo(Vectors.hex(expected));
        assertThat(a.commitSecret()).as(at + ": commit_secret at leaf %d", j).isEqualTo(commitSecret);
        assertThat(t.treeHash()).as(at + ": tree hash after, at leaf %d", j).isEqualTo(treeHashAfter);
      }

      // A new UpdatePath from the same sender, with its signature key; everyone gets its commit secret.
      TreeKem.PrivateKeys senderKeys = privates.get(sender);
      assertThat(senderKeys).as(at + ": leaves_private has the sender").isNotNull();
      byte[] sigPriv = signaturePrivs.get(sender);
      LeafNode old = tree.leaf(sender);
      RatchetTree st = tree.copy();
      TreeKem.Created created = TreeKem.createUpdatePath(
          st, senderKeys.copy(),
          (enc, ph) -> {
            LeafNode unsigned = new LeafNode(
                enc, old.signatureKey(), old.credential(), old.capabilities(), Codes.LEAF_SOURCE_COMMIT,
                null, ph, old.extensions(), Bytes.EMPTY);
            byte[] sig = MlsCrypto.signWithLabel(cs, sigPriv, "LeafNodeTBS", unsigned.toBeSigned(groupId, sender));
            return unsigned.withSignature(Bytes.wrap(sig));
          },
          Set.of(), context);
      LeafNode nl = created.path().leafNode();
      MlsCrypto.verifyWithLabel(cs, nl.signatureKey().toByteArray(), "LeafNodeTBS",
          nl.toBeSigned(groupId, sender), nl.signature().toByteArray());
      for (int j : tree.members()) {
        if (j == sender) {
          continue;
        }
        RatchetTree t = tree.copy();
        TreeKem.Applied a = TreeKem.applyUpdatePath(t, sender, created.path(), privates.get(j).copy(), Set.of(), context);
        assertThat(a.commitSecret()).as(at + ": new commit secret at leaf %d", j).isEqualTo(created.commitSecret());
        assertThat(t.treeHash()).isEqualTo(st.treeHash());
      }
    }
  }

  /**
   * The published treekem.json lists the full array, trailing blank nodes included (e.g. a 4-leaf
   * tree with leaf 3 blank); RFC §12.4.3.3 forbids that only for the Welcome's ratchet_tree extension,
   * which {@link RatchetTree#fromNodes} enforces. The vector's tree is the same tree either way.
   */
  static List<Node> withoutTrailingBlanks(List<Node> nodes) {
    int end = nodes.size();
    while (end > 0 && nodes.get(end - 1) == null) {
      end--;
    }
    return nodes.subList(0, end);
  }

  /** The private key opens what is sealed to the public key (HPKE round trip, any suite). */
  private static void assertKeyPair(CipherSuite cs, byte[] priv, Bytes pub, String what) throws GeneralSecurityException {
    byte[] msg = "treekem key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    CipherSuite.HpkeSealed s = cs.hpkeSeal(pub.toByteArray(), new byte[0], new byte[0], msg);
    try {
      assertThat(cs.hpkeOpen(priv, s.kemOutput(), new byte[0], new byte[0], s.ciphertext())).isEqualTo(msg);
    } catch (GeneralSecurityException ex) {
      throw new AssertionError(what + " does not match the public key in the tree", ex);
    }
  }
}
