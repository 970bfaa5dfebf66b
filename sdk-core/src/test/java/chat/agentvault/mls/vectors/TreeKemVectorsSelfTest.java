package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeKem;
import chat.agentvault.mls.tree.TreeKemGroup;
import chat.agentvault.mls.tree.TreeMath;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No treekem.json is available, so {@link TreeKemVectors} is proven on files written here, in a
 * temporary folder, from groups built with this engine: the handler must pass every entry of a good
 * file and fail exactly the entry that is corrupted. The expected values are taken from the creating
 * side and the test's own path-secret bookkeeping, never from applying the paths.
 */
class TreeKemVectorsSelfTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** Groups with blanks, unmerged leaves and several heights. */
  private static TreeKemGroup richGroup(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 7);
    g.update(4);
    g.update(6);
    g.commit(0, List.of(5, 7), 0);
    g.update(4);
    g.commitWithoutPath(g.propose(1, List.of(), 2)); // 5, 7 unmerged
    g.commit(2, List.of(3), 0); // leaf 3 blank
    g.commitWithoutPath(g.propose(6, List.of(), 2)); // 3 refilled unmerged, 8 by extension
    return g;
  }

  private static TreeKemGroup smallGroup(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 2);
    g.update(2);
    return g;
  }

  private static String hex(byte[] b) {
    return Vectors.hex(b);
  }

  /** One entry of the TreeKEM format from the group's current state. */
  static ObjectNode entry(TreeKemGroup g, int[] senders) {
    return entry(g, senders, false);
  }

  /** {@code fullArray}: list every node of the array, trailing blanks included, as the published file does. */
  static ObjectNode entry(TreeKemGroup g, int[] senders, boolean fullArray) {
    ObjectNode e = JSON.createObjectNode();
    e.put("cipher_suite", g.cs.id());
    e.put("group_id", hex(g.groupId.toByteArray()));
    e.put("epoch", g.epoch());
    e.put("confirmed_transcript_hash", hex(g.confirmedTranscriptHash().toByteArray()));
    RatchetTree tree = g.tree();
    if (fullArray) {
      List<Node> all = new ArrayList<>();
      for (int n = 0; n < tree.nodeWidth(); n++) {
        all.add(tree.node(n));
      }
      assertThat(all.get(all.size() - 1)).as("the generated tree ends with a blank node").isNull();
      e.put("ratchet_tree", hex(TlsWriter.encode(all, Node::encodeTree)));
    } else {
      e.put("ratchet_tree", hex(tree.encode()));
    }
    ArrayNode lps = e.putArray("leaves_private");
    for (int leaf : g.leaves()) {
      TreeKemGroup.Member m = g.member(leaf);
      ObjectNode lp = lps.addObject();
      lp.put("index", leaf);
      lp.put("encryption_priv", hex(m.keys.get(m.node())));
      lp.put("signature_priv", hex(m.signaturePriv));
      ArrayNode pss = lp.putArray("path_secrets");
      m.pathSecrets.forEach((node, ps) -> pss.addObject().put("node", node).put("path_secret", hex(ps)));
    }
    ArrayNode ups = e.putArray("update_paths");
    for (int sender : senders) {
      TreeKemGroup.Member s = g.member(sender);
      RatchetTree t = s.tree.copy();
      int[] fdp = t.filteredDirectPath(sender);
      TreeKem.Created cr = TreeKem.createUpdatePath(
          t, s.keys.copy(), g.signer(s), Set.of(), g.contextFor(g.epoch()));
      ObjectNode up = ups.addObject();
      up.put("sender", sender);
      up.put("update_path", hex(TlsWriter.encode(cr.path(), (w, p) -> p.encode(w))));
      ArrayNode ps = up.putArray("path_secrets");
      for (int j = 0; j < tree.leafCount(); j++) {
        if (j == sender || tree.leaf(j) == null) {
          ps.addNull();
        } else {
          int idx = TreeKemGroup.decryptIndex(fdp, s.node(), TreeMath.leafToNode(j));
          ps.add(hex(cr.pathSecrets().get(idx)));
        }
      }
      up.put("commit_secret", hex(cr.commitSecret()));
      up.put("tree_hash_after", hex(t.treeHash()));
    }
    return e;
  }

  private ArrayNode goodFile() {
    ArrayNode file = JSON.createArrayNode();
    TreeKemGroup rich1 = richGroup(1);
    file.add(entry(rich1, rich1.leaves().stream().mapToInt(Integer::intValue).toArray(), true));
    TreeKemGroup rich3 = richGroup(3);
    file.add(entry(rich3, new int[] {0, 3, 5, 8}));
    file.add(entry(smallGroup(1), new int[] {0, 1, 2}));
    TreeKemGroup one = new TreeKemGroup(CipherSuites.forId(3));
    file.add(entry(one, new int[] {0})); // no other member: nothing to process, a path with no node
    ObjectNode other = JSON.createObjectNode();
    other.put("cipher_suite", 2); // P-256: not implemented, skipped
    file.add(other);
    return file;
  }

  private Tally run(ArrayNode file, String name) throws IOException {
    Path f = dir.resolve(name);
    JSON.writeValue(f.toFile(), file);
    JsonNode entries = Vectors.json(f);
    Tally tally = new Tally();
    MlsTestVectorsTest.handlers().get("treekem").run(entries, tally);
    return tally;
  }

  @Test
  void handlerIsWiredIn() {
    assertThat(MlsTestVectorsTest.handlers().get("treekem")).isInstanceOf(TreeKemVectors.class);
  }

  @Test
  void goodFilePassesAndEachCorruptionFailsItsEntry() throws IOException {
    ArrayNode good = goodFile();
    Tally ok = run(good, "treekem.json");
    assertThat(ok.failures).isEmpty();
    assertThat(ok.passed).isEqualTo(4);
    assertThat(ok.skipped).isEqualTo(1);

    List<Consumer<ArrayNode>> corruptions = List.of(
        f -> up(f, 0, 2).put("commit_secret", flip(up(f, 0, 2).get("commit_secret").asText())),
        f -> up(f, 2, 1).put("commit_secret", flip(up(f, 2, 1).get("commit_secret").asText())),
        f -> up(f, 1, 1).put("tree_hash_after", flip(up(f, 1, 1).get("tree_hash_after").asText())),
        f -> {
          ArrayNode ps = (ArrayNode) up(f, 0, 0).get("path_secrets");
          ps.set(4, JSON.getNodeFactory().textNode(flip(ps.get(4).asText())));
        },
        f -> {
          ArrayNode ps = (ArrayNode) up(f, 0, 0).get("path_secrets");
          ps.set(4, JSON.getNodeFactory().nullNode());
        },
        f -> up(f, 1, 2).put("update_path", flip(up(f, 1, 2).get("update_path").asText())),
        f -> {
          ObjectNode lp = (ObjectNode) f.get(0).get("leaves_private").get(0);
          ObjectNode ps = (ObjectNode) lp.get("path_secrets").get(0);
          ps.put("path_secret", flip(ps.get("path_secret").asText()));
        },
        f -> {
          ObjectNode lp = (ObjectNode) f.get(1).get("leaves_private").get(2);
          lp.put("encryption_priv", flip(lp.get("encryption_priv").asText()));
        },
        f -> ((ArrayNode) f.get(2).get("leaves_private")).remove(1),
        f -> ((ObjectNode) f.get(0)).put("epoch", f.get(0).get("epoch").asLong() + 1),
        f -> ((ObjectNode) f.get(2)).put("group_id", flip(f.get(2).get("group_id").asText())));
    List<String> reasons = List.of(
        "entry 0 suite 1: org.opentest4j.AssertionFailedError: [update_paths[2] from 2: commit_secret at leaf",
        "entry 2 suite 1: org.opentest4j.AssertionFailedError: [update_paths[1] from 1: commit_secret at leaf",
        "entry 1 suite 3: org.opentest4j.AssertionFailedError: [update_paths[1] from 3: tree_hash_after]",
        "entry 0 suite 1: org.opentest4j.AssertionFailedError: [update_paths[0] from 0: path_secrets[4]]",
        "[update_paths[0] from 0: path_secrets[4] present]",
        "entry 1 suite 3: chat.agentvault.MessageRejectedException: DECRYPT_FAILED",
        "entry 0 suite 1: org.opentest4j.AssertionFailedError: [leaves_private[0]: public key of node",
        "entry 1 suite 3: java.lang.AssertionError: leaves_private[2]: encryption_priv does not match",
        "entry 2 suite 1: java.lang.AssertionError: [update_paths[0] from 0: leaves_private has leaf 1]",
        "entry 0 suite 1: chat.agentvault.MessageRejectedException: DECRYPT_FAILED",
        "entry 2 suite 1: chat.agentvault.MessageRejectedException: DECRYPT_FAILED");
    assertThat(reasons).hasSameSizeAs(corruptions);
    int k = 0;
    for (Consumer<ArrayNode> c : corruptions) {
      ArrayNode bad = good.deepCopy();
      c.accept(bad);
      Tally t = run(bad, "treekem-bad" + k + ".json");
      assertThat(t.failures).as("corruption %d", k).hasSize(1);
      assertThat(t.failures.get(0)).as("corruption %d", k).contains(reasons.get(k));
      assertThat(t.passed).as("corruption %d", k).isEqualTo(3);
      k++;
    }
  }

  private static ObjectNode up(ArrayNode f, int entry, int update) {
    return (ObjectNode) f.get(entry).get("update_paths").get(update);
  }

  /** Flips the lowest bit of the last byte of a hex string. */
  private static String flip(String hexString) {
    byte[] b = Bytes.fromHex(hexString).toByteArray();
    b[b.length - 1] ^= 0x01;
    return hex(b);
  }
}
