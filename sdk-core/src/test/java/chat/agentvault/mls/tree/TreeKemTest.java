package chat.agentvault.mls.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.HpkeCiphertext;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.ParentNode;
import chat.agentvault.mls.message.UpdatePath;
import chat.agentvault.mls.tree.TreeKemGroup.Member;
import chat.agentvault.mls.tree.TreeKemGroup.Pending;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TreeKEM (RFC 9420 §4, §7.4 – §7.9, §12.4.2, §12.4.3.1) on groups built from scratch with real
 * keys. Every commit made through {@link TreeKemGroup} is checked: same commit secret for all,
 * identical trees and tree hashes, parent hashes valid, committer leaf parent hash, ciphertext
 * placement, and each member's private keys exactly as the tree invariant allows.
 */
class TreeKemTest {
  static Stream<Arguments> suitesAndSizes() {
    return Stream.of(1, 3).flatMap(s -> IntStream.rangeClosed(1, 17).mapToObj(n -> Arguments.of(s, n)));
  }

  static Stream<Arguments> suitesAndSeeds() {
    return Stream.of(1, 3).flatMap(s -> IntStream.range(0, 8).mapToObj(seed -> Arguments.of(s, 1000L * s + seed)));
  }

  // ---- groups of 1 to 17: growth by commits with adds, then every member commits in turn ----

  @ParameterizedTest(name = "suite {0}, {1} members")
  @MethodSource("suitesAndSizes")
  void growThenEveryMemberCommitsInTurn(int suite, int n) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    int k = 0;
    while (g.size() < n) {
      List<Integer> leaves = g.leaves();
      int committer = leaves.get(k % leaves.size());
      k++;
      g.commit(committer, List.of(), Math.min(1 + k % 3, n - g.size()));
    }
    assertThat(g.size()).isEqualTo(n);
    for (int leaf : g.leaves()) {
      TreeKemGroup.Outcome o = g.update(leaf);
      assertThat(o.applied()).hasSize(n - 1);
    }
    // And once more in reverse order, so every member decrypts at every height.
    List<Integer> rev = g.leaves();
    Collections.reverse(rev);
    for (int leaf : rev) {
      g.update(leaf);
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void singleMemberCommitsAlone(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    TreeKemGroup.Outcome o = g.update(0);
    assertThat(o.fdp()).isEmpty();
    assertThat(o.created().path().nodes()).isEmpty();
    assertThat(o.created().path().leafNode().parentHash().length()).isZero();
    assertThat(o.created().commitSecret()).hasSize(g.cs.hashLength());
    assertThat(g.member(0).keys.nodes()).containsExactly(0);
  }

  // ---- adds without path: unmerged leaves, then commits ----

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void addsWithoutPathLeaveUnmergedLeavesThatLaterCommitsEncryptTo(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 7); // leaves 0..7
    g.update(4);
    g.update(6);
    g.commit(0, List.of(5, 7), 0); // blanks 10, 14 and their direct paths 9, 11, 13, 7
    assertThat(g.tree().isBlank(11)).isTrue();
    TreeKemGroup.Outcome o4 = g.update(4);
    assertThat(o4.fdp()).containsExactly(11, 7); // 9 skipped: leaf 5 blank
    assertThat(g.tree().isBlank(9)).isTrue();

    g.commitWithoutPath(g.propose(1, List.of(), 2)); // fill leaves 5 and 7
    assertThat(g.leaves()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(g.tree().parent(11).unmergedLeaves()).containsExactly(5, 7);
    assertThat(g.tree().parent(7).unmergedLeaves()).containsExactly(5, 7);
    assertThat(g.member(5).keys.nodes()).containsExactly(10);
    assertThat(g.member(7).keys.nodes()).containsExactly(14);
    assertThat(g.member(4).keys.nodes()).containsExactly(7, 8, 11);

    // A commit from the left: the root's copath child 11 resolves to [11, leaf 5, leaf 7].
    TreeKemGroup.Outcome o0 = g.update(0);
    assertThat(o0.fdp()).containsExactly(1, 3, 7);
    assertThat(o0.created().path().nodes().get(2).encryptedPathSecret()).hasSize(3);
    assertThat(o0.applied().get(5).pathSecretNode()).isEqualTo(7);
    assertThat(g.tree().parent(11).unmergedLeaves()).containsExactly(5, 7);
    assertThat(g.tree().parent(7).unmergedLeaves()).isEmpty();
    assertThat(g.member(5).keys.nodes()).containsExactly(7, 10);

    // A second batch of path-less adds extends the tree; then an unmerged member commits first.
    g.commitWithoutPath(g.propose(2, List.of(), 2)); // leaves 8, 9
    assertThat(g.tree().leafCount()).isEqualTo(16);
    g.update(7);
    assertThat(g.tree().parent(11).unmergedLeaves()).isEmpty();
    g.update(9);
    g.update(5);
    for (int leaf : g.leaves()) {
      g.update(leaf);
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void pathlessAddsThenCommitAddingMoreWithPath(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 3);
    g.commitWithoutPath(g.propose(1, List.of(), 3)); // 4, 5, 6 unmerged
    g.commitWithoutPath(g.propose(5, List.of(), 1)); // 7, committed by a path-less member
    TreeKemGroup.Outcome o = g.commit(6, List.of(2), 3); // 2 refilled, 8, 9 new
    assertThat(o.joined()).containsExactly(2, 8, 9);
    for (int leaf : g.leaves()) {
      g.update(leaf);
    }
  }

  // ---- removes: blanks and truncation ----

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void removesBlankPathsAndTruncate(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 8); // 9 members, 16 leaves
    assertThat(g.tree().nodeWidth()).isEqualTo(31);
    g.update(8);
    g.update(3);
    g.commit(3, List.of(8), 0); // right half empty: truncated to 8 leaves
    assertThat(g.tree().nodeWidth()).isEqualTo(15);
    g.commit(1, List.of(2, 5), 0); // blanks in the middle
    assertThat(g.tree().nodeWidth()).isEqualTo(15);
    g.update(6);
    g.commit(0, List.of(4, 6, 7), 0); // leaves 0, 1, 3: truncated to 4 leaves
    assertThat(g.tree().nodeWidth()).isEqualTo(7);
    TreeKemGroup.Outcome o = g.commit(1, List.of(), 2); // leftmost blank 2, then extension
    assertThat(o.joined()).containsExactly(2, 4);
    assertThat(g.tree().nodeWidth()).isEqualTo(15);
    for (int leaf : g.leaves()) {
      g.update(leaf);
    }
    g.commit(4, List.of(0, 1, 2, 3), 0); // alone at leaf 4: left half blank, no truncation
    assertThat(g.tree().nodeWidth()).isEqualTo(15);
    g.update(4);
    g.commit(4, List.of(), 1); // leftmost blank: 0
    assertThat(g.leaves()).containsExactly(0, 4);
    g.update(0);
    g.commit(0, List.of(4), 0); // back to one leaf
    assertThat(g.tree().nodeWidth()).isEqualTo(1);
    g.update(0);
    g.commit(0, List.of(), 2);
    g.update(2);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void removeTruncatingTwoLevelsAtOnce(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 8);
    for (int leaf : g.leaves()) {
      g.update(leaf);
    }
    g.commit(2, List.of(4, 5, 6, 7, 8), 0); // 16 -> 8 -> 4 leaves
    assertThat(g.tree().nodeWidth()).isEqualTo(7);
    for (int leaf : g.leaves()) {
      g.update(leaf);
    }
  }

  // ---- new members in the same commit: excluded, Welcome path secret ----

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void joinersAreExcludedFromEncryptionAndUseTheLcaPathSecret(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 1); // A, B
    TreeKemGroup.Outcome o = g.commit(0, List.of(), 2); // C, D at 2, 3
    // fdp of A is [X=1, Y=3]; Y's copath child Z=5 resolves to [C, D], all new: no ciphertext.
    assertThat(o.fdp()).containsExactly(1, 3);
    List<UpdatePath.Node> nodes = o.created().path().nodes();
    assertThat(nodes.get(0).encryptedPathSecret()).hasSize(1);
    assertThat(nodes.get(1).encryptedPathSecret()).isEmpty();
    assertThat(g.member(2).pathSecrets).containsOnlyKeys(3);
    assertNoCiphertextFor(g, o, o.joined());

    // Larger: joiners land in a blank slot (unmerged below the LCA) and in an extension.
    for (int i = 0; i < 4; i++) {
      g.commit(i % 4, List.of(), 1);
    }
    g.commit(3, List.of(1, 5), 0);
    TreeKemGroup.Outcome o2 = g.commit(6, List.of(2), 5);
    assertThat(o2.joined()).containsExactly(1, 2, 5, 8, 9);
    assertNoCiphertextFor(g, o2, o2.joined());
    for (int j : o2.joined()) {
      int lca = TreeMath.commonAncestor(TreeMath.leafToNode(j), TreeMath.leafToNode(6));
      int lowest = g.member(j).pathSecrets.keySet().stream().min(java.util.Comparator.comparingInt(TreeMath::level)).orElseThrow();
      assertThat(lowest).as("lowest known node of joiner %d", j).isEqualTo(lca);
    }
    for (int leaf : g.leaves()) {
      g.update(leaf);
    }
  }

  private static void assertNoCiphertextFor(TreeKemGroup g, TreeKemGroup.Outcome o, Set<Integer> joiners) {
    for (int j : joiners) {
      byte[] leafPriv = g.member(j).keys.get(TreeMath.leafToNode(j));
      for (UpdatePath.Node n : o.created().path().nodes()) {
        for (HpkeCiphertext ct : n.encryptedPathSecret()) {
          assertThatThrownBy(() -> open(g.cs, leafPriv, o.context(), ct))
              .as("ciphertext to joiner %d", j).isInstanceOf(GeneralSecurityException.class);
        }
      }
    }
  }

  // ---- random histories ----

  @ParameterizedTest(name = "suite {0}, seed {1}")
  @MethodSource("suitesAndSeeds")
  void randomHistories(int suite, long seed) {
    Random r = new Random(seed);
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    for (int step = 0; step < 30; step++) {
      List<Integer> leaves = g.leaves();
      int s = leaves.size();
      int committer = leaves.get(r.nextInt(s));
      int op = r.nextInt(10);
      try {
        if (s == 1 || (op < 3 && s < 17)) {
          int adds = 1 + r.nextInt(Math.min(3, 17 - s));
          if (r.nextBoolean()) {
            g.commit(committer, List.of(), adds);
          } else {
            g.commitWithoutPath(g.propose(committer, List.of(), adds));
          }
        } else if (op < 6) {
          List<Integer> others = new ArrayList<>(leaves);
          others.remove(Integer.valueOf(committer));
          Collections.shuffle(others, r);
          List<Integer> removes = others.subList(0, 1 + r.nextInt(Math.min(3, others.size())));
          int adds = r.nextInt(3) == 0 ? 1 + r.nextInt(2) : 0;
          g.commit(committer, List.copyOf(removes), adds);
        } else {
          g.update(committer);
        }
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("seed " + seed + " step " + step + " (" + g.size() + " members): " + e, e);
      }
    }
    for (int leaf : g.leaves()) {
      g.update(leaf);
    }
  }

  // ---- RFC §7.4 / §7.5 worked example ----

  /**
   * Four members A, B, C, D; C unmerged at Z (and at Y); B commits. B sends node_pub[0] for X with
   * E(pk(A)), node_pub[1] for Y with E(pk(Z)), E(pk(C)). The tree cannot arise from honest commits
   * under filtered direct paths (Z would have been skipped), so it is written out by hand here, with
   * valid parent hashes and signatures.
   */
  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void rfcWorkedExample(int suite) throws Exception {
    CipherSuite cs = CipherSuites.forId(suite);
    TreeKemGroup g = new TreeKemGroup(cs); // for group id, signing and the context
    TreeKemGroup.Candidate a = g.candidate();
    TreeKemGroup.Candidate b = g.candidate();
    TreeKemGroup.Candidate c = g.candidate();
    TreeKemGroup.Candidate d = g.candidate();
    byte[][] x = cs.deriveKeyPair(Csprng.randomBytes(32));
    byte[][] y = cs.deriveKeyPair(Csprng.randomBytes(32));
    byte[][] z = cs.deriveKeyPair(Csprng.randomBytes(32));
    byte[][] bLeaf = cs.deriveKeyPair(Csprng.randomBytes(32));
    byte[][] dLeaf = cs.deriveKeyPair(Csprng.randomBytes(32));

    RatchetTree t = RatchetTree.fromNodes(
        cs, Arrays.asList(Node.of(a.leaf), null, Node.of(b.leaf), null, Node.of(c.leaf), null, Node.of(d.leaf)));
    ParentNode px = new ParentNode(Bytes.wrap(x[1]), Bytes.wrap(Csprng.randomBytes(32)), List.of());
    t.setParent(1, px);
    byte[] phB = g.parentHashOf(px.encryptionKey(), px.parentHash(), t.treeHash(0));
    LeafNode bCommit = commitLeaf(g, b, 1, bLeaf[1], phB);
    t.setLeaf(1, bCommit);
    ParentNode py = new ParentNode(Bytes.wrap(y[1]), Bytes.EMPTY, List.of(2));
    t.setParent(3, py);
    byte[] phZ = g.parentHashOf(py.encryptionKey(), Bytes.EMPTY, t.treeHash(1));
    ParentNode pz = new ParentNode(Bytes.wrap(z[1]), Bytes.wrap(phZ), List.of(2));
    t.setParent(5, pz);
    // Original sibling tree hash of C's leaf with Z's unmerged leaf 2 removed: the blank leaf 2.
    byte[] blankLeaf2 = cs.hash(new TlsWriter().u8(1).u32(2).u8(0).toByteArray());
    byte[] phD = g.parentHashOf(pz.encryptionKey(), pz.parentHash(), blankLeaf2);
    assertThat(t.parentHash(5, 4)).as("original sibling tree hash excludes unmerged leaves").isEqualTo(phD);
    t.setLeaf(3, commitLeaf(g, d, 3, dLeaf[1], phD));
    assertThat(t.parentHashesValid()).isTrue();
    assertThat(t.resolution(5)).containsExactly(5, 4);

    TreeKem.PrivateKeys ka = new TreeKem.PrivateKeys(0, a.hpkePriv);
    ka.put(1, x[0]);
    ka.put(3, y[0]);
    TreeKem.PrivateKeys kb = new TreeKem.PrivateKeys(1, bLeaf[0]);
    kb.put(1, x[0]);
    kb.put(3, y[0]);
    TreeKem.PrivateKeys kc = new TreeKem.PrivateKeys(2, c.hpkePriv);
    TreeKem.PrivateKeys kd = new TreeKem.PrivateKeys(3, dLeaf[0]);
    kd.put(5, z[0]);
    kd.put(3, y[0]);
    TreeKem.PrivateKeys[] keys = {ka, kb, kc, kd};
    for (int i = 0; i < 4; i++) {
      assertThat(keys[i].nodes()).containsExactlyElementsOf(TreeKemGroup.entitledNodes(t, i));
    }

    RatchetTree[] trees = {t.copy(), t, t.copy(), t.copy()};
    Function<byte[], byte[]> ctx = g.contextFor(1);
    TreeKem.Created cr =
        TreeKem.createUpdatePath(trees[1], kb, (enc, ph) -> commitLeaf(g, b, 1, enc.toByteArray(), ph.toByteArray()), Set.of(), ctx);
    byte[] context = ctx.apply(trees[1].treeHash());
    List<UpdatePath.Node> nodes = cr.path().nodes();
    assertThat(nodes).hasSize(2);
    // X: E(pk(A), path_secret[0])
    assertThat(nodes.get(0).encryptedPathSecret()).hasSize(1);
    assertThat(open(cs, a.hpkePriv, context, nodes.get(0).encryptedPathSecret().get(0))).isEqualTo(cr.pathSecrets().get(0));
    // Y: E(pk(Z), path_secret[1]), E(pk(C), path_secret[1]), in that order
    List<HpkeCiphertext> rootCts = nodes.get(1).encryptedPathSecret();
    assertThat(rootCts).hasSize(2);
    assertThat(open(cs, z[0], context, rootCts.get(0))).isEqualTo(cr.pathSecrets().get(1));
    assertThat(open(cs, c.hpkePriv, context, rootCts.get(1))).isEqualTo(cr.pathSecrets().get(1));
    assertThatThrownBy(() -> open(cs, c.hpkePriv, context, rootCts.get(0))).isInstanceOf(GeneralSecurityException.class);
    assertThatThrownBy(() -> open(cs, z[0], context, rootCts.get(1))).isInstanceOf(GeneralSecurityException.class);
    assertThatThrownBy(() -> open(cs, dLeaf[0], context, rootCts.get(0))).isInstanceOf(GeneralSecurityException.class);

    int[] expectNode = {1, -1, 3, 3};
    for (int i : new int[] {0, 2, 3}) {
      TreeKem.Applied ap = TreeKem.applyUpdatePath(trees[i], 1, cr.path(), keys[i], Set.of(), ctx);
      assertThat(ap.commitSecret()).isEqualTo(cr.commitSecret());
      assertThat(ap.pathSecretNode()).isEqualTo(expectNode[i]);
      assertThat(ap.pathSecret()).isEqualTo(cr.pathSecrets().get(expectNode[i] == 1 ? 0 : 1));
      assertThat(trees[i].encode()).isEqualTo(t.encode());
    }
    assertThat(t.parentHashesValid()).isTrue();
    assertThat(t.parent(5).unmergedLeaves()).containsExactly(2); // Z untouched
    assertThat(t.parent(3).unmergedLeaves()).isEmpty();
    // A holds X', Y'; B too; C only Y' (still unmerged at Z); D holds Z and Y' but not X'.
    assertThat(ka.nodes()).containsExactly(0, 1, 3);
    assertThat(kb.nodes()).containsExactly(1, 2, 3);
    assertThat(kc.nodes()).containsExactly(3, 4);
    assertThat(kd.nodes()).containsExactly(3, 5, 6);
    for (int i = 0; i < 4; i++) {
      assertThat(keys[i].nodes()).containsExactlyElementsOf(TreeKemGroup.entitledNodes(t, i));
      for (int n : keys[i].nodes()) {
        byte[] pub = TreeMath.isLeaf(n)
            ? t.leaf(n / 2).encryptionKey().toByteArray()
            : t.parent(n).encryptionKey().toByteArray();
        assertThat(TreeKemGroup.publicOf(keys[i].get(n))).isEqualTo(pub);
      }
    }
  }

  private static LeafNode commitLeaf(TreeKemGroup g, TreeKemGroup.Candidate who, int leaf, byte[] enc, byte[] ph) {
    LeafNode unsigned = new LeafNode(
        Bytes.wrap(enc), who.signaturePub, who.credential, g.capabilities(), Codes.LEAF_SOURCE_COMMIT, null,
        Bytes.wrap(ph), List.of(), Bytes.EMPTY);
    return g.sign(unsigned, leaf, who.signaturePriv);
  }

  static byte[] open(CipherSuite cs, byte[] priv, byte[] context, HpkeCiphertext ct) throws GeneralSecurityException {
    return MlsCrypto.decryptWithLabel(
        cs, priv, "UpdatePathNode", context, ct.kemOutput().toByteArray(), ct.ciphertext().toByteArray());
  }

  // ---- filtered direct path (§4.1.2) ----

  /** The five-member tree of RFC §4.1.2: A B _ _ E F G _, with T, X, Y, W set and U, V, Z blank. */
  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void filteredDirectPathSkipsNodesWithEmptyCopathResolution(int suite) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 7); // T, U, W set by A
    g.commit(4, List.of(2, 3, 7), 0); // E: X, Y, W
    RatchetTree t = g.tree();
    for (int p : new int[] {1, 7, 9, 11}) {
      assertThat(t.isBlank(p)).as("node %d", p).isFalse();
    }
    for (int p : new int[] {3, 5, 13}) {
      assertThat(t.isBlank(p)).as("node %d", p).isTrue();
    }
    // The RFC's table: A, B: T, W. E, F: X, Y, W. G: Y, W.
    assertThat(t.filteredDirectPath(0)).containsExactly(1, 7);
    assertThat(t.filteredDirectPath(1)).containsExactly(1, 7);
    assertThat(t.filteredDirectPath(4)).containsExactly(9, 11, 7);
    assertThat(t.filteredDirectPath(5)).containsExactly(9, 11, 7);
    assertThat(t.filteredDirectPath(6)).containsExactly(11, 7);
    assertThat(t.resolution(3)).containsExactly(1);
    assertThat(t.resolution(5)).isEmpty();

    TreeKemGroup.Outcome oa = g.update(0);
    assertThat(oa.created().path().nodes()).hasSize(2);
    assertThat(g.tree().isBlank(3)).as("U stays blank").isTrue();
    TreeKemGroup.Outcome og = g.update(6);
    assertThat(og.created().path().nodes()).hasSize(2);
    assertThat(g.tree().isBlank(13)).as("Z stays blank").isTrue();
    assertThat(og.applied().get(5).pathSecretNode()).isEqualTo(11);
    assertThat(og.applied().get(0).pathSecretNode()).isEqualTo(7);

    // Only A and E left: both fdps are just the root.
    g.commit(0, List.of(1, 5, 6), 0);
    assertThat(g.tree().leafCount()).isEqualTo(8);
    assertThat(g.tree().filteredDirectPath(0)).containsExactly(7);
    assertThat(g.tree().filteredDirectPath(4)).containsExactly(7);
    assertThat(g.update(4).created().path().nodes()).hasSize(1);
    assertThat(g.update(0).created().path().nodes()).hasSize(1);
  }

  // ---- independent UpdatePath construction, and malicious committers ----

  /** A group with blanks, unmerged leaves and an add pending in the commit under test. */
  private static Pending richPending(int suite, int committer) {
    TreeKemGroup g = new TreeKemGroup(CipherSuites.forId(suite));
    g.commit(0, List.of(), 7);
    g.update(4);
    g.update(6);
    g.commit(0, List.of(5, 7), 0);
    g.update(4);
    g.commitWithoutPath(g.propose(1, List.of(), 2)); // 5, 7 unmerged at 11 and 7
    g.commit(2, List.of(3), 0); // leaf 3 blank
    return g.propose(committer, List.of(), 1); // the add goes to leaf 3: excluded
  }

  private record Forged(UpdatePath path, RatchetTree tree, byte[] commitSecret) {}

  /**
   * §7.4 – §7.6 written out from the RFC text, independently of TreeKem: path secrets from a random
   * path_secret[0], merge, parent hashes root down, new signed leaf, encryption to the resolution of
   * each copath child minus joiners under the provisional context.
   */
  private static Forged forge(
      TreeKemGroup g, Pending p, UnaryOperator<List<Bytes>> tamperKeys, UnaryOperator<byte[]> tamperLeafPh)
      throws GeneralSecurityException {
    CipherSuite cs = g.cs;
    Member c = p.committer;
    RatchetTree t = p.treeBefore.copy();
    int[] fdp = t.filteredDirectPath(c.leaf);
    List<byte[]> secrets = new ArrayList<>();
    List<Bytes> pks = new ArrayList<>();
    byte[] ps = Csprng.randomBytes(cs.hashLength());
    for (int i = 0; i < fdp.length; i++) {
      secrets.add(ps);
      pks.add(Bytes.wrap(cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, ps, "node"))[1]));
      ps = MlsCrypto.deriveSecret(cs, ps, "path");
    }
    pks = tamperKeys.apply(pks);
    t.blankDirectPath(c.leaf);
    byte[] above = new byte[0];
    for (int i = fdp.length - 1; i >= 0; i--) {
      t.setParent(fdp[i], new ParentNode(pks.get(i), Bytes.wrap(above), List.of()));
      above = g.parentHashOf(pks.get(i), Bytes.wrap(above), t.treeHash(RatchetTree.copathChild(fdp[i], c.node())));
    }
    byte[] leafPub = cs.deriveKeyPair(Csprng.randomBytes(32))[1];
    LeafNode leaf = g.commitLeaf(c, Bytes.wrap(leafPub), Bytes.wrap(tamperLeafPh.apply(above)));
    t.setLeaf(c.leaf, leaf);
    byte[] context = p.context().apply(t.treeHash());
    List<UpdatePath.Node> nodes = new ArrayList<>();
    for (int i = 0; i < fdp.length; i++) {
      List<HpkeCiphertext> cts = new ArrayList<>();
      for (int n : p.treeBefore.resolution(RatchetTree.copathChild(fdp[i], c.node()))) {
        if (TreeMath.isLeaf(n) && p.excluded.contains(n / 2)) {
          continue;
        }
        byte[] pub = TreeMath.isLeaf(n)
            ? p.treeBefore.leaf(n / 2).encryptionKey().toByteArray()
            : p.treeBefore.parent(n).encryptionKey().toByteArray();
        var s = MlsCrypto.encryptWithLabel(cs, pub, "UpdatePathNode", context, secrets.get(i));
        cts.add(new HpkeCiphertext(Bytes.wrap(s.kemOutput()), Bytes.wrap(s.ciphertext())));
      }
      nodes.add(new UpdatePath.Node(pks.get(i), cts));
    }
    return new Forged(new UpdatePath(leaf, nodes), t, ps);
  }

  private static List<Member> receivers(TreeKemGroup g, Pending p) {
    List<Member> out = new ArrayList<>();
    for (int leaf : g.leaves()) {
      if (leaf != p.committer.leaf) {
        out.add(g.member(leaf));
      }
    }
    return out;
  }

  private static TreeKem.Applied applyOnCopy(Pending p, Member m, UpdatePath path, RatchetTree[] out) {
    RatchetTree t = m.tree.copy();
    TreeKem.Applied a = TreeKem.applyUpdatePath(t, p.committer.leaf, path, m.keys.copy(), p.excluded, p.context());
    if (out != null) {
      out[0] = t;
    }
    return a;
  }

  private static MessageRejectedException rejected(Pending p, Member m, UpdatePath path) {
    MessageRejectedException e = catchThrowableOfType(
        MessageRejectedException.class, () -> applyOnCopy(p, m, path, null));
    assertThat(e).as("%s must reject the UpdatePath", m).isNotNull();
    return e;
  }

  private static TreeKemGroup groupOf(Pending p) {
    return p.group();
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void independentlyBuiltUpdatePathIsAcceptedWithTheSameResult(int suite) throws Exception {
    for (int committer : new int[] {0, 5, 6}) {
      Pending p = richPending(suite, committer);
      TreeKemGroup g = groupOf(p);
      Forged f = forge(g, p, k -> k, h -> h);
      for (Member m : receivers(g, p)) {
        RatchetTree[] out = new RatchetTree[1];
        TreeKem.Applied a = applyOnCopy(p, m, f.path(), out);
        assertThat(a.commitSecret()).as("commit secret of %s", m).isEqualTo(f.commitSecret());
        assertThat(out[0].encode()).isEqualTo(f.tree().encode());
        assertThat(out[0].treeHash()).isEqualTo(f.tree().treeHash());
      }
      assertThat(f.tree().parentHashesValid()).isTrue();
      g.commitWithPath(p); // and the honest production commit passes all checks
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void flippedCiphertextByteIsDecryptFailed(int suite) {
    Pending p = richPending(suite, 0);
    TreeKemGroup g = groupOf(p);
    Member c = p.committer;
    TreeKem.Created cr = TreeKem.createUpdatePath(
        c.tree.copy(), c.keys.copy(), g.signer(c), p.excluded, p.context());
    int[] fdp = p.treeBefore.filteredDirectPath(c.leaf);
    int checked = 0;
    for (Member m : receivers(g, p)) {
      int i = TreeKemGroup.decryptIndex(fdp, c.node(), m.node());
      List<Integer> targets = new ArrayList<>(p.treeBefore.resolution(RatchetTree.copathChild(fdp[i], c.node())));
      targets.removeIf(n -> TreeMath.isLeaf(n) && p.excluded.contains(n / 2));
      int j = -1;
      for (int k = 0; k < targets.size(); k++) {
        if (m.keys.get(targets.get(k)) != null) {
          j = k;
          break;
        }
      }
      assertThat(j).isGreaterThanOrEqualTo(0);
      for (boolean inKem : new boolean[] {false, true}) {
        UpdatePath bad = mapCiphertext(cr.path(), i, j, ct -> inKem
            ? new HpkeCiphertext(flip(ct.kemOutput(), 0), ct.ciphertext())
            : new HpkeCiphertext(ct.kemOutput(), flip(ct.ciphertext(), ct.ciphertext().length() - 1)));
        assertThat(rejected(p, m, bad).reason()).as("%s, flipped %s", m, inKem ? "kem_output" : "ciphertext")
            .isEqualTo(Reason.DECRYPT_FAILED);
        // Members decrypting another ciphertext are not affected.
        for (Member o : receivers(g, p)) {
          int oi = TreeKemGroup.decryptIndex(fdp, c.node(), o.node());
          if (oi != i) {
            assertThat(applyOnCopy(p, o, bad, null).commitSecret()).isEqualTo(cr.commitSecret());
            break;
          }
        }
      }
      // A kem_output of the wrong length or a truncated ciphertext: still DECRYPT_FAILED, never a crash.
      UpdatePath shortKem = mapCiphertext(cr.path(), i, j, ct -> new HpkeCiphertext(Bytes.EMPTY, ct.ciphertext()));
      assertThat(rejected(p, m, shortKem).reason()).isEqualTo(Reason.DECRYPT_FAILED);
      UpdatePath shortCt = mapCiphertext(cr.path(), i, j, ct -> new HpkeCiphertext(ct.kemOutput(), Bytes.of((byte) 1)));
      assertThat(rejected(p, m, shortCt).reason()).isEqualTo(Reason.DECRYPT_FAILED);
      checked++;
    }
    assertThat(checked).isEqualTo(g.size() - 1);
    // Two ciphertexts of the root swapped: the members that decrypt them both fail.
    List<HpkeCiphertext> root = cr.path().nodes().get(fdp.length - 1).encryptedPathSecret();
    assertThat(root.size()).isGreaterThanOrEqualTo(2);
    List<HpkeCiphertext> swapped = new ArrayList<>(root);
    Collections.swap(swapped, 0, 1);
    UpdatePath sw = withNode(cr.path(), fdp.length - 1, new UpdatePath.Node(cr.path().nodes().get(fdp.length - 1).encryptionKey(), swapped));
    int failures = 0;
    for (Member m : receivers(g, p)) {
      try {
        applyOnCopy(p, m, sw, null);
      } catch (MessageRejectedException e) {
        assertThat(e.reason()).isEqualTo(Reason.DECRYPT_FAILED);
        failures++;
      }
    }
    assertThat(failures).isGreaterThanOrEqualTo(2);
    g.commitWithPath(p);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void wrongLeafParentHashIsMalformed(int suite) throws Exception {
    Pending p = richPending(suite, 6);
    TreeKemGroup g = groupOf(p);
    List<UnaryOperator<byte[]>> tampers = List.of(
        h -> flip(Bytes.wrap(h), 0).toByteArray(),
        h -> new byte[0],
        h -> Arrays.copyOf(h, h.length + 1));
    for (UnaryOperator<byte[]> tamper : tampers) {
      Forged f = forge(g, p, k -> k, tamper);
      for (Member m : receivers(g, p)) {
        MessageRejectedException e = rejected(p, m, f.path());
        assertThat(e.reason()).isEqualTo(Reason.MALFORMED);
        assertThat(e).hasMessageContaining("parent hash");
      }
    }
    // The committer re-signs the production path's leaf with another parent hash.
    Member c = p.committer;
    TreeKem.Created cr = TreeKem.createUpdatePath(c.tree.copy(), c.keys.copy(), g.signer(c), p.excluded, p.context());
    LeafNode l = cr.path().leafNode();
    LeafNode wrong = g.commitLeaf(c, l.encryptionKey(), flip(l.parentHash(), 5));
    for (Member m : receivers(g, p)) {
      assertThat(rejected(p, m, new UpdatePath(wrong, cr.path().nodes())).reason()).isEqualTo(Reason.MALFORMED);
    }
    // A leaf that is not of source commit.
    LeafNode upd = g.sign(new LeafNode(l.encryptionKey(), l.signatureKey(), l.credential(), l.capabilities(),
        Codes.LEAF_SOURCE_UPDATE, null, null, List.of(), Bytes.EMPTY), c.leaf, c.signaturePriv);
    for (Member m : receivers(g, p)) {
      assertThat(rejected(p, m, new UpdatePath(upd, cr.path().nodes())).reason()).isEqualTo(Reason.MALFORMED);
    }
    g.commitWithPath(p);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void wrongNumberOfNodesOrCiphertextsIsMalformed(int suite) {
    for (int committer : new int[] {0, 6}) {
      Pending p = richPending(suite, committer);
      TreeKemGroup g = groupOf(p);
      Member c = p.committer;
      TreeKem.Created cr = TreeKem.createUpdatePath(c.tree.copy(), c.keys.copy(), g.signer(c), p.excluded, p.context());
      UpdatePath path = cr.path();
      int n = path.nodes().size();
      List<UpdatePath> bad = new ArrayList<>();
      bad.add(new UpdatePath(path.leafNode(), path.nodes().subList(0, n - 1))); // root node dropped
      bad.add(new UpdatePath(path.leafNode(), path.nodes().subList(1, n))); // lowest dropped
      List<UpdatePath.Node> more = new ArrayList<>(path.nodes());
      more.add(path.nodes().get(n - 1));
      bad.add(new UpdatePath(path.leafNode(), more));
      bad.add(new UpdatePath(path.leafNode(), List.of()));
      for (int i = 0; i < n; i++) {
        UpdatePath.Node node = path.nodes().get(i);
        List<HpkeCiphertext> cts = node.encryptedPathSecret();
        if (!cts.isEmpty()) {
          bad.add(withNode(path, i, new UpdatePath.Node(node.encryptionKey(), cts.subList(0, cts.size() - 1))));
          bad.add(withNode(path, i, new UpdatePath.Node(node.encryptionKey(), cts.subList(1, cts.size()))));
        }
        List<HpkeCiphertext> extra = new ArrayList<>(cts);
        extra.add(cts.isEmpty() ? new HpkeCiphertext(Bytes.of((byte) 1), Bytes.of((byte) 2)) : cts.get(0));
        bad.add(withNode(path, i, new UpdatePath.Node(node.encryptionKey(), extra)));
      }
      for (UpdatePath b : bad) {
        for (Member m : receivers(g, p)) {
          assertThat(rejected(p, m, b).reason()).as("%s", m).isEqualTo(Reason.MALFORMED);
        }
      }
      // Receivers that forget the joiner expect one ciphertext more: malformed as well.
      Member m0 = receivers(g, p).get(0);
      MessageRejectedException e = catchThrowableOfType(
          MessageRejectedException.class,
          () -> TreeKem.applyUpdatePath(m0.tree.copy(), c.leaf, path, m0.keys.copy(), Set.of(), p.context()));
      assertThat(e).isNotNull();
      assertThat(e.reason()).isEqualTo(Reason.MALFORMED);
      g.commitWithPath(p);
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void publicKeyNotMatchingThePathSecretIsMalformed(int suite) throws Exception {
    Pending p = richPending(suite, 0);
    TreeKemGroup g = groupOf(p);
    Member c = p.committer;
    int[] fdp = p.treeBefore.filteredDirectPath(c.leaf);
    assertThat(fdp.length).isGreaterThanOrEqualTo(2);
    for (int k = 0; k < fdp.length; k++) {
      int kk = k;
      Bytes rogue = Bytes.wrap(g.cs.deriveKeyPair(Csprng.randomBytes(32))[1]);
      Forged f = forge(g, p, keys -> {
        List<Bytes> l = new ArrayList<>(keys);
        l.set(kk, rogue);
        return l;
      }, h -> h);
      int rejectedCount = 0;
      for (Member m : receivers(g, p)) {
        int idx = TreeKemGroup.decryptIndex(fdp, c.node(), m.node());
        if (idx <= k) {
          MessageRejectedException e = rejected(p, m, f.path());
          assertThat(e.reason()).as("%s, rogue key at fdp[%d]", m, k).isEqualTo(Reason.MALFORMED);
          rejectedCount++;
        } else {
          // Above its own ciphertext a member cannot tell: it never derives that key.
          assertThat(applyOnCopy(p, m, f.path(), null).commitSecret()).isEqualTo(f.commitSecret());
        }
      }
      assertThat(rejectedCount).isPositive();
      if (k == fdp.length - 1) {
        assertThat(rejectedCount).as("everyone derives the root key").isEqualTo(g.size() - 1);
      }
    }
    g.commitWithPath(p);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void joinerWithAWrongPathSecretIsMalformed(int suite) {
    Pending p = richPending(suite, 0);
    TreeKemGroup g = groupOf(p);
    Member c = p.committer;
    RatchetTree t = c.tree.copy();
    TreeKem.Created cr = TreeKem.createUpdatePath(t, c.keys.copy(), g.signer(c), p.excluded, p.context());
    int joiner = p.excluded.iterator().next();
    TreeKemGroup.Candidate cand = p.joiners.get(joiner);
    int[] fdp = t.filteredDirectPath(c.leaf);
    int idx = TreeKemGroup.decryptIndex(fdp, c.node(), TreeMath.leafToNode(joiner));
    assertThat(fdp[idx]).isEqualTo(TreeMath.commonAncestor(TreeMath.leafToNode(joiner), c.node()));
    int[] from = Arrays.copyOfRange(fdp, idx, fdp.length);
    // The path secret of another node, a random one, and the right one for a path starting one too low.
    for (byte[] wrong : List.of(cr.pathSecrets().get(idx == 0 ? 1 : 0), Csprng.randomBytes(g.cs.hashLength()))) {
      MessageRejectedException e = catchThrowableOfType(MessageRejectedException.class,
          () -> TreeKem.derivePathKeys(t.copy(), new TreeKem.PrivateKeys(joiner, cand.hpkePriv), from, wrong));
      assertThat(e).isNotNull();
      assertThat(e.reason()).isEqualTo(Reason.MALFORMED);
    }
    int[] withBlank = new int[from.length + 1];
    withBlank[0] = TreeMath.parent(TreeMath.leafToNode(joiner), t.leafCount()); // blank or not the LCA
    System.arraycopy(from, 0, withBlank, 1, from.length);
    if (withBlank[0] != from[0]) {
      MessageRejectedException e = catchThrowableOfType(MessageRejectedException.class,
          () -> TreeKem.derivePathKeys(t.copy(), new TreeKem.PrivateKeys(joiner, cand.hpkePriv), withBlank,
              cr.pathSecrets().get(idx)));
      assertThat(e).isNotNull();
      assertThat(e.reason()).isEqualTo(Reason.MALFORMED);
    }
    assertThat(TreeKem.derivePathKeys(t.copy(), new TreeKem.PrivateKeys(joiner, cand.hpkePriv), from, cr.pathSecrets().get(idx)))
        .isEqualTo(cr.commitSecret());
    g.commitWithPath(p);
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void tamperedParentHashInTheTreeIsDetected(int suite) {
    Pending p = richPending(suite, 6);
    TreeKemGroup g = groupOf(p);
    g.commitWithPath(p);
    RatchetTree t = g.tree();
    assertThat(t.parentHashesValid()).isTrue();
    for (int n = 1; n < t.nodeWidth(); n += 2) {
      ParentNode pn = t.parent(n);
      if (pn == null) {
        continue;
      }
      RatchetTree bad = t.copy();
      bad.setParent(n, new ParentNode(pn.encryptionKey(), flipOrSet(pn.parentHash()), pn.unmergedLeaves()));
      boolean isRoot = n == TreeMath.root(t.leafCount());
      // Changing a node's parent_hash breaks the link to it from below, except at the root where the
      // link to the parent does not exist and the node's own hash changes: both must be caught.
      assertThat(bad.parentHashesValid()).as("parent_hash of node %d tampered (root: %s)", n, isRoot).isFalse();
      RatchetTree bad2 = t.copy();
      byte[] k = g.cs.deriveKeyPair(Csprng.randomBytes(32))[1];
      bad2.setParent(n, new ParentNode(Bytes.wrap(k), pn.parentHash(), pn.unmergedLeaves()));
      assertThat(bad2.parentHashesValid()).as("key of node %d replaced", n).isFalse();
    }
  }

  private static Bytes flipOrSet(Bytes b) {
    return b.isEmpty() ? Bytes.of((byte) 0) : flip(b, 0);
  }

  @Test
  void createRejectsASignerThatChangesTheLeaf() {
    Pending p = richPending(1, 0);
    TreeKemGroup g = groupOf(p);
    Member c = p.committer;
    assertThatThrownBy(() -> TreeKem.createUpdatePath(
            c.tree.copy(), c.keys.copy(),
            (enc, ph) -> g.commitLeaf(c, enc, Bytes.wrap(new byte[ph.length()])), p.excluded, p.context()))
        .isInstanceOf(IllegalStateException.class);
  }

  // ---- deterministic derivation (package-private entry point) ----

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void leafSecretDerivation(int suite) {
    Pending p = richPending(suite, 5);
    TreeKemGroup g = groupOf(p);
    CipherSuite cs = g.cs;
    Member c = p.committer;
    byte[] leafSecret = Csprng.randomBytes(cs.hashLength());
    TreeKem.PrivateKeys keys = c.keys.copy();
    TreeKem.Created cr = TreeKem.createUpdatePath(c.tree.copy(), keys, g.signer(c), p.excluded, p.context(), leafSecret);
    // leaf_secret -> leaf key; path_secret[0] = DeriveSecret(leaf_secret, "path") (§7.4 figure).
    byte[][] leaf = cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, leafSecret, "node"));
    assertThat(cr.path().leafNode().encryptionKey().toByteArray()).isEqualTo(leaf[1]);
    assertThat(keys.get(c.node())).isEqualTo(leaf[0]);
    assertThat(cr.pathSecrets().get(0)).isEqualTo(MlsCrypto.deriveSecret(cs, leafSecret, "path"));
    byte[] ps = cr.pathSecrets().get(cr.pathSecrets().size() - 1);
    assertThat(cr.commitSecret()).isEqualTo(MlsCrypto.deriveSecret(cs, ps, "path"));
  }

  // ---- helpers ----

  private static Bytes flip(Bytes b, int index) {
    byte[] a = b.toByteArray();
    a[index] ^= 0x01;
    return Bytes.wrap(a);
  }

  private static UpdatePath withNode(UpdatePath path, int i, UpdatePath.Node node) {
    List<UpdatePath.Node> nodes = new ArrayList<>(path.nodes());
    nodes.set(i, node);
    return new UpdatePath(path.leafNode(), nodes);
  }

  private static UpdatePath mapCiphertext(UpdatePath path, int i, int j, UnaryOperator<HpkeCiphertext> f) {
    UpdatePath.Node node = path.nodes().get(i);
    List<HpkeCiphertext> cts = new ArrayList<>(node.encryptedPathSecret());
    cts.set(j, f.apply(cts.get(j)));
    return withNode(path, i, new UpdatePath.Node(node.encryptionKey(), cts));
  }
}
