package chat.agentvault.mls.crypto;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Runs the independent public-key operations of one MLS operation on several cores: the leaf
 * signatures of a tree being joined, the KeyPackage signatures of an Add list, the HPKE encryptions
 * of a Welcome or an UpdatePath. Each task must touch only its own inputs and its own slot of the
 * output (no shared mutable state); the caller acts on the results afterwards, in index order, so
 * errors are reported exactly as a sequential loop would report them. Uses the common fork/join
 * pool, the calling thread included; small batches, and single-core machines, run sequentially.
 * Measured in docs/benchmarks.md ("MLS groups (issue 4)").
 */
public final class Parallel {
  /** Below this many tasks the fork/join overhead is not worth it (one task is 30-100 µs). */
  static final int MIN_TASKS = 8;

  private static final boolean MULTI_CORE = Runtime.getRuntime().availableProcessors() > 1;

  private Parallel() {}

  /** Runs {@code task} for 0 .. count-1, possibly concurrently; returns when all have finished. */
  public static void forEach(int count, IntConsumer task) {
    if (count < MIN_TASKS || !MULTI_CORE) {
      for (int i = 0; i < count; i++) {
        task.accept(i);
      }
      return;
    }
    IntStream.range(0, count).parallel().forEach(task);
  }
}
