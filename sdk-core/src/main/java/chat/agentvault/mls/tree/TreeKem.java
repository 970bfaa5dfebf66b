package chat.agentvault.mls.tree;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.crypto.Parallel;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.HpkeCiphertext;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.ParentNode;
import chat.agentvault.mls.message.UpdatePath;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * TreeKEM (RFC 9420 §7.4 – §7.6): creating an UpdatePath, merging one into the tree, and
 * decrypting the path secret a member is entitled to.
 *
 * <p>Operations mutate the {@link RatchetTree} and {@link PrivateKeys} given to them; callers that
 * need all-or-nothing semantics (the group state machine does) run them on copies and keep the
 * copies only on success.
 */
public final class TreeKem {
  private static final String LABEL = "UpdatePathNode";

  private TreeKem() {}

  /** The HPKE private keys one member holds: its leaf and the parent nodes it knows (tree invariant). */
  public static final class PrivateKeys implements AutoCloseable {
    private final int ownLeaf;
    private final Map<Integer, byte[]> byNode = new HashMap<>();

    public PrivateKeys(int ownLeaf, byte[] leafPrivateKey) {
      this.ownLeaf = ownLeaf;
      byNode.put(TreeMath.leafToNode(ownLeaf), leafPrivateKey.clone());
    }

    public int ownLeaf() {
      return ownLeaf;
    }

    /** The private key of a node, or null. */
    public byte[] get(int node) {
      byte[] k = byNode.get(node);
      return k == null ? null : k.clone();
    }

    public void put(int node, byte[] privateKey) {
      byte[] old = byNode.put(node, privateKey.clone());
      SecretBytes.wipe(old);
    }

    public void remove(int node) {
      SecretBytes.wipe(byNode.remove(node));
    }

    /** Node indices with a key, ascending. */
    public List<Integer> nodes() {
      List<Integer> l = new ArrayList<>(byNode.keySet());
      l.sort(null);
      return l;
    }

    public PrivateKeys copy() {
      PrivateKeys c = new PrivateKeys(ownLeaf, byNode.get(TreeMath.leafToNode(ownLeaf)));
      byNode.forEach((k, v) -> c.byNode.put(k, v.clone()));
      return c;
    }

    /** Drops keys of nodes that are now blank or beyond the tree (after a merge or truncation). */
    public void prune(RatchetTree tree) {
      for (Integer n : new ArrayList<>(byNode.keySet())) {
        if (n >= tree.nodeWidth() || tree.isBlank(n)) {
          remove(n);
        }
      }
    }

    @Override
    public void close() {
      byNode.values().forEach(SecretBytes::wipe);
      byNode.clear();
    }

    @Override
    public String toString() {
      return "PrivateKeys[leaf=" + ownLeaf + ", nodes=" + byNode.size() + ", redacted]";
    }
  }

  /** Builds and signs the committer's new leaf once its encryption key and parent hash are known. */
  @FunctionalInterface
  public interface LeafSigner {
    LeafNode sign(Bytes encryptionKey, Bytes parentHash);
  }

  /**
   * The result of applying another member's UpdatePath: the commit secret, and the path secret this
   * member decrypted with the node it belongs to. Both are secrets.
   */
  public record Applied(byte[] commitSecret, byte[] pathSecret, int pathSecretNode) {}

  /** The result of creating an UpdatePath. {@code commitSecret} and the private keys are secrets. */
  public record Created(UpdatePath path, byte[] commitSecret, List<byte[]> pathSecrets) {}

  /**
   * Creates an UpdatePath for {@code ownLeaf} and merges it into {@code tree} and {@code keys}.
   *
   * @param excludedLeaves leaf indices added by the same commit: not encrypted to (§7.6)
   * @param contextForTreeHash the provisional GroupContext encoding for the tree hash after the merge
   */
  public static Created createUpdatePath(
      RatchetTree tree,
      PrivateKeys keys,
      LeafSigner signer,
      Set<Integer> excludedLeaves,
      Function<byte[], byte[]> contextForTreeHash) {
    return createUpdatePath(tree, keys, signer, excludedLeaves, contextForTreeHash, Csprng.randomBytes(tree.suite().hashLength()));
  }

  static Created createUpdatePath(
      RatchetTree tree,
      PrivateKeys keys,
      LeafSigner signer,
      Set<Integer> excludedLeaves,
      Function<byte[], byte[]> contextForTreeHash,
      byte[] leafSecret) {
    CipherSuite cs = tree.suite();
    int ownLeaf = keys.ownLeaf();
    int leafNode = TreeMath.leafToNode(ownLeaf);
    int[] fdp = tree.filteredDirectPath(ownLeaf);

    byte[][] leafKey = cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, leafSecret, "node"));
    List<byte[]> pathSecrets = new ArrayList<>();
    byte[] ps = MlsCrypto.deriveSecret(cs, leafSecret, "path");
    List<Bytes> publicKeys = new ArrayList<>();
    List<byte[]> privateKeys = new ArrayList<>();
    for (int i = 0; i < fdp.length; i++) {
      pathSecrets.add(ps);
      byte[][] kp = cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, ps, "node"));
      privateKeys.add(kp[0]);
      publicKeys.add(Bytes.wrap(kp[1]));
      ps = MlsCrypto.deriveSecret(cs, ps, "path");
    }
    byte[] commitSecret = ps;

    // Resolutions of the copath children, taken before the merge (the merge does not touch them).
    List<List<Integer>> targets = new ArrayList<>();
    for (int p : fdp) {
      targets.add(encryptionTargets(tree, RatchetTree.copathChild(p, leafNode), excludedLeaves));
    }

    byte[] leafParentHash = mergePublicKeys(tree, ownLeaf, fdp, publicKeys);
    LeafNode newLeaf = signer.sign(Bytes.wrap(leafKey[1]), Bytes.wrap(leafParentHash));
    if (newLeaf.source() != Codes.LEAF_SOURCE_COMMIT
        || !Arrays.equals(newLeaf.parentHash().unsafeArray(), leafParentHash)
        || !Arrays.equals(newLeaf.encryptionKey().unsafeArray(), leafKey[1])) {
      throw new IllegalStateException("LeafSigner must return a commit leaf with the given key and parent hash");
    }
    tree.setLeaf(ownLeaf, newLeaf);

    // Private state: the old keys of the direct path are gone, the new ones are ours.
    for (int p : TreeMath.directPath(leafNode, tree.leafCount())) {
      keys.remove(p);
    }
    keys.put(leafNode, leafKey[0]);
    for (int i = 0; i < fdp.length; i++) {
      keys.put(fdp[i], privateKeys.get(i));
      SecretBytes.wipe(privateKeys.get(i));
    }
    SecretBytes.wipe(leafKey[0]);
    // Keys of nodes a Remove in this commit cut off by truncation are not on the new direct path:
    // delete them too (§7.5 "delete outdated key material"; tree invariant §4.2).
    keys.prune(tree);

    byte[] context = contextForTreeHash.apply(tree.treeHash());
    // Every path secret goes to every node of its copath resolution, each its own HPKE seal with
    // the same label and context (hashed once): independent, so done on several cores. After an
    // Add of many members (blank parents) that is one seal per member.
    MlsCrypto.Encryptor encryptor = MlsCrypto.encryptorWithLabel(cs, LABEL, context);
    int total = 0;
    for (List<Integer> t : targets) {
      total += t.size();
    }
    int[] pathIndex = new int[total];
    byte[][] targetKeys = new byte[total][];
    int k = 0;
    for (int i = 0; i < fdp.length; i++) {
      for (int target : targets.get(i)) {
        pathIndex[k] = i;
        targetKeys[k++] = publicKeyOf(tree, target).unsafeArray();
      }
    }
    HpkeCiphertext[] sealed = new HpkeCiphertext[total];
    GeneralSecurityException[] failed = new GeneralSecurityException[total];
    Parallel.forEach(
        total,
        j -> {
          try {
            CipherSuite.HpkeSealed c = encryptor.encrypt(targetKeys[j], pathSecrets.get(pathIndex[j]));
            sealed[j] = new HpkeCiphertext(Bytes.wrap(c.kemOutput()), Bytes.wrap(c.ciphertext()));
          } catch (GeneralSecurityException e) {
            failed[j] = e;
          }
        });
    List<UpdatePath.Node> nodes = new ArrayList<>();
    k = 0;
    for (int i = 0; i < fdp.length; i++) {
      List<HpkeCiphertext> cts = new ArrayList<>();
      for (int n = 0; n < targets.get(i).size(); n++, k++) {
        if (failed[k] != null) {
          throw new IllegalStateException("HPKE encryption to a tree key failed", failed[k]);
        }
        cts.add(sealed[k]);
      }
      nodes.add(new UpdatePath.Node(publicKeys.get(i), cts));
    }
    return new Created(new UpdatePath(newLeaf, nodes), commitSecret, pathSecrets);
  }

  /** The resolution of a copath child without the leaves added in this commit. */
  static List<Integer> encryptionTargets(RatchetTree tree, int copathChild, Set<Integer> excludedLeaves) {
    List<Integer> res = tree.resolution(copathChild);
    if (excludedLeaves.isEmpty()) {
      return res;
    }
    List<Integer> out = new ArrayList<>(res.size());
    for (int n : res) {
      if (!(TreeMath.isLeaf(n) && excludedLeaves.contains(TreeMath.nodeToLeaf(n)))) {
        out.add(n);
      }
    }
    return out;
  }

  private static Bytes publicKeyOf(RatchetTree tree, int node) {
    return TreeMath.isLeaf(node)
        ? tree.leaf(TreeMath.nodeToLeaf(node)).encryptionKey()
        : tree.parent(node).encryptionKey();
  }

  /**
   * Merges the public part of an UpdatePath (§7.6): blanks the direct path, sets the filtered direct
   * path's keys with empty unmerged lists, computes parent hashes from the root down.
   *
   * @return the parent hash the committer's new leaf must carry
   */
  private static byte[] mergePublicKeys(RatchetTree tree, int senderLeaf, int[] fdp, List<Bytes> publicKeys) {
    int leafNode = TreeMath.leafToNode(senderLeaf);
    tree.blankDirectPath(senderLeaf);
    for (int i = 0; i < fdp.length; i++) {
      tree.setParent(fdp[i], new ParentNode(publicKeys.get(i), Bytes.EMPTY, List.of()));
    }
    byte[] above = new byte[0];
    for (int i = fdp.length - 1; i >= 0; i--) {
      tree.setParent(fdp[i], new ParentNode(publicKeys.get(i), Bytes.wrap(above), List.of()));
      above = tree.parentHash(fdp[i], RatchetTree.copathChild(fdp[i], leafNode));
    }
    return above;
  }

  /**
   * Applies another member's UpdatePath (§7.6): merges it into {@code tree}, checks the new leaf's
   * parent hash, decrypts the path secret for {@code keys}' member, verifies every derived public
   * key, and updates {@code keys}.
   *
   * @return the commit secret and the decrypted path secret
   * @throws MessageRejectedException MALFORMED on a path of the wrong shape, a wrong parent hash or
   *     mismatching derived keys; DECRYPT_FAILED when the path secret does not decrypt
   */
  public static Applied applyUpdatePath(
      RatchetTree tree,
      int senderLeaf,
      UpdatePath path,
      PrivateKeys keys,
      Set<Integer> excludedLeaves,
      Function<byte[], byte[]> contextForTreeHash) {
    CipherSuite cs = tree.suite();
    int senderNode = TreeMath.leafToNode(senderLeaf);
    int ownNode = TreeMath.leafToNode(keys.ownLeaf());
    if (senderLeaf == keys.ownLeaf()) {
      throw new IllegalArgumentException("own UpdatePaths are applied when created");
    }
    int[] fdp = tree.filteredDirectPath(senderLeaf);
    if (path.nodes().size() != fdp.length) {
      throw new MessageRejectedException(
          Reason.MALFORMED, "UpdatePath has " + path.nodes().size() + " nodes, filtered direct path " + fdp.length);
    }
    if (path.leafNode().source() != Codes.LEAF_SOURCE_COMMIT) {
      throw new MessageRejectedException(Reason.MALFORMED, "UpdatePath leaf source is not commit");
    }
    // Where our secret comes from: the first fdp node whose copath child holds our leaf.
    int index = -1;
    List<Integer> targets = null;
    for (int i = 0; i < fdp.length; i++) {
      int c = RatchetTree.copathChild(fdp[i], senderNode);
      if (TreeMath.isInSubtree(c, ownNode)) {
        index = i;
        targets = encryptionTargets(tree, c, excludedLeaves);
        break;
      }
    }
    if (index < 0) {
      throw new MessageRejectedException(Reason.MALFORMED, "no node of the UpdatePath covers this member");
    }
    for (int i = 0; i < fdp.length; i++) {
      int c = RatchetTree.copathChild(fdp[i], senderNode);
      int expected = encryptionTargets(tree, c, excludedLeaves).size();
      if (path.nodes().get(i).encryptedPathSecret().size() != expected) {
        throw new MessageRejectedException(Reason.MALFORMED, "wrong number of encrypted path secrets");
      }
    }
    int position = -1;
    byte[] myKey = null;
    for (int j = 0; j < targets.size(); j++) {
      myKey = keys.get(targets.get(j));
      if (myKey != null) {
        position = j;
        break;
      }
    }
    if (position < 0) {
      throw new MessageRejectedException(Reason.MALFORMED, "no private key for the resolution of the copath node");
    }

    List<Bytes> publicKeys = new ArrayList<>();
    for (UpdatePath.Node n : path.nodes()) {
      publicKeys.add(n.encryptionKey());
    }
    byte[] expectedParentHash = mergePublicKeys(tree, senderLeaf, fdp, publicKeys);
    Bytes leafParentHash = path.leafNode().parentHash();
    if (!Arrays.equals(leafParentHash.unsafeArray(), expectedParentHash)) {
      throw new MessageRejectedException(Reason.MALFORMED, "UpdatePath leaf parent hash mismatch (§7.9.2)");
    }
    tree.setLeaf(senderLeaf, path.leafNode());

    byte[] context = contextForTreeHash.apply(tree.treeHash());
    HpkeCiphertext ct = path.nodes().get(index).encryptedPathSecret().get(position);
    byte[] ps;
    try {
      ps = MlsCrypto.decryptWithLabel(
          cs, myKey, LABEL, context, ct.kemOutput().unsafeArray(), ct.ciphertext().unsafeArray());
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.DECRYPT_FAILED, "path secret did not decrypt", e);
    } finally {
      SecretBytes.wipe(myKey);
    }
    for (int p : TreeMath.directPath(senderNode, tree.leafCount())) {
      keys.remove(p);
    }
    byte[] decrypted = ps.clone();
    for (int i = index; i < fdp.length; i++) {
      byte[][] kp = cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, ps, "node"));
      if (!Arrays.equals(kp[1], publicKeys.get(i).unsafeArray())) {
        SecretBytes.wipe(kp[0]);
        throw new MessageRejectedException(Reason.MALFORMED, "derived public key does not match the UpdatePath");
      }
      keys.put(fdp[i], kp[0]);
      SecretBytes.wipe(kp[0]);
      byte[] next = MlsCrypto.deriveSecret(cs, ps, "path");
      SecretBytes.wipe(ps);
      ps = next;
    }
    keys.prune(tree);
    return new Applied(ps, decrypted, fdp[index]);
  }

  /**
   * Derives the private keys of a member from a path secret for {@code node} and its ancestors on
   * the path {@code fdpFromNode} (a joiner's path_secret in GroupSecrets, §12.4.3.1).
   *
   * @return the commit secret those path secrets lead to
   */
  public static byte[] derivePathKeys(
      RatchetTree tree, PrivateKeys keys, int[] fdpFromNode, byte[] pathSecret) {
    CipherSuite cs = tree.suite();
    byte[] ps = pathSecret.clone();
    for (int node : fdpFromNode) {
      byte[][] kp = cs.deriveKeyPair(MlsCrypto.deriveSecret(cs, ps, "node"));
      ParentNode pn = tree.parent(node);
      if (pn == null || !Arrays.equals(kp[1], pn.encryptionKey().unsafeArray())) {
        SecretBytes.wipe(kp[0]);
        throw new MessageRejectedException(Reason.MALFORMED, "path secret does not match the tree");
      }
      keys.put(node, kp[0]);
      SecretBytes.wipe(kp[0]);
      byte[] next = MlsCrypto.deriveSecret(cs, ps, "path");
      SecretBytes.wipe(ps);
      ps = next;
    }
    return ps;
  }
}
