package chat.agentvault.bench.mls;

import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.UpdatePath;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeKem;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * TreeKEM and tree hashing at group sizes 64, 256 and 1024 (issue 3): an UpdatePath created by the
 * last member and one applied by it, and the tree hash of the whole tree after one path changed
 * (cached per node) against a full recomputation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class MlsTreeBench {
  @State(Scope.Benchmark)
  public static class Group {
    @Param({"64", "256", "1024"})
    public int members;

    @Param({"1", "3"})
    public int suite;

    MlsGroupFixture fixture;
    UpdatePath incoming; // from member 0, made against R's current tree
    LeafNode altLeaf;
    LeafNode origLeaf;
    boolean flip;

    @Setup(Level.Trial)
    public void build() {
      fixture = new MlsGroupFixture(CipherSuites.forId(suite), members);
      RatchetTree committerView = fixture.tree.copy();
      TreeKem.Created c =
          TreeKem.createUpdatePath(
              committerView,
              new TreeKem.PrivateKeys(0, fixture.suite.deriveKeyPair(new byte[32])[0]),
              fixture.signer(0),
              Set.of(),
              fixture.context(1));
      incoming = c.path();
      origLeaf = fixture.tree.leaf(0);
      altLeaf = committerView.leaf(0);
    }
  }

  @Benchmark
  public Object createUpdatePath(Group g) {
    RatchetTree tree = g.fixture.tree.copy();
    TreeKem.PrivateKeys keys = g.fixture.keysOfR.copy();
    return TreeKem.createUpdatePath(tree, keys, g.fixture.signer(g.fixture.r), Set.of(), g.fixture.context(2));
  }

  @Benchmark
  public Object applyUpdatePath(Group g) {
    RatchetTree tree = g.fixture.tree.copy();
    TreeKem.PrivateKeys keys = g.fixture.keysOfR.copy();
    return TreeKem.applyUpdatePath(tree, 0, g.incoming, keys, Set.of(), g.fixture.context(1));
  }

  /** Baseline for the two above: the copies they start with. */
  @Benchmark
  public Object copyTreeAndKeys(Group g) {
    return new Object[] {g.fixture.tree.copy(), g.fixture.keysOfR.copy()};
  }

  /** One leaf changes (invalidating its path), then the root hash: O(log n) node hashes. */
  @Benchmark
  public byte[] treeHashAfterOnePathChange(Group g) {
    g.flip = !g.flip;
    g.fixture.tree.setLeaf(0, g.flip ? g.altLeaf : g.origLeaf);
    return g.fixture.tree.treeHash();
  }

  /** The same tree hashed from scratch (no cache): what caching saves. */
  @Benchmark
  public byte[] treeHashFromScratch(Group g) {
    return RatchetTree.fromNodes(g.fixture.suite, g.fixture.tree.toNodes()).treeHash();
  }
}
