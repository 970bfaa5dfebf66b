package chat.agentvault.mls.vectors;

import com.fasterxml.jackson.databind.JsonNode;

/** A handler for one MLS test-vector file format of {@code test-vectors.md}. */
interface VectorFile {
  /** Runs every entry of the file, tallying into {@code tally}; never throws for one bad entry. */
  void run(JsonNode entries, Tally tally);
}
