package chat.agentvault.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HexFormat;

/**
 * Locates the read-only ground truth in {@code ../shared/vectors} (never copied into the repo).
 *
 * <ul>
 *   <li>{@code -Dagentvault.shared.dir=DIR} overrides the shared folder (the build sets it to the
 *       {@code shared} folder beside the checkout).
 *   <li>{@code -D<name>.vectors.dir=DIR} overrides one vector set, e.g. {@code -Dmls.vectors.dir}.
 *   <li>When the folder is missing the test is <em>skipped</em> with a message saying so, unless
 *       {@code -Dagentvault.vectors.required=true} (set by {@code .ci/run}), which makes it fail.
 * </ul>
 */
public final class Vectors {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  private Vectors() {}

  /** The folder of one vector set ({@code wycheproof}, {@code hpke}, {@code blake2}, {@code mls}). */
  public static Path dir(String set) {
    String override = System.getProperty(set + ".vectors.dir");
    Path dir;
    if (override != null && !override.isBlank()) {
      dir = Paths.get(override);
    } else {
      String shared = System.getProperty("agentvault.shared.dir", "../shared");
      dir = Paths.get(shared, "vectors", set);
    }
    dir = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      String msg =
          "test vectors '"
              + set
              + "' not found at "
              + dir
              + " (set -Dagentvault.shared.dir or -D"
              + set
              + ".vectors.dir)";
      if (Boolean.getBoolean("agentvault.vectors.required")) {
        fail(msg + "; agentvault.vectors.required=true makes this a failure");
      }
      assumeTrue(false, "SKIPPED: " + msg);
    }
    return dir;
  }

  /** One file of a vector set; missing file handled as {@link #dir}. */
  public static Path file(String set, String name) {
    Path f = dir(set).resolve(name);
    if (!Files.isRegularFile(f)) {
      String msg = "test vector file missing: " + f;
      if (Boolean.getBoolean("agentvault.vectors.required")) {
        fail(msg);
      }
      assumeTrue(false, "SKIPPED: " + msg);
    }
    return f;
  }

  public static JsonNode json(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] hex(JsonNode node) {
    return node == null || node.isNull() ? new byte[0] : HEX.parseHex(node.asText());
  }

  public static String hex(byte[] bytes) {
    return HEX.formatHex(bytes);
  }

  /** Prints a per-file result line that CI logs keep: {@code [vectors] file: executed=.. passed=.. skipped=..}. */
  public static void report(String file, int executed, int passed, int skipped) {
    System.out.printf(
        "[vectors] %-40s executed=%d passed=%d skipped=%d%n", file, executed, passed, skipped);
  }
}
