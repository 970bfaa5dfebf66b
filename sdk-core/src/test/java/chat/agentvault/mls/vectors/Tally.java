package chat.agentvault.mls.vectors;

import java.util.ArrayList;
import java.util.List;

/** Counts of one vector file: passed, failed (with reasons), skipped (with reasons). */
final class Tally {
  int passed;
  int skipped;
  final List<String> failures = new ArrayList<>();
  final List<String> skipReasons = new ArrayList<>();

  /** Runs one entry: it passes unless it throws (an AssertionError or any exception). */
  void entry(String label, ThrowingRunnable body) {
    try {
      body.run();
      passed++;
    } catch (Throwable t) {
      failures.add(label + ": " + t);
    }
  }

  void skip(String reason) {
    skipped++;
    if (!skipReasons.contains(reason)) {
      skipReasons.add(reason);
    }
  }

  @FunctionalInterface
  interface ThrowingRunnable {
    void run() throws Exception;
  }
}
