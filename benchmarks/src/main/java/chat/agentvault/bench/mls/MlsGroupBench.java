package chat.agentvault.bench.mls;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.mls.Inbound;
import chat.agentvault.mls.MlsGroup;
import chat.agentvault.mls.MlsKeyPackage;
import chat.agentvault.mls.group.Group;
import chat.agentvault.mls.group.GroupConfig;
import chat.agentvault.mls.group.SteadyStateGroups;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Group operations of issue 4 through the public API ({@link MlsGroup}, {@link MlsKeyPackage}),
 * suites 1 and 3, groups of N = 8 to 1024, handshakes as PrivateMessage. The ts-mls side of the
 * same operations is {@code interop/ts-mls/bench.mjs}; results in docs/benchmarks.md.
 *
 * <ul>
 *   <li>{@code addCommit}: the creator, alone in its group, commits Add proposals for N-1
 *       KeyPackages (serialized, as {@link MlsGroup#addMembers} takes them; generated in setup),
 *       Welcome with the ratchet_tree extension included, both encoded. The pending commit is
 *       discarded, so every invocation starts from the same one-member group.
 *   <li>{@code join}: the last added member joins from that Welcome: GroupSecrets and GroupInfo
 *       decryption, GroupInfo signature, the whole tree validated (tree hash, every leaf's
 *       signature and capabilities, key uniqueness, unmerged leaves, parent hashes), the
 *       confirmation tag.
 *   <li>{@code emptyCommitCreate} / {@code emptyCommitProcess}: an empty commit with an UpdatePath
 *       created by member C and processed (staged, fully validated) by member P of a steady-state
 *       group of N ({@link SteadyStateGroups}: every parent node populated). Neither is merged: a
 *       merge only swaps the staged state in. The commit P processes is one made by C in setup.
 *   <li>{@code emptyCommitCreateAfterAdd} / {@code emptyCommitProcessAfterAdd}: the same right after
 *       the Add commit, where every parent node is still blank, so the path secrets are encrypted to
 *       each of the N-1 other members separately: the worst case of an empty commit.
 *   <li>{@code message1KiB}: a 1 KiB application message encrypted by one member and processed by
 *       another in a group of 8 (throughput of protect + unprotect pairs).
 * </ul>
 *
 * <p>Setup (KeyPackages, the Add commit, the steady state) is outside the measurement. The groups
 * built in setup are checked: P processes C's commit before anything is timed.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MlsGroupBench {
  static final boolean PRIVATE_HANDSHAKES = true;

  static Bytes id(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.US_ASCII));
  }

  /** A one-member group and N-1 serialized KeyPackages; the Add commit and its Welcome. */
  @State(Scope.Benchmark)
  public static class Added {
    @Param({"1", "3"})
    public int suite;

    @Param({"8", "64", "256", "1024"})
    public int n;

    MlsKeyPackage creatorKp;
    MlsGroup creator;
    List<MlsKeyPackage> joiners;
    List<Bytes> keyPackages;
    Bytes welcome;

    @Setup(Level.Trial)
    public void setup() {
      creatorKp = MlsKeyPackage.generate(suite, id("member-0"));
      creator = MlsGroup.create(creatorKp, Bytes.wrap(Csprng.randomBytes(16)), PRIVATE_HANDSHAKES);
      joiners = new ArrayList<>();
      keyPackages = new ArrayList<>();
      for (int i = 1; i < n; i++) {
        MlsKeyPackage kp = MlsKeyPackage.generate(suite, id("member-" + i));
        joiners.add(kp);
        keyPackages.add(kp.toBytes());
      }
      MlsGroup.PendingCommit add = creator.addMembers(keyPackages);
      welcome = add.welcome().orElseThrow();
      creator.discardPendingCommit();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      creatorKp.close();
      joiners.forEach(MlsKeyPackage::close);
    }
  }

  /** The group right after the Add commit: the creator (merged) and the last member (joined). */
  @State(Scope.Benchmark)
  public static class AfterAdd {
    @Param({"1", "3"})
    public int suite;

    @Param({"8", "64", "256", "1024"})
    public int n;

    MlsGroup creator;
    MlsGroup member;
    Bytes commit;

    @Setup(Level.Trial)
    public void setup() {
      Added a = new Added();
      a.suite = suite;
      a.n = n;
      a.setup();
      MlsGroup.PendingCommit add = a.creator.addMembers(a.keyPackages);
      a.creator.mergePendingCommit();
      creator = a.creator;
      member = MlsGroup.join(a.joiners.get(a.joiners.size() - 1), add.welcome().orElseThrow(), PRIVATE_HANDSHAKES);
      commit = creator.update().message();
      creator.discardPendingCommit();
      checkStaged(member.process(commit), creator.epoch() + 1);
    }
  }

  /** Members C and P of a steady-state group of N, and a commit of C for P. */
  @State(Scope.Benchmark)
  public static class Steady {
    @Param({"1", "3"})
    public int suite;

    @Param({"8", "64", "256", "1024"})
    public int n;

    MlsGroup committer;
    MlsGroup processor;
    Bytes commit;

    @Setup(Level.Trial)
    public void setup() {
      GroupConfig config = GroupConfig.DEFAULT.withPrivateHandshakes(PRIVATE_HANDSHAKES);
      SteadyStateGroups.Pair pair = SteadyStateGroups.build(suite, n, config);
      committer = wrap(pair.committer());
      processor = wrap(pair.processor());
      // One epoch further through a real commit of C, merged by both: the states are then those
      // of members in use (a state loaded from a record has no cached tree hashes yet, and this
      // benchmark never merges, so it would rehash the whole tree in every invocation).
      MlsGroup.PendingCommit first = committer.update();
      Inbound staged = processor.process(first.message());
      checkStaged(staged, committer.epoch() + 1);
      committer.mergePendingCommit();
      processor.merge((Inbound.StagedCommit) staged);
      commit = committer.update().message();
      committer.discardPendingCommit();
      checkStaged(processor.process(commit), committer.epoch() + 1);
    }
  }

  /** Two members of a group of 8 exchanging 1 KiB messages. */
  @State(Scope.Benchmark)
  public static class Pair8 {
    @Param({"1", "3"})
    public int suite;

    MlsGroup sender;
    MlsGroup receiver;
    Bytes plaintext;

    @Setup(Level.Trial)
    public void setup() {
      Added a = new Added();
      a.suite = suite;
      a.n = 8;
      a.setup();
      MlsGroup.PendingCommit add = a.creator.addMembers(a.keyPackages);
      a.creator.mergePendingCommit();
      sender = a.creator;
      receiver = MlsGroup.join(a.joiners.get(a.joiners.size() - 1), add.welcome().orElseThrow(), PRIVATE_HANDSHAKES);
      plaintext = Bytes.wrap(Csprng.randomBytes(1024));
      Inbound in = receiver.process(sender.encrypt(plaintext));
      if (!(in instanceof Inbound.Application app) || !app.data().equals(plaintext)) {
        throw new IllegalStateException("message not received: " + in);
      }
    }
  }

  static void checkStaged(Inbound in, long epoch) {
    if (!(in instanceof Inbound.StagedCommit c) || c.newEpoch() != epoch) {
      throw new IllegalStateException("commit not staged for epoch " + epoch + ": " + in);
    }
  }

  private static final Constructor<MlsGroup> WRAP;

  static {
    try {
      WRAP = MlsGroup.class.getDeclaredConstructor(Group.class);
      WRAP.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** The public wrapper around a group built by {@link SteadyStateGroups} (its constructor is private). */
  static MlsGroup wrap(Group g) {
    try {
      return WRAP.newInstance(g);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------- benchmarks

  @Benchmark
  public MlsGroup.PendingCommit addCommit(Added s) {
    MlsGroup.PendingCommit p = s.creator.addMembers(s.keyPackages);
    s.creator.discardPendingCommit();
    return p;
  }

  @Benchmark
  public MlsGroup join(Added s) {
    return MlsGroup.join(s.joiners.get(s.joiners.size() - 1), s.welcome, PRIVATE_HANDSHAKES);
  }

  @Benchmark
  public MlsGroup.PendingCommit emptyCommitCreate(Steady s) {
    MlsGroup.PendingCommit p = s.committer.update();
    s.committer.discardPendingCommit();
    return p;
  }

  @Benchmark
  public Inbound emptyCommitProcess(Steady s) {
    return s.processor.process(s.commit);
  }

  @Benchmark
  public MlsGroup.PendingCommit emptyCommitCreateAfterAdd(AfterAdd s) {
    MlsGroup.PendingCommit p = s.creator.update();
    s.creator.discardPendingCommit();
    return p;
  }

  @Benchmark
  public Inbound emptyCommitProcessAfterAdd(AfterAdd s) {
    return s.member.process(s.commit);
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  public Inbound message1KiB(Pair8 s) {
    return s.receiver.process(s.sender.encrypt(s.plaintext));
  }
}
