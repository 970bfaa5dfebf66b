package chat.agentvault.mls.tree;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.crypto.Parallel;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.ParentNode;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** LeafNode validation (RFC 9420 §7.3) and ratchet-tree validation on join (§12.4.3.1). */
public final class TreeValidation {
  /** Extension types every implementation supports; they MUST NOT be listed in capabilities (§7.2). */
  static final Set<Integer> DEFAULT_EXTENSIONS = Set.of(1, 2, 3, 4, 5);

  /** Proposal types every implementation supports (§7.2). */
  static final Set<Integer> DEFAULT_PROPOSALS = Set.of(1, 2, 3, 4, 5, 6, 7);

  private TreeValidation() {}

  /** Where a LeafNode was found: decides the expected source and the signature context. */
  public enum Role {
    KEY_PACKAGE(Codes.LEAF_SOURCE_KEY_PACKAGE),
    UPDATE(Codes.LEAF_SOURCE_UPDATE),
    COMMIT(Codes.LEAF_SOURCE_COMMIT),
    /** A leaf already in a tree being joined: any source, checked as it stands. */
    TREE(0);

    final int source;

    Role(int source) {
      this.source = source;
    }
  }

  /**
   * Validates one LeafNode for the group described by {@code tree} and the GroupContext {@code
   * extensions} (§7.3): signature, source, extension support, required capabilities, credential
   * support both ways, lifetime, uniqueness of keys among the other leaves.
   *
   * @param leafIndex the leaf's position (signature context for update and commit sources; ignored
   *     otherwise); the leaf at this index is not compared with itself
   * @param nowSeconds current time for the lifetime check, or -1 to skip it (allowed for received
   *     leaves, §7.3)
   */
  public static void validateLeafNode(
      CipherSuite cs,
      LeafNode leaf,
      Role role,
      RatchetTree tree,
      Bytes groupId,
      int leafIndex,
      List<Extension> groupContextExtensions,
      long nowSeconds) {
    validateLeafNodeAlone(cs, leaf, role, groupId, leafIndex, groupContextExtensions, nowSeconds, null);
    checkAgainstMembers(leaf, tree, leafIndex);
  }

  /**
   * As {@link #validateLeafNode(CipherSuite, LeafNode, Role, RatchetTree, Bytes, int, List, long)},
   * with the leaf's signature already verified: {@code signatureValid} must be what {@link
   * #leafSignatureValid} returned for this leaf, group and index (computed beforehand, e.g. for many
   * leaves at once on several cores). The checks run and fail in the same order.
   */
  public static void validateLeafNode(
      CipherSuite cs,
      LeafNode leaf,
      Role role,
      RatchetTree tree,
      Bytes groupId,
      int leafIndex,
      List<Extension> groupContextExtensions,
      long nowSeconds,
      boolean signatureValid) {
    validateLeafNodeAlone(cs, leaf, role, groupId, leafIndex, groupContextExtensions, nowSeconds, signatureValid);
    checkAgainstMembers(leaf, tree, leafIndex);
  }

  /**
   * §7.3 against every other member: each supports the leaf's credential type and the other way
   * round; signature and encryption keys are not used by another member. Throws on the first
   * conflict, in leaf order.
   */
  private static void checkAgainstMembers(LeafNode leaf, RatchetTree tree, int leafIndex) {
    for (int other : tree.members()) {
      if (other == leafIndex) {
        continue;
      }
      LeafNode o = tree.leaf(other);
      if (!o.capabilities().credentials().contains(leaf.credential().type())) {
        throw new MessageRejectedException(Reason.MALFORMED, "a member does not support this credential type");
      }
      if (!leaf.capabilities().credentials().contains(o.credential().type())) {
        throw new MessageRejectedException(Reason.MALFORMED, "leaf does not support a member's credential type");
      }
      if (o.signatureKey().equals(leaf.signatureKey())) {
        throw new MessageRejectedException(Reason.MALFORMED, "signature key already used in the group (§7.3)");
      }
      if (o.encryptionKey().equals(leaf.encryptionKey())) {
        throw new MessageRejectedException(Reason.MALFORMED, "encryption key already used in the group (§7.3)");
      }
    }
  }

  /**
   * The checks of {@link #validateLeafNode} that need no other leaf, in the same order. {@code
   * signatureValid} is the result of {@link #leafSignatureValid} computed beforehand, or null to
   * verify the signature here.
   */
  private static void validateLeafNodeAlone(
      CipherSuite cs,
      LeafNode leaf,
      Role role,
      Bytes groupId,
      int leafIndex,
      List<Extension> groupContextExtensions,
      long nowSeconds,
      Boolean signatureValid) {
    if (role != Role.TREE && leaf.source() != role.source) {
      throw new MessageRejectedException(Reason.MALFORMED, "leaf node source does not fit its use (§7.3)");
    }
    if (signatureValid == null) {
      try {
        MlsCrypto.verifyWithLabel(
            cs,
            leaf.signatureKey().unsafeArray(),
            "LeafNodeTBS",
            leaf.toBeSigned(groupId, leafIndex),
            leaf.signature().unsafeArray());
      } catch (GeneralSecurityException e) {
        throw new MessageRejectedException(Reason.BAD_SIGNATURE, "leaf node signature invalid", e);
      }
    } else if (!signatureValid) {
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "leaf node signature invalid");
    }
    if (!leaf.capabilities().cipherSuites().contains(cs.id())) {
      throw new MessageRejectedException(Reason.MALFORMED, "leaf does not support the group's cipher suite");
    }
    if (!leaf.capabilities().credentials().contains(leaf.credential().type())) {
      throw new MessageRejectedException(Reason.MALFORMED, "leaf does not list its own credential type (§7.2)");
    }
    for (Extension e : leaf.extensions()) {
      if (!DEFAULT_EXTENSIONS.contains(e.type()) && !leaf.capabilities().extensions().contains(e.type())) {
        throw new MessageRejectedException(Reason.MALFORMED, "leaf carries an extension it does not list (§7.2)");
      }
    }
    checkRequiredCapabilities(leaf, groupContextExtensions);
    if (leaf.source() == Codes.LEAF_SOURCE_KEY_PACKAGE && nowSeconds >= 0) {
      long nb = leaf.lifetime().notBefore();
      long na = leaf.lifetime().notAfter();
      if (Long.compareUnsigned(nowSeconds, nb) < 0 || Long.compareUnsigned(nowSeconds, na) > 0) {
        throw new MessageRejectedException(Reason.EXPIRED, "leaf node outside its lifetime");
      }
    }
  }

  /**
   * Whether the LeafNode's signature over LeafNodeTBS (§7.2; {@code groupId} and {@code leafIndex}
   * count for update and commit sources only) verifies with its own signature key. Thread-safe.
   */
  public static boolean leafSignatureValid(CipherSuite cs, LeafNode leaf, Bytes groupId, int leafIndex) {
    try {
      MlsCrypto.verifyWithLabel(
          cs,
          leaf.signatureKey().unsafeArray(),
          "LeafNodeTBS",
          leaf.toBeSigned(groupId, leafIndex),
          leaf.signature().unsafeArray());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static void checkRequiredCapabilities(LeafNode leaf, List<Extension> groupContextExtensions) {
    for (Extension e : groupContextExtensions) {
      if (e.type() != Codes.EXT_REQUIRED_CAPABILITIES) {
        continue;
      }
      List<Integer> exts;
      List<Integer> proposals;
      List<Integer> credentials;
      try {
        TlsReader r = TlsReader.of(e.data());
        exts = r.vector(TlsReader::u16);
        proposals = r.vector(TlsReader::u16);
        credentials = r.vector(TlsReader::u16);
        r.finish();
      } catch (DecodeException ex) {
        throw new MessageRejectedException(Reason.MALFORMED, "required_capabilities malformed", ex);
      }
      for (int x : exts) {
        if (!DEFAULT_EXTENSIONS.contains(x) && !leaf.capabilities().extensions().contains(x)) {
          throw new MessageRejectedException(Reason.MALFORMED, "leaf lacks a required extension");
        }
      }
      for (int p : proposals) {
        if (!DEFAULT_PROPOSALS.contains(p) && !leaf.capabilities().proposals().contains(p)) {
          throw new MessageRejectedException(Reason.MALFORMED, "leaf lacks a required proposal type");
        }
      }
      for (int c : credentials) {
        if (!leaf.capabilities().credentials().contains(c)) {
          throw new MessageRejectedException(Reason.MALFORMED, "leaf lacks a required credential type");
        }
      }
    }
  }

  /**
   * Validates a ratchet tree received when joining (§12.4.3.1): tree hash, parent hashes, every
   * leaf, unmerged-leaf consistency and uniqueness of parent encryption keys.
   */
  public static void validateTree(
      RatchetTree tree, Bytes groupId, byte[] expectedTreeHash, List<Extension> groupContextExtensions, long nowSeconds) {
    CipherSuite cs = tree.suite();
    if (!Arrays.equals(tree.treeHash(), expectedTreeHash)) {
      throw new MessageRejectedException(Reason.MALFORMED, "tree hash does not match the GroupInfo");
    }
    // Each leaf as validateLeafNode checks it, in leaf order, but the comparisons with the other
    // leaves (credential support both ways, unique keys) go through counts taken once, not through
    // every pair of leaves: O(n) instead of O(n^2) (n = 1024: about a third of a join's time).
    List<Integer> members = tree.members();
    Map<Bytes, Integer> signatureKeys = new HashMap<>();
    Map<Bytes, Integer> encryptionKeys = new HashMap<>();
    Map<Integer, Integer> credentialTypes = new HashMap<>(); // type -> members using it
    Map<Integer, Integer> supportedTypes = new HashMap<>(); // type -> members listing it
    for (int m : members) {
      LeafNode l = tree.leaf(m);
      signatureKeys.merge(l.signatureKey(), 1, Integer::sum);
      encryptionKeys.merge(l.encryptionKey(), 1, Integer::sum);
      credentialTypes.merge(l.credential().type(), 1, Integer::sum);
      for (int t : new HashSet<>(l.capabilities().credentials())) {
        supportedTypes.merge(t, 1, Integer::sum);
      }
    }
    // The leaf signatures are independent of each other: verified on several cores first (about
    // two thirds of a join's time at n = 1024 on one core), reported in leaf order below.
    boolean[] signatureValid = new boolean[members.size()];
    Parallel.forEach(
        members.size(),
        i -> signatureValid[i] = leafSignatureValid(cs, tree.leaf(members.get(i)), groupId, members.get(i)));
    for (int i = 0; i < members.size(); i++) {
      int m = members.get(i);
      LeafNode leaf = tree.leaf(m);
      validateLeafNodeAlone(cs, leaf, Role.TREE, groupId, m, groupContextExtensions, nowSeconds, signatureValid[i]);
      List<Integer> own = leaf.capabilities().credentials();
      int type = leaf.credential().type();
      // Every other member lists this leaf's type (the leaf itself does: checked above), the leaf
      // lists every other member's type, and its keys are its own. On a conflict, the pairwise
      // loop finds it and reports it exactly as validateLeafNode does.
      boolean conflict =
          supportedTypes.getOrDefault(type, 0) - 1 < members.size() - 1
              || signatureKeys.get(leaf.signatureKey()) > 1
              || encryptionKeys.get(leaf.encryptionKey()) > 1;
      for (Map.Entry<Integer, Integer> used : credentialTypes.entrySet()) {
        int usedByOthers = used.getValue() - (used.getKey() == type ? 1 : 0);
        conflict |= usedByOthers > 0 && !own.contains(used.getKey());
      }
      if (conflict) {
        checkAgainstMembers(leaf, tree, m);
        throw new IllegalStateException("member index and pairwise checks disagree");
      }
    }
    Set<Bytes> keys = new HashSet<>(encryptionKeys.keySet());
    int n = tree.leafCount();
    for (int p = 1; p < tree.nodeWidth(); p += 2) {
      ParentNode pn = tree.parent(p);
      if (pn == null) {
        continue;
      }
      if (!keys.add(pn.encryptionKey())) {
        throw new MessageRejectedException(Reason.MALFORMED, "parent encryption key appears twice in the tree");
      }
      int previous = -1;
      for (int leaf : pn.unmergedLeaves()) {
        if (leaf <= previous) {
          throw new MessageRejectedException(Reason.MALFORMED, "unmerged leaves not in increasing order (§7.1)");
        }
        previous = leaf;
        int ln = TreeMath.leafToNode(leaf);
        if (leaf < 0 || leaf >= n || tree.isBlank(ln) || !TreeMath.isInSubtree(p, ln)) {
          throw new MessageRejectedException(Reason.MALFORMED, "unmerged leaf is blank or not below its parent");
        }
        for (int q : TreeMath.directPath(ln, n)) {
          if (q == p) {
            break;
          }
          ParentNode qn = tree.parent(q);
          if (qn != null && !qn.unmergedLeaves().contains(leaf)) {
            throw new MessageRejectedException(
                Reason.MALFORMED, "unmerged leaf missing from an intermediate node (§12.4.3.1)");
          }
        }
      }
    }
    // After the structural checks above, so that resolutions only name non-blank nodes.
    if (!tree.parentHashesValid()) {
      throw new MessageRejectedException(Reason.MALFORMED, "a parent node is not parent-hash valid (§7.9.2)");
    }
  }
}
