package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.message.MlsMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Group records of earlier and current format versions, committed under {@code
 * src/test/resources/mls/} and recorded 2026-11-23 from {@link GroupRecordTest.Scenario} with random
 * test-only keys: version 1, and version 2 with the member's own commit pending. They still load,
 * decrypt the delayed message whose skipped key they hold, and export the recorded secret; a
 * version 1 record is written back as version 2, a version 2 record to the same bytes, and the
 * pending commit of the version 2 record merges into the recorded next epoch. Regenerate (only for
 * a new format version, under new names) with {@code mvn test -pl sdk-core
 * -Dtest=GroupRecordFixtureTest -Dagentvault.fixtures.write=true}.
 */
class GroupRecordFixtureTest {
  private static final HexFormat HEX = HexFormat.of();

  private static Properties fixture(int version, int suite) throws IOException {
    String name = "/mls/group-record-v" + version + "-suite" + suite + ".properties";
    try (InputStream in = GroupRecordFixtureTest.class.getResourceAsStream(name)) {
      assertThat(in).as(name).isNotNull();
      Properties p = new Properties();
      p.load(new java.io.InputStreamReader(in, StandardCharsets.US_ASCII));
      return p;
    }
  }

  private static void checkRecorded(Group g, Properties p, int suite) {
    assertThat(g.context().cipherSuite()).isEqualTo(suite);
    assertThat(g.epochAuthenticator().hex()).isEqualTo(p.getProperty("epochAuthenticator"));
    assertThat(HEX.formatHex(g.exportSecret("fixture", new byte[0], 32))).isEqualTo(p.getProperty("exporter"));
    Processed got = g.process(MlsMessage.parse(HEX.parseHex(p.getProperty("delayed"))));
    assertThat(((Processed.ApplicationMessage) got).data())
        .isEqualTo(Bytes.wrap(p.getProperty("plaintext").getBytes(StandardCharsets.UTF_8)));
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void version1RecordsStillLoad(int suite) throws IOException {
    Properties p = fixture(1, suite);
    byte[] record = HEX.parseHex(p.getProperty("record"));
    assertThat(record[4]).isEqualTo((byte) 1);
    Group.Restored restored = Group.restore(record, GroupConfig.DEFAULT);
    assertThat(restored.pendingCommit()).isNull();
    Group g = restored.group();
    assertThat(g.reinit()).isNull();
    byte[] rewritten = g.toRecord();
    assertThat(rewritten[4]).isEqualTo((byte) GroupRecord.VERSION);
    assertThat(Group.fromRecord(rewritten, GroupConfig.DEFAULT).toRecord()).isEqualTo(rewritten);
    // Version 2 of the same state: version 1's bytes, no ReInit, no pending commit.
    byte[] v1Body = Arrays.copyOfRange(record, 5, record.length - 32);
    byte[] v2Body = Arrays.copyOfRange(rewritten, 5, rewritten.length - 32);
    assertThat(v2Body).isEqualTo(concat(v1Body, new byte[] {0, 0}));
    checkRecorded(g, p, suite);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void version2RecordsWithAPendingCommitLoad(int suite) throws IOException {
    Properties p = fixture(2, suite);
    byte[] record = HEX.parseHex(p.getProperty("record"));
    Group.Restored restored = Group.restore(record, GroupConfig.DEFAULT);
    Group g = restored.group();
    Group.CommitOutput pending = restored.pendingCommit();
    assertThat(pending).isNotNull();
    assertThat(g.toRecord(pending)).isEqualTo(record);
    assertThat(HEX.formatHex(pending.commit().toByteArray())).isEqualTo(p.getProperty("commit"));
    assertThat(HEX.formatHex(pending.welcome().toByteArray())).isEqualTo(p.getProperty("welcome"));
    long epoch = g.epoch();
    checkRecorded(g, p, suite);
    g.merge(pending.staged());
    assertThat(g.epoch()).isEqualTo(epoch + 1);
    assertThat(g.epochAuthenticator().hex()).isEqualTo(p.getProperty("mergedEpochAuthenticator"));
    assertThat(HEX.formatHex(g.exportSecret("fixture", new byte[0], 32))).isEqualTo(p.getProperty("mergedExporter"));
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  @EnabledIfSystemProperty(named = "agentvault.fixtures.write", matches = "true")
  void writeFixtures(int suite) throws IOException {
    Path out = Path.of("src/test/resources/mls/group-record-v" + GroupRecord.VERSION + "-suite" + suite + ".properties");
    assertThat(out).doesNotExist();
    GroupRecordTest.Scenario sc = new GroupRecordTest.Scenario(suite);
    Group g = sc.c.group;
    Group.CommitOutput pending = g.commit(List.of(sc.w.addOf(sc.w.newClient())), true);
    byte[] record = g.toRecord(pending);
    Group merged = Group.fromRecord(record, GroupConfig.DEFAULT);
    Group.Restored copy = Group.restore(record, GroupConfig.DEFAULT);
    copy.group().merge(copy.pendingCommit().staged());
    String text =
        "# Group record format v" + GroupRecord.VERSION + ", suite " + suite
            + ", recorded 2026-11-23 with an own commit pending; random test-only keys.\n"
            + "record=" + HEX.formatHex(record) + "\n"
            + "commit=" + HEX.formatHex(pending.commit().toByteArray()) + "\n"
            + "welcome=" + HEX.formatHex(pending.welcome().toByteArray()) + "\n"
            + "delayed=" + HEX.formatHex(sc.delayed.toByteArray()) + "\n"
            + "plaintext=two\n"
            + "epochAuthenticator=" + merged.epochAuthenticator().hex() + "\n"
            + "exporter=" + HEX.formatHex(merged.exportSecret("fixture", new byte[0], 32)) + "\n"
            + "mergedEpochAuthenticator=" + copy.group().epochAuthenticator().hex() + "\n"
            + "mergedExporter=" + HEX.formatHex(copy.group().exportSecret("fixture", new byte[0], 32)) + "\n";
    Files.writeString(out, text, StandardCharsets.US_ASCII);
  }
}
