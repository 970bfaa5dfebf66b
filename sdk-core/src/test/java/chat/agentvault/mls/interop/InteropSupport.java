package chat.agentvault.mls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Shared by the interop tests: the repository root, the ts-mls install, and cross-peer checks. */
final class InteropSupport {
  private InteropSupport() {}

  /** The checkout's root (tests run in sdk-core/). */
  static Path repoRoot() {
    for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts/install-interop-peers.sh"))) {
        return p;
      }
    }
    throw new AssertionError("no scripts/install-interop-peers.sh above " + Paths.get("").toAbsolutePath());
  }

  /**
   * Runs scripts/install-interop-peers.sh (bounded to 5 minutes). Without node/npm (exit 2) the
   * calling tests are skipped, unless -Dagentvault.vectors.required=true (CI), which fails them; an
   * install failure (exit 1) always fails.
   */
  static void installTsMls() throws IOException, InterruptedException {
    Path root = repoRoot();
    Path log = Files.createTempFile("install-interop-peers", ".log");
    try {
      Process p = new ProcessBuilder("bash", root.resolve("scripts/install-interop-peers.sh").toString())
          .directory(root.toFile())
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
      if (!p.waitFor(5, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError("scripts/install-interop-peers.sh did not finish within 5 minutes");
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      int rc = p.exitValue();
      if (rc == 2 && !Boolean.getBoolean("agentvault.vectors.required")) {
        Assumptions.abort("ts-mls interop tests skipped: node/npm missing or too old (set -Dagentvault.vectors.required=true to fail instead): " + out.strip());
      }
      if (rc != 0) {
        throw new AssertionError("scripts/install-interop-peers.sh exited " + rc + ":\n" + out);
      }
    } finally {
      Files.deleteIfExists(log);
    }
  }

  static Peer.Spawned tsMls(String name) throws IOException {
    Path root = repoRoot();
    return new Peer.Spawned(name, root, List.of("node", "interop/ts-mls/peer.mjs"));
  }

  /**
   * All {@code peers} see the same epoch, members, epoch authenticator, tree hash and exporter
   * output in group {@code group} (the local name, equal for all in these tests).
   */
  static void assertAgree(String group, long epoch, List<String> members, Peer... peers) {
    JsonNode first = null;
    String firstSecret = null;
    for (Peer p : peers) {
      JsonNode s = p.call("state", "group", group);
      String where = p.name + " at epoch " + epoch;
      assertThat(s.path("epoch").asLong()).as(where + ": epoch").isEqualTo(epoch);
      assertThat(Peer.JSON.convertValue(s.path("members"), List.class)).as(where + ": members").isEqualTo(members);
      String secret = p.call("export_secret", "group", group, "label", "agentvault interop", "context_b64", "AQID", "length", 32)
          .path("secret").asText();
      if (first == null) {
        first = s;
        firstSecret = secret;
        continue;
      }
      assertThat(s.path("epoch_authenticator").asText()).as(where + ": epoch_authenticator vs " + peers[0].name)
          .isEqualTo(first.path("epoch_authenticator").asText());
      assertThat(s.path("tree_hash").asText()).as(where + ": tree_hash vs " + peers[0].name)
          .isEqualTo(first.path("tree_hash").asText());
      assertThat(secret).as(where + ": MLS-Exporter vs " + peers[0].name).isEqualTo(firstSecret);
    }
  }
}
