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

  /** A check of one vector entry of a supported cipher suite. */
  @FunctionalInterface
  interface SuiteCheck {
    void check(chat.agentvault.mls.crypto.CipherSuite suite, com.fasterxml.jackson.databind.JsonNode entry)
        throws Exception;
  }

  /**
   * Runs {@code check} on every entry whose {@code cipher_suite} this engine implements, each as
   * one counted entry; entries of other suites are counted as skipped.
   */
  void perSuite(com.fasterxml.jackson.databind.JsonNode entries, SuiteCheck check) {
    int index = 0;
    for (com.fasterxml.jackson.databind.JsonNode e : entries) {
      int suite = e.get("cipher_suite").asInt();
      int i = index++;
      if (!MlsTestVectorsTest.supportedSuite(suite)) {
        skip("cipher suite not implemented");
        continue;
      }
      entry(
          "entry " + i + " suite " + suite,
          () -> check.check(chat.agentvault.mls.crypto.CipherSuites.forId(suite), e));
    }
  }

  @FunctionalInterface
  interface ThrowingRunnable {
    void run() throws Exception;
  }
}
