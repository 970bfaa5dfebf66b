package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.ratchet.SessionState.Index;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** Defects found in the closing review of issue 5; each test failed before its fix. */
class ReviewFindingsTest {

  /**
   * With header encryption a skipped key's index names its chain by the header key, a secret; the
   * record's generated toString printed it in hex.
   */
  @Test
  void aSkippedKeyIndexDoesNotPrintItsHeaderKey() {
    Party alice = Party.create(true);
    Party bob = Party.create(true);
    alice.api.start(bob.address, bob.api.bundle());
    byte[] first = alice.send(bob, "first");
    byte[] second = alice.send(bob, "second");
    assertThat(bob.receive(alice, second)).isEqualTo("second"); // skips the first one's key
    SessionState s = bob.record(alice).current();
    assertThat(s.skipped).hasSize(1);
    Index index = s.skipped.keySet().iterator().next();
    String hex = HexFormat.of().formatHex(index.chain().unsafeArray());
    String text = index + " " + s.skipped.keySet() + " " + s.expired;
    for (int i = 0; i + 8 <= hex.length(); i += 8) {
      assertThat(text.toLowerCase()).doesNotContain(hex.substring(i, i + 8));
    }
    assertThat(bob.receive(alice, first)).isEqualTo("first");
  }
}
