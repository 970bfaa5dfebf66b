package chat.agentvault.bench.mls;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeKem;
import chat.agentvault.mls.tree.TreeMath;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A group of N members in a steady state for benchmarks: every member added, then commits with
 * UpdatePath from every even leaf so that the parent nodes are populated as in a long-lived group.
 * Two views are kept in sync: the committers' public tree, and member R's tree and private keys
 * (R is the last leaf), built with the real TreeKEM code paths.
 */
final class MlsGroupFixture {
  static final Bytes GROUP_ID = Bytes.wrap("benchmark group".getBytes(StandardCharsets.US_ASCII));

  final CipherSuite suite;
  final int n;
  final byte[][] signatureSeeds;
  final RatchetTree tree; // R's view (identical to everyone's public view)
  final TreeKem.PrivateKeys keysOfR;
  final int r;

  MlsGroupFixture(CipherSuite suite, int n) {
    this.suite = suite;
    this.n = n;
    this.r = n - 1;
    signatureSeeds = new byte[n][];
    byte[][] hpkePriv = new byte[n][];
    LeafNode[] leaves = new LeafNode[n];
    for (int i = 0; i < n; i++) {
      try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate()) {
        signatureSeeds[i] = sk.seed().copyOfSecret();
      }
      byte[][] kp = suite.deriveKeyPair(Csprng.randomBytes(32));
      hpkePriv[i] = kp[0];
      leaves[i] = keyPackageLeaf(i, kp[1]);
    }
    RatchetTree committerView = RatchetTree.create(suite, leaves[0]);
    for (int i = 1; i < n; i++) {
      committerView.addLeaf(leaves[i]);
    }
    RatchetTree rView = committerView.copy();
    TreeKem.PrivateKeys keys = new TreeKem.PrivateKeys(r, hpkePriv[r]);

    // Leaf 0 commits the adds: everyone else is new, so R joins by the Welcome route (§12.4.3.1).
    Set<Integer> added = new java.util.HashSet<>();
    for (int i = 1; i < n; i++) {
      added.add(i);
    }
    TreeKem.Created first =
        TreeKem.createUpdatePath(
            committerView, new TreeKem.PrivateKeys(0, hpkePriv[0]), signer(0), added, context(0));
    rView = committerView.copy();
    if (n > 1) {
      int lca = TreeMath.commonAncestor(TreeMath.leafToNode(0), TreeMath.leafToNode(r));
      int[] fdp = rView.filteredDirectPath(0);
      int k = 0;
      while (fdp[k] != lca) {
        k++;
      }
      TreeKem.derivePathKeys(
          rView, keys, java.util.Arrays.copyOfRange(fdp, k, fdp.length), first.pathSecrets().get(k));
    }
    // Steady state: every other even leaf commits; R processes each commit.
    for (int c = 2; c < n - 1; c += 2) {
      TreeKem.Created created =
          TreeKem.createUpdatePath(
              committerView, new TreeKem.PrivateKeys(c, hpkePriv[c]), signer(c), Set.of(), context(c));
      TreeKem.applyUpdatePath(rView, c, created.path(), keys, Set.of(), context(c));
    }
    this.tree = rView;
    this.keysOfR = keys;
  }

  LeafNode keyPackageLeaf(int i, byte[] encryptionKey) {
    LeafNode unsigned =
        new LeafNode(
            Bytes.wrap(encryptionKey),
            signaturePublic(i),
            Credential.basic(Bytes.wrap(("member-" + i).getBytes(StandardCharsets.US_ASCII))),
            capabilities(),
            Codes.LEAF_SOURCE_KEY_PACKAGE,
            new Lifetime(0, -1L),
            null,
            List.of(),
            Bytes.EMPTY);
    return unsigned.withSignature(
        Bytes.wrap(MlsCrypto.signWithLabel(suite, signatureSeeds[i], "LeafNodeTBS", unsigned.toBeSigned(GROUP_ID, i))));
  }

  Capabilities capabilities() {
    return new Capabilities(List.of(1), List.of(suite.id()), List.of(), List.of(), List.of(Codes.CREDENTIAL_BASIC));
  }

  Bytes signaturePublic(int i) {
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.fromSeed(signatureSeeds[i])) {
      return Bytes.wrap(sk.publicKey().toByteArray());
    }
  }

  /** A LeafSigner for member i's commit leaf. */
  TreeKem.LeafSigner signer(int i) {
    Bytes sigPub = signaturePublic(i);
    return (encKey, parentHash) -> {
      LeafNode unsigned =
          new LeafNode(
              encKey,
              sigPub,
              Credential.basic(Bytes.wrap(("member-" + i).getBytes(StandardCharsets.US_ASCII))),
              capabilities(),
              Codes.LEAF_SOURCE_COMMIT,
              null,
              parentHash,
              List.of(),
              Bytes.EMPTY);
      return unsigned.withSignature(
          Bytes.wrap(MlsCrypto.signWithLabel(suite, signatureSeeds[i], "LeafNodeTBS", unsigned.toBeSigned(GROUP_ID, i))));
    };
  }

  /** The provisional GroupContext for a tree hash (epoch fixed for the benchmark). */
  Function<byte[], byte[]> context(long epoch) {
    return th ->
        new GroupContext(1, suite.id(), GROUP_ID, epoch + 1, Bytes.wrap(th), Bytes.wrap(new byte[32]), List.of())
            .toByteArray();
  }
}
