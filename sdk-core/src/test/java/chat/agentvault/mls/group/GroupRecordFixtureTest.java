package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.message.MlsMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Properties;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Group records of format version 1 (committed under {@code src/test/resources/mls/}, recorded
 * 2026-11-23 from {@link GroupRecordTest.Scenario} with random test-only keys) still load, write
 * back to the same bytes, decrypt the delayed message whose skipped key they hold, and export the
 * recorded secret. Regenerate (only for a new format version, under new names) with {@code mvn test
 * -pl sdk-core -Dtest=GroupRecordFixtureTest -Dagentvault.fixtures.write=true}.
 */
class GroupRecordFixtureTest {
  private static final HexFormat HEX = HexFormat.of();

  private static Properties fixture(int suite) throws IOException {
    String name = "/mls/group-record-v1-suite" + suite + ".properties";
    try (InputStream in = GroupRecordFixtureTest.class.getResourceAsStream(name)) {
      assertThat(in).as(name).isNotNull();
      Properties p = new Properties();
      p.load(new java.io.InputStreamReader(in, StandardCharsets.US_ASCII));
      return p;
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void version1RecordsStillLoad(int suite) throws IOException {
    Properties p = fixture(suite);
    byte[] record = HEX.parseHex(p.getProperty("record"));
    Group g = Group.fromRecord(record, GroupConfig.DEFAULT);
    assertThat(g.toRecord()).isEqualTo(record);
    assertThat(g.context().cipherSuite()).isEqualTo(suite);
    assertThat(g.epochAuthenticator().hex()).isEqualTo(p.getProperty("epochAuthenticator"));
    assertThat(HEX.formatHex(g.exportSecret("fixture", new byte[0], 32))).isEqualTo(p.getProperty("exporter"));
    Processed got = g.process(MlsMessage.parse(HEX.parseHex(p.getProperty("delayed"))));
    assertThat(((Processed.ApplicationMessage) got).data())
        .isEqualTo(Bytes.wrap(p.getProperty("plaintext").getBytes(StandardCharsets.UTF_8)));
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  @EnabledIfSystemProperty(named = "agentvault.fixtures.write", matches = "true")
  void writeFixtures(int suite) throws IOException {
    Path out = Path.of("src/test/resources/mls/group-record-v1-suite" + suite + ".properties");
    assertThat(out).doesNotExist();
    GroupRecordTest.Scenario sc = new GroupRecordTest.Scenario(suite);
    Group g = sc.c.group;
    String text =
        "# Group record format v1, suite " + suite + ", recorded 2026-11-23; random test-only keys.\n"
            + "record=" + HEX.formatHex(g.toRecord()) + "\n"
            + "delayed=" + HEX.formatHex(sc.delayed.toByteArray()) + "\n"
            + "plaintext=two\n"
            + "epochAuthenticator=" + g.epochAuthenticator().hex() + "\n"
            + "exporter=" + HEX.formatHex(g.exportSecret("fixture", new byte[0], 32)) + "\n";
    Files.writeString(out, text, StandardCharsets.US_ASCII);
  }
}
