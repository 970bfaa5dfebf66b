package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.identity.Fingerprint;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Format stability: session records written by version 1 (committed fixtures, recorded from random
 * test-only keys) still load, write back byte for byte, and decrypt the messages recorded with them:
 * a late message from a skipped key and the next message of the chain. Regenerate only for a new
 * format version: {@code -Dagentvault.ratchet.fixtures.write=true}.
 *
 * <p>The record is read on a clock fixed at the time it was recorded ({@code recordedAt}): its
 * skipped key expires {@link RatchetConfig#skippedKeyLifetime()} (14 days) after it was stored, so
 * on the wall clock the late message would be refused as expired from then on (as it was, from
 * 2026-12-07, before the clock was fixed).
 */
class RatchetFixtureTest {
  private static final HexFormat HEX = HexFormat.of();

  private static Path file(boolean he) {
    return Paths.get("src/test/resources/chat/agentvault/ratchet/session-record-v1" + (he ? "-he" : "") + ".txt");
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void version1RecordsStillLoadAndDecrypt(boolean he) throws Exception {
    if (Boolean.getBoolean("agentvault.ratchet.fixtures.write")) {
      write(he);
    }
    Map<String, String> f = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file(he), StandardCharsets.UTF_8)) {
      if (!line.isBlank() && !line.startsWith("#")) {
        int eq = line.indexOf('=');
        f.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    byte[] record = HEX.parseHex(f.get("record"));
    assertThat(SessionRecord.parse(record).toBytes()).as("writes back identically").isEqualTo(record);
    PeerAddress alice = new PeerAddress(Fingerprint.parse(f.get("peer")), 1);
    Clock recordedAt = Clock.fixed(Instant.parse(f.get("recordedAt")), ZoneOffset.UTC);
    Party bob = new Party(RatchetConfig.builder().clock(recordedAt).build());
    bob.sessions.save(alice, record);
    bob.restart();
    assertThat(new String(bob.api.decrypt(alice, HEX.parseHex(f.get("late"))).plaintext(), StandardCharsets.UTF_8))
        .isEqualTo(f.get("latePlaintext"));
    assertThat(new String(bob.api.decrypt(alice, HEX.parseHex(f.get("next"))).plaintext(), StandardCharsets.UTF_8))
        .isEqualTo(f.get("nextPlaintext"));
  }

  private static void write(boolean he) throws Exception {
    Party alice = Party.create(he);
    Party bob = Party.create(he);
    alice.api.start(bob.address, bob.api.bundle());
    bob.receive(alice, alice.send(bob, "hello"));
    alice.receive(bob, bob.send(alice, "hi"));
    byte[] late = alice.send(bob, "late message");
    bob.receive(alice, alice.send(bob, "after late"));
    byte[] next = alice.send(bob, "next message");
    StringBuilder out = new StringBuilder();
    out.append("# Session record version 1").append(he ? " (header encryption)" : "")
        .append(", recorded by RatchetFixtureTest with random test-only keys.\n");
    out.append("recordedAt=").append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append('\n');
    out.append("peer=").append(alice.identity.fingerprint().full()).append('\n');
    out.append("record=").append(HEX.formatHex(bob.stored(alice))).append('\n');
    out.append("late=").append(HEX.formatHex(late)).append('\n');
    out.append("latePlaintext=late message\n");
    out.append("next=").append(HEX.formatHex(next)).append('\n');
    out.append("nextPlaintext=next message\n");
    Files.writeString(file(he), out.toString(), StandardCharsets.UTF_8);
  }
}
