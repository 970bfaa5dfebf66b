package chat.agentvault.mls.group;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.keys.KeyPackageBundle;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.schedule.EpochSecrets;
import chat.agentvault.mls.schedule.TranscriptHashes;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeKem;
import chat.agentvault.mls.tree.TreeMath;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Benchmark support, not engine code: lives in the benchmarks module, in the engine's package only
 * to reach {@link GroupState}. Builds two members of a steady-state group of N that would cost
 * O(N^2) protocol steps to reach through the public API (every member would have to process every
 * commit).
 *
 * <p>The shape (the ts-mls benchmark, {@code interop/ts-mls/bench.mjs}, builds the same): N real
 * KeyPackages (mls.keys) in the tree, then one member of every pair of leaves commits an UpdatePath
 * with the engine's TreeKEM ({@code TreeKem.createUpdatePath}, leaves {@code 2 * bitrev(j)}, an
 * order in which most copath nodes are already populated so that building stays cheap), so every
 * parent node is non-blank with no unmerged leaves, and every leaf that committed carries a
 * commit-source LeafNode with a valid parent hash. The committer C is the last to commit (leaf
 * N-2), the processor P the one before; P's keys above their common ancestor are derived from C's
 * path secrets, as if P had processed C's commit. Both then enter one epoch with fresh random
 * key-schedule inputs, and are loaded through {@link Group#fromRecord}. The benchmark checks the
 * result by having P process a commit of C.
 */
public final class SteadyStateGroups {
  private SteadyStateGroups() {}

  /** The two members, and their leaf indices. */
  public record Pair(Group committer, Group processor, int committerLeaf, int processorLeaf) {}

  public static Pair build(int suiteId, int n, GroupConfig config) {
    if (n < 4 || Integer.bitCount(n) != 1) {
      throw new IllegalArgumentException("n must be a power of two >= 4: " + n);
    }
    CipherSuite cs = CipherSuites.forId(suiteId);
    Bytes groupId = Bytes.wrap(Csprng.randomBytes(16));
    byte[][] signature = new byte[n][];
    byte[][] encryption = new byte[n][];
    RatchetTree tree = null;
    for (int i = 0; i < n; i++) {
      Credential credential = Credential.basic(Bytes.wrap(("member-" + i).getBytes(StandardCharsets.US_ASCII)));
      try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate();
          SecretBytes seed = sk.seed();
          KeyPackageBundle bundle = KeyPackageBundle.builder(suiteId, credential, sk).build();
          SecretBytes enc = bundle.encryptionPrivateKey()) {
        signature[i] = seed.copyOfSecret();
        encryption[i] = enc.copyOfSecret();
        LeafNode leaf = bundle.keyPackage().leafNode();
        if (tree == null) {
          tree = RatchetTree.create(cs, leaf);
        } else {
          tree.addLeaf(leaf);
        }
      }
    }
    int bits = Integer.numberOfTrailingZeros(n / 2);
    int[] order = new int[n / 2];
    for (int j = 0; j < order.length; j++) {
      order[j] = 2 * (bits == 0 ? 0 : Integer.reverse(j) >>> (32 - bits));
    }
    byte[] dummyContext = new byte[0];
    TreeKem.PrivateKeys keysP = null;
    TreeKem.PrivateKeys keysC = null;
    TreeKem.Created createdC = null;
    for (int j = 0; j < order.length; j++) {
      int leaf = order[j];
      LeafNode old = tree.leaf(leaf);
      TreeKem.PrivateKeys keys = new TreeKem.PrivateKeys(leaf, encryption[leaf]);
      byte[] sigPriv = signature[leaf];
      TreeKem.Created created =
          TreeKem.createUpdatePath(
              tree,
              keys,
              (encKey, parentHash) ->
                  Group.signLeaf(
                      cs,
                      new LeafNode(
                          encKey, old.signatureKey(), old.credential(), old.capabilities(),
                          Codes.LEAF_SOURCE_COMMIT, null, parentHash, old.extensions(), Bytes.EMPTY),
                      groupId, leaf, sigPriv),
              Set.of(),
              treeHash -> dummyContext);
      if (j == order.length - 2) {
        keysP = keys;
      } else if (j == order.length - 1) {
        keysC = keys;
        createdC = created;
      } else {
        keys.close();
        SecretBytes.wipe(created.commitSecret());
      }
    }
    int c = order[order.length - 1];
    int p = order[order.length - 2];
    int[] fdpC = tree.filteredDirectPath(c);
    int lca = TreeMath.commonAncestor(TreeMath.leafToNode(p), TreeMath.leafToNode(c));
    int k = 0;
    while (fdpC[k] != lca) {
      k++;
    }
    SecretBytes.wipe(
        TreeKem.derivePathKeys(tree, keysP, Arrays.copyOfRange(fdpC, k, fdpC.length), createdC.pathSecrets().get(k)));

    byte[] confirmed = Csprng.randomBytes(cs.hashLength());
    GroupContext context =
        new GroupContext(Codes.MLS10, cs.id(), groupId, 1, Bytes.wrap(tree.treeHash()), Bytes.wrap(confirmed), List.of());
    byte[] init = Csprng.randomBytes(cs.hashLength());
    byte[] commit = Csprng.randomBytes(cs.hashLength());
    Bytes tag = Bytes.wrap(Csprng.randomBytes(cs.hashLength()));
    Group groupC = member(cs, config, tree, context, keysC, c, signature[c], init, commit, confirmed, tag);
    Group groupP = member(cs, config, tree, context, keysP, p, signature[p], init, commit, confirmed, tag);
    for (byte[] b : signature) {
      SecretBytes.wipe(b);
    }
    for (byte[] b : encryption) {
      SecretBytes.wipe(b);
    }
    return new Pair(groupC, groupP, c, p);
  }

  private static Group member(
      CipherSuite cs,
      GroupConfig config,
      RatchetTree tree,
      GroupContext context,
      TreeKem.PrivateKeys keys,
      int leaf,
      byte[] signaturePriv,
      byte[] init,
      byte[] commit,
      byte[] confirmed,
      Bytes tag) {
    GroupState s = new GroupState(cs, config, leaf, signaturePriv);
    s.tree = tree.copy();
    s.context = context;
    s.keys = keys;
    s.setSecrets(EpochSecrets.derive(cs, init, commit, null, context.toByteArray()));
    s.interimTranscriptHash = TranscriptHashes.interim(cs, confirmed, tag);
    s.confirmationTag = tag;
    byte[] record = GroupRecord.serialize(s, null);
    try {
      return Group.fromRecord(record, config);
    } finally {
      SecretBytes.wipe(record);
    }
  }
}
