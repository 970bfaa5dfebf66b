package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner itself: unknown files fail, known ones are dispatched and counted. */
class MlsTestVectorsRunnerTest {
  @Test
  void unknownFileNameFailsInsteadOfBeingIgnored(@TempDir Path dir) throws Exception {
    Path bogus = dir.resolve("not-a-format.json");
    Files.writeString(bogus, "[]");
    assertThatThrownBy(() -> MlsTestVectorsTest.runFile(bogus, MlsTestVectorsTest.handlers()))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("unknown MLS test-vector file not-a-format.json");
  }

  @Test
  void everyDocumentedFormatHasAHandler() {
    assertThat(MlsTestVectorsTest.handlers().keySet())
        .containsExactlyInAnyOrder(
            "tree-math", "crypto-basics", "secret-tree", "message-protection", "key-schedule",
            "psk_secret", "transcript-hashes", "welcome", "tree-operations", "tree-validation",
            "treekem", "messages", "deserialization", "passive-client-welcome",
            "passive-client-handling-commit", "passive-client-random");
  }

  @Test
  void aFailingEntryFailsTheFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("deserialization.json");
    Files.writeString(f, "[{\"vlbytes_header\": \"4025\", \"length\": 37}]"); // non-minimal: must fail
    assertThatThrownBy(() -> MlsTestVectorsTest.runFile(f, MlsTestVectorsTest.handlers()))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("failures in deserialization.json");
  }

  @Test
  void aPassingFileFromAnotherFolderRuns(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("deserialization.json");
    Files.writeString(f, "[{\"vlbytes_header\": \"25\", \"length\": 37}]");
    MlsTestVectorsTest.runFile(f, MlsTestVectorsTest.handlers());
  }
}
