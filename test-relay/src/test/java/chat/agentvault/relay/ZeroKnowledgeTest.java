package chat.agentvault.relay;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.Inbound;
import chat.agentvault.mls.MlsGroup;
import chat.agentvault.mls.MlsKeyPackage;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Issue 6, "Zero knowledge": members of an encrypted room exchange MLS-protected messages carrying a
 * canary string through the real relay; then every table (a logical dump of the whole database),
 * every file of the PostgreSQL data directory (heap, WAL) and everything the relay logged are
 * searched for the canary (as UTF-8, hex and base64 at each alignment): 0 hits. The messages
 * decrypt at the recipient, so the canary really travelled through the relay.
 */
class ZeroKnowledgeTest {

  @Test
  void noCanaryInTheDatabaseItsFilesOrTheLogs() throws Exception {
    String canary = "CANARY-" + UUID.randomUUID();
    PrintStream originalErr = System.err;
    PrintStream originalOut = System.out;
    ByteArrayOutputStream logs = new ByteArrayOutputStream();
    System.setErr(new PrintStream(new TeeStream(logs, originalErr), true, StandardCharsets.UTF_8));
    System.setOut(new PrintStream(new TeeStream(logs, originalOut), true, StandardCharsets.UTF_8));
    Path dir = Files.createTempDirectory("zk-relay-");
    try (TestRelay relay = TestRelay.start(RelayConfig.builder().dataDir(dir).build())) {
      Http http = new Http(relay);
      UUID tenant = Fixtures.tenant(relay);
      Fixtures.Device alice = Fixtures.active(relay, tenant, "agent");
      Fixtures.Device bob = Fixtures.active(relay, tenant, "agent");
      String ta = Fixtures.login(relay, alice);
      String tb = Fixtures.login(relay, bob);

      Http.Response room = http.post("/api/v1/rooms", Http.json().put("name", "project alpha")
          .set("members", Http.json().arrayNode().add(bob.id().toString())), ta);
      assertThat(room.status()).isEqualTo(201);
      String roomId = room.body().path("room_id").asText();
      assertThat(room.body().path("mode").asText()).isEqualTo("encrypted");
      assertThat(http.post("/api/v1/rooms/" + roomId + "/join", null, tb).status()).isEqualTo(200);

      int suite = MlsKeyPackage.SUITE_X25519_CHACHA20POLY1305_ED25519;
      MlsKeyPackage akp = MlsKeyPackage.generate(suite, Bytes.of(alice.id().toString().getBytes(StandardCharsets.UTF_8)));
      MlsKeyPackage bkp = MlsKeyPackage.generate(suite, Bytes.of(bob.id().toString().getBytes(StandardCharsets.UTF_8)));
      MlsGroup ag = MlsGroup.create(akp, Bytes.of(roomId.getBytes(StandardCharsets.UTF_8)), true);
      MlsGroup.PendingCommit add = ag.addMembers(List.of(bkp.toBytes()));
      send(http, ta, roomId, "mls_commit", 0L, add.message(), null);
      ag.mergePendingCommit();
      send(http, ta, roomId, "mls_welcome", null, add.welcome().orElseThrow(), bob.id());

      List<String> sent = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        String text = "the launch code is " + canary + " #" + i;
        sent.add(text);
        send(http, ta, roomId, "application", ag.epoch(), ag.encrypt(Bytes.of(text.getBytes(StandardCharsets.UTF_8))), null);
      }

      // Bob: the welcome, then the application messages, in order, decrypting to the canary texts.
      Http.Response fetched = http.get("/api/v1/messages?limit=100", tb);
      assertThat(fetched.status()).isEqualTo(200);
      MlsGroup bg = null;
      List<String> received = new ArrayList<>();
      List<Long> ids = new ArrayList<>();
      for (JsonNode m : fetched.body().path("messages")) {
        ids.add(m.path("message_id").asLong());
        Bytes payload = Bytes.of(Base64.getDecoder().decode(m.path("payload").asText()));
        switch (m.path("message_type").asText()) {
          case "mls_welcome" -> bg = MlsGroup.join(bkp, payload, true);
          case "application" -> {
            Inbound in = bg.process(payload);
            received.add(new String(((Inbound.Application) in).data().toByteArray(), StandardCharsets.UTF_8));
          }
          default -> { }
        }
      }
      assertThat(received).containsExactlyElementsOf(sent);

      // Search: a logical dump of every table, the data directory's files, the logs.
      List<byte[]> needles = needles(canary);
      ByteArrayOutputStream dump = new ByteArrayOutputStream();
      relay.database().asAdmin(null, c -> {
        try (var s = c.createStatement()) {
          s.execute("checkpoint");
        }
        dumpAll(c, dump);
        return null;
      });
      assertThat(dump.size()).as("the dump holds the stored ciphertext").isGreaterThan(20 * 100);
      assertThat(hits(dump.toByteArray(), needles)).as("canary hits in the database dump").isZero();
      long fileHits = 0;
      long scanned = 0;
      try (Stream<Path> files = Files.walk(dir.resolve("pg"))) {
        for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
          byte[] content = Files.readAllBytes(f);
          scanned += content.length;
          fileHits += hits(content, needles);
        }
      }
      assertThat(scanned).isGreaterThan(1_000_000);
      assertThat(fileHits).as("canary hits in PostgreSQL's files (heap, WAL)").isZero();
      // Sanity of the search itself: the searcher finds a canary where there is one.
      assertThat(hits(("x" + canary + "y").getBytes(StandardCharsets.UTF_8), needles)).isPositive();
    } finally {
      System.setErr(originalErr);
      System.setOut(originalOut);
      deleteTree(dir);
    }
    assertThat(logs.size()).as("the relay logged something").isPositive();
    assertThat(hits(logs.toByteArray(), needles(canary))).as("canary hits in the relay's logs").isZero();
  }

  private static void send(Http http, String token, String roomId, String type, Long epoch, Bytes payload, UUID only) {
    var body = Http.json().put("room_id", roomId).put("message_type", type)
        .put("content_type", "application/mls").put("client_message_id", UUID.randomUUID().toString())
        .put("payload", Base64.getEncoder().encodeToString(payload.toByteArray()));
    if (epoch != null) {
      body.put("epoch", epoch.longValue());
    }
    if (only != null) {
      body.set("recipients", Http.json().arrayNode().add(only.toString()));
    }
    Http.Response r = http.post("/api/v1/messages", body, token);
    assertThat(r.status()).as(r.raw()).isEqualTo(201);
  }

  private static void dumpAll(Connection c, ByteArrayOutputStream out) throws java.sql.SQLException {
    List<String> tables = new ArrayList<>();
    try (ResultSet rs = c.createStatement().executeQuery(
        "select tablename from pg_tables where schemaname = 'public'")) {
      while (rs.next()) {
        tables.add(rs.getString(1));
      }
    }
    assertThat(tables).contains("messages", "deliveries", "rooms");
    try (var s = c.createStatement()) {
      s.execute("set local row_security = off"); // the admin owns the tables; dump every tenant
    }
    CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
    for (String t : tables) {
      try {
        copy.copyOut("COPY " + t + " TO STDOUT", out);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /** The canary as UTF-8, as hex (both cases) and as base64 at each of the three alignments. */
  private static List<byte[]> needles(String canary) {
    byte[] raw = canary.getBytes(StandardCharsets.UTF_8);
    List<byte[]> n = new ArrayList<>();
    n.add(raw);
    n.add(HexFormat.of().formatHex(raw).getBytes(StandardCharsets.US_ASCII));
    n.add(HexFormat.of().withUpperCase().formatHex(raw).getBytes(StandardCharsets.US_ASCII));
    for (int shift = 0; shift < 3; shift++) {
      byte[] padded = new byte[shift + raw.length];
      System.arraycopy(raw, 0, padded, shift, raw.length);
      String b64 = Base64.getEncoder().encodeToString(padded);
      // drop the characters that depend on the unknown neighbours
      int start = (shift == 0) ? 0 : 4;
      int end = b64.length() - 4;
      n.add(b64.substring(start, end).getBytes(StandardCharsets.US_ASCII));
    }
    return n;
  }

  private static long hits(byte[] hay, List<byte[]> needles) {
    long count = 0;
    for (byte[] needle : needles) {
      outer:
      for (int i = 0; i + needle.length <= hay.length; i++) {
        for (int j = 0; j < needle.length; j++) {
          if (hay[i + j] != needle[j]) {
            continue outer;
          }
        }
        count++;
      }
    }
    return count;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Writes to both the capture and the original stream. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public synchronized void write(int x) throws IOException {
      a.write(x);
      b.write(x);
    }

    @Override
    public synchronized void write(byte[] buf, int off, int len) throws IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
