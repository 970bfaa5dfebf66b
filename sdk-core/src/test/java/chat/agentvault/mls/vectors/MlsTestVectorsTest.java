package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every {@code *.json} file found in the MLS vector directory: {@code ../shared/vectors/mls} by
 * default, or {@code -Dmls.vectors.dir=DIR}. The format is chosen by file name as in the working
 * group's {@code test-vectors.md}; a file name this runner does not know fails the run rather than
 * being ignored. One line per file: {@code FILE: N passed, M failed, K skipped}.
 *
 * <p>Entries of cipher suites other than 0x0001 and 0x0003 are skipped and counted.
 */
class MlsTestVectorsTest {
  /** Every format of test-vectors.md; a handler of {@link Pending} is not implemented yet. */
  static Map<String, VectorFile> handlers() {
    Map<String, VectorFile> m = new TreeMap<>();
    m.put("tree-math", new TreeMathVectors());
    m.put("deserialization", new DeserializationVectors());
    m.put("messages", new MessagesVectors());
    m.put("crypto-basics", new CryptoBasicsVectors());
    m.put("key-schedule", new KeyScheduleVectors());
    m.put("psk_secret", new PskSecretVectors());
    m.put("transcript-hashes", new TranscriptHashVectors());
    m.put("secret-tree", new SecretTreeVectors());
    m.put("message-protection", new MessageProtectionVectors());
    m.put("tree-validation", new TreeValidationVectors());
    m.put("tree-operations", new TreeOperationsVectors());
    m.put("welcome", new WelcomeVectors());
    m.put("treekem", new TreeKemVectors());
    m.put("welcome", new WelcomeVectors());
    m.put("passive-client-welcome", new PassiveClientVectors());
    m.put("passive-client-handling-commit", new PassiveClientVectors());
    m.put("passive-client-random", new PassiveClientVectors());
    for (String name :
        List.of(
            "crypto-basics",
            "secret-tree",
            "message-protection",
            "key-schedule",
            "psk_secret",
            "transcript-hashes",
            "welcome",
            "tree-operations",
            "tree-validation",
            "treekem",
            "messages",
            "passive-client-welcome",
            "passive-client-handling-commit",
            "passive-client-random")) {
      m.putIfAbsent(name, new Pending(name));
    }
    return m;
  }

  @TestFactory
  Stream<DynamicTest> everyVectorFile() throws IOException {
    Path dir = Vectors.dir("mls");
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().forEach(files::add);
    }
    assertThat(files).as("JSON vector files in %s", dir).isNotEmpty();
    Map<String, VectorFile> handlers = handlers();
    return files.stream()
        .map(
            file ->
                DynamicTest.dynamicTest(
                    file.getFileName().toString(), () -> runFile(file, handlers)));
  }

  static void runFile(Path file, Map<String, VectorFile> handlers) {
    String name = file.getFileName().toString();
    String format = name.substring(0, name.length() - ".json".length());
    VectorFile handler = handlers.get(format);
    if (handler == null) {
      throw new AssertionError(
          "unknown MLS test-vector file " + name + ": no format of test-vectors.md has this name");
    }
    JsonNode entries = Vectors.json(file);
    Tally tally = new Tally();
    handler.run(entries, tally);
    System.out.printf(
        "%s: %d passed, %d failed, %d skipped%s%n",
        name,
        tally.passed,
        tally.failures.size(),
        tally.skipped,
        tally.skipReasons.isEmpty() ? "" : " (" + String.join("; ", tally.skipReasons) + ")");
    assertThat(tally.failures).as("failures in %s", name).isEmpty();
    assertThat(tally.passed + tally.skipped).as("entries of %s", name).isEqualTo(entries.size());
  }

  /** MLS cipher suites this engine implements. */
  static boolean supportedSuite(int suite) {
    return suite == 1 || suite == 3;
  }

  /** A format whose handler is not written yet: every entry is skipped, saying so. */
  static final class Pending implements VectorFile {
    private final String name;

    Pending(String name) {
      this.name = name;
    }

    @Override
    public void run(JsonNode entries, Tally tally) {
      for (int i = 0; i < entries.size(); i++) {
        tally.skip("PENDING: format '" + name + "' not implemented yet");
      }
    }
  }
}
