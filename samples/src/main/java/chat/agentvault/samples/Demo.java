package chat.agentvault.samples;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.Owner;
import chat.agentvault.channel.Room;
import chat.agentvault.channel.RoomOptions;
import chat.agentvault.channel.SendResult;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.langchain4j.AgentRunner;
import chat.agentvault.langchain4j.EncryptedChatMemoryStore;
import chat.agentvault.relay.TestRelay;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The Project Alpha demo in one process: an embedded relay (TestRelay on embedded PostgreSQL, a
 * free port, temporary data), an owner enrolled with the tenant's bootstrap token, three sample
 * agents invited and approved by fingerprint — the planner ({@link PlainJavaAgent}), the analyst
 * ({@link LangChainAgent}, scripted model unless {@code OPENAI_API_KEY} is set) and the reviewer
 * ({@link SpringAgentApplication}) — the room "Project Alpha", a conversation the agents carry on
 * by themselves, then the reviewer's removal and a rekey.
 *
 * <p>The transcript has two columns: on the left what was sent and who decrypted it, on the right
 * the row the relay stored for it (read from its database as the administrative role). It ends
 * with the checks: every message reached its recipients, the removed agent got nothing after its
 * removal, and no plaintext appears in any stored payload. Exit status 0 when they hold.
 */
public final class Demo {
  static final String ROOM = "Project Alpha";
  static final String KICKOFF = "@planner Kickoff: Project Alpha ships release 2.4 on Friday. Please draft the plan.";
  static final String AFTER_REMOVAL = "The reviewer has left Project Alpha. Release 2.4 goes out Friday 17:00 as planned.";
  private static final int LEFT = 58;
  private static final Duration WAIT = Duration.ofSeconds(30);

  private Demo() {}

  /** How to run: where to print, and whether to keep the scripted model even with an API key. */
  public record Options(PrintStream out, boolean scriptedModel) {}

  /** One participant. */
  record Member(String name, String role, AgentClient client, List<InboundMessage> inbox) {
    String id() {
      return client.deviceId().orElseThrow();
    }

    /** Conversation messages only (no relay events, no av.* notices). */
    List<InboundMessage> conversation() {
      return inbox.stream().filter(Demo::isConversation).toList();
    }

    Optional<InboundMessage> received(long messageId) {
      return inbox.stream().filter(m -> m.messageId() == messageId).findFirst();
    }
  }

  /** What the relay stored for one message. */
  public record Stored(long id, String messageType, String contentType, Long epoch, int size, byte[] payload) {}

  /** One message of the conversation: who sent what, who decrypted it, what the relay holds. */
  public record Line(long messageId, String sender, String messageType, String text, String how,
      Map<String, String> decryptedBy, List<String> expected, Stored stored) {}

  /** What happened, for the checks and for tests. */
  public record Result(boolean encrypted, List<Line> lines, Map<String, List<InboundMessage>> received,
      List<InboundMessage> removedAgentGotAfterRemoval, long epochBeforeRemoval, long epochAfterRekey,
      List<String> leaks, int storedPayloads, List<String> failures) {
    public boolean ok() {
      return failures.isEmpty();
    }
  }

  public static void main(String[] args) {
    System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
    System.setProperty("agentvault.samples.quiet", "true");
    int status;
    try {
      Result r = run(new Options(System.out, SampleArgs.of(args).has("scripted")));
      status = r.ok() ? 0 : 1;
    } catch (Exception e) {
      System.err.println("demo failed: " + e);
      e.printStackTrace();
      status = 1;
    }
    System.exit(status);
  }

  /** Runs the whole demo, closes everything and deletes its data. */
  public static Result run(Options o) throws Exception {
    PrintStream out = o.out();
    long t0 = System.nanoTime();
    Path root = Files.createTempDirectory("agentvault-demo-");
    List<AutoCloseable> toClose = new ArrayList<>(); // closed in reverse order
    try (TestRelay relay = TestRelay.start()) {
      heading(out, "AgentVault demo: Project Alpha");
      out.printf("relay   %s  (embedded PostgreSQL, temporary data, started in %d ms)%n", relay.baseUrl(),
          (System.nanoTime() - t0) / 1_000_000);
      TestRelay.TenantBootstrap tenant = relay.createTenant("Project Alpha demo");

      // ---------------------------------------------------------------- enrollment
      KeyProtection ownerKeys = passphrase(toClose);
      AgentClient ownerClient = builder(relay, root.resolve("owner"), "owner", ownerKeys)
          .inviteToken(tenant.ownerToken()).build();
      toClose.add(ownerClient);
      Member owner = member("owner", "owner", ownerClient);
      ownerClient.start();
      out.printf("owner   enrolled with the tenant's bootstrap token: device %s%n", owner.id());
      out.printf("        fingerprint %s%n", ownerClient.fingerprint().full());

      heading(out, "Three agents enroll; the owner approves each by comparing fingerprints");
      KeyProtection plannerKeys = passphrase(toClose);
      AgentClient plannerClient = builder(relay, root.resolve("planner"), "planner", plannerKeys)
          .inviteToken(invite(ownerClient)).build();
      toClose.add(plannerClient);
      Member planner = member("planner", "plain Java", plannerClient);
      toClose.add(PlainJavaAgent.attach(plannerClient));
      enroll(out, owner, planner, CompletableFuture.runAsync(plannerClient::start));

      KeyProtection analystKeys = passphrase(toClose);
      Path analystDir = root.resolve("analyst");
      AgentClient analystClient = builder(relay, analystDir, "analyst", analystKeys)
          .inviteToken(invite(ownerClient)).build();
      toClose.add(analystClient);
      Member analyst = member("analyst", "LangChain4j", analystClient);
      EncryptedChatMemoryStore memory = EncryptedChatMemoryStore.forDataDir(analystDir, analystKeys);
      toClose.add(memory);
      boolean realModel = !o.scriptedModel() && LangChainAgent.usesRealModel(System.getenv());
      AgentRunner runner = LangChainAgent.attach(analystClient,
          realModel ? LangChainAgent.model(System.getenv()) : LangChainAgent.scriptedModel(), memory);
      toClose.add(runner);
      enroll(out, owner, analyst, CompletableFuture.runAsync(analystClient::start));

      Map<String, Object> springProps = new LinkedHashMap<>();
      springProps.put("agentvault.relay-url", relay.baseUrl());
      springProps.put("agentvault.data-dir", root.resolve("reviewer").toString());
      springProps.put("agentvault.invite-token", invite(ownerClient));
      springProps.put("agentvault.key-store-passphrase", UUID.randomUUID().toString());
      springProps.put("agentvault.poll-interval", "200ms");
      springProps.put("agentvault.approval-poll-interval", "200ms");
      ConfigurableApplicationContext spring = SpringAgentApplication.start(springProps);
      toClose.add(spring);
      AgentClient reviewerClient = spring.getBean(AgentClient.class);
      Member reviewer = member("reviewer", "Spring Boot", reviewerClient);
      enroll(out, owner, reviewer, null);
      List<Member> agents = List.of(planner, analyst, reviewer);
      List<Member> everyone = List.of(owner, planner, analyst, reviewer);

      // ---------------------------------------------------------------- the room
      String[] ids = agents.stream().map(Member::id).toArray(String[]::new);
      Room alpha = ownerClient.createRoom(ROOM, RoomOptions.encrypted().members(ids));
      boolean encrypted = alpha.encrypted();
      String roomId = alpha.roomId();
      for (Member a : agents) {
        await(a.name() + " joins " + ROOM, () -> joined(ownerClient, roomId, a.id()));
      }
      heading(out, "Room \"" + ROOM + "\" " + roomId + ": " + (alpha.encrypted() ? "end-to-end encrypted (MLS)" : "PLAINTEXT"));
      out.println("members: owner, planner (plain Java), analyst (LangChain4j, " + (realModel
          ? "OpenAI " + System.getenv().getOrDefault("OPENAI_MODEL", LangChainAgent.DEFAULT_OPENAI_MODEL)
          : "scripted model") + "), reviewer (Spring Boot)");
      long lastSeen = handshakeRows(out, relay, roomId, 0, "room created, members added");

      // ---------------------------------------------------------------- the conversation
      heading(out, "Transcript: in the clear (what the members sent and decrypted) | what the relay stored");
      out.printf("%-" + LEFT + "s │ %s%n", "", "");
      List<Line> lines = new ArrayList<>();
      SendResult kickoff = ownerClient.sendToRoom(roomId, KICKOFF);
      lines.add(line(out, relay, everyone, owner, kickoff.messageId(), "sendToRoom", List.of(planner, analyst, reviewer)));
      InboundMessage plan = awaitFrom(owner, planner, m -> true);
      lines.add(line(out, relay, everyone, planner, plan.messageId(), "send(): sticky routing", List.of(owner, analyst, reviewer)));
      InboundMessage risk = awaitFrom(owner, analyst, m -> true);
      lines.add(line(out, relay, everyone, analyst, risk.messageId(), "AgentRunner, read_recent_messages tool",
          List.of(owner, planner, reviewer)));
      InboundMessage ask = awaitFrom(owner, planner, m -> "decision_request".equals(m.messageType()));
      lines.add(line(out, relay, everyone, planner, ask.messageId(), "sendToRoom, structured", List.of(owner, analyst, reviewer)));
      InboundMessage decision = awaitFrom(owner, reviewer, m -> "decision_response".equals(m.messageType()));
      lines.add(line(out, relay, everyone, reviewer, decision.messageId(), "@VaultListener", List.of(owner, planner, analyst)));
      lastSeen = Math.max(lastSeen, decision.messageId());

      // ---------------------------------------------------------------- removal and rekey
      long epochBefore = epoch(ownerClient, roomId);
      int reviewerHad = reviewer.conversation().size();
      ownerClient.removeMember(roomId, reviewer.id());
      ownerClient.rekey(roomId);
      long epochAfter = epoch(ownerClient, roomId);
      out.printf("%-" + LEFT + "s │%n", "");
      out.printf("%-" + LEFT + "s │ %s%n", "owner removes the reviewer, then rekeys", "epoch " + epochBefore + " -> " + epochAfter);
      handshakeRows(out, relay, roomId, lastSeen, null);
      SendResult after = ownerClient.sendToRoom(roomId, AFTER_REMOVAL);
      lines.add(line(out, relay, everyone, owner, after.messageId(), "sendToRoom, after the removal", List.of(planner, analyst)));
      Thread.sleep(2000); // time for anything that would (wrongly) reach the reviewer
      List<InboundMessage> leakedToReviewer = reviewer.conversation().subList(reviewerHad, reviewer.conversation().size());
      out.printf("%-" + LEFT + "s │%n", "reviewer after its removal: " + (leakedToReviewer.isEmpty() ? "received nothing" : leakedToReviewer.size() + " message(s)!"));

      // ---------------------------------------------------------------- checks
      heading(out, "What the relay holds, and the checks");
      List<Stored> all = allPayloads(relay);
      Map<String, Integer> byType = new LinkedHashMap<>();
      for (Stored s : all) {
        byType.merge(s.messageType() + " (" + s.contentType() + ")", 1, Integer::sum);
      }
      out.println("relay messages table: " + all.size() + " rows");
      byType.forEach((k, v) -> out.printf("    %3d  %s%n", v, k));
      List<String> plaintexts = new ArrayList<>();
      for (Line l : lines) {
        plaintexts.add(l.text());
      }
      List<String> leaks = new ArrayList<>();
      for (String p : plaintexts) {
        byte[] needle = p.getBytes(StandardCharsets.UTF_8);
        for (Stored s : all) {
          if (indexOf(s.payload(), needle) >= 0) {
            leaks.add("message " + s.id() + " holds \"" + p + "\"");
          }
        }
      }
      List<String> failures = new ArrayList<>();
      if (!alpha.encrypted()) {
        failures.add("the room is not encrypted");
      }
      for (Line l : lines) {
        for (String who : l.expected()) {
          String got = l.decryptedBy().get(who);
          if (got == null) {
            failures.add(who + " did not receive message " + l.messageId());
          } else if (!got.equals(l.text())) {
            failures.add(who + " read message " + l.messageId() + " differently");
          }
        }
      }
      if (!leakedToReviewer.isEmpty()) {
        failures.add("the removed reviewer received " + leakedToReviewer.size() + " message(s) after its removal");
      }
      if (epochAfter <= epochBefore && alpha.encrypted()) {
        failures.add("the epoch did not advance on removal (" + epochBefore + " -> " + epochAfter + ")");
      }
      failures.addAll(leaks);
      check(out, failures.stream().noneMatch(f -> f.contains("receive") || f.contains("differently")),
          lines.size() + " conversation messages, each decrypted by every member it was meant for, identical to what was sent");
      check(out, leakedToReviewer.isEmpty() && (epochAfter > epochBefore || !alpha.encrypted()),
          "the removed reviewer received nothing after its removal (epoch " + epochBefore + " -> " + epochAfter + ")");
      check(out, leaks.isEmpty(), leaks.isEmpty()
          ? "none of the " + plaintexts.size() + " plaintexts appears in any of the " + all.size() + " payloads the relay stores"
          : leaks.size() + " stored payload(s) contain a plaintext: " + leaks);
      check(out, alpha.encrypted(), "room \"" + ROOM + "\" is end-to-end encrypted (MLS)");
      Map<String, List<InboundMessage>> received = new LinkedHashMap<>();
      for (Member m : everyone) {
        received.put(m.name(), m.conversation());
      }
      out.printf("%s in %.1f s%n", failures.isEmpty() ? "DEMO OK" : "DEMO FAILED: " + failures,
          (System.nanoTime() - t0) / 1e9);
      return new Result(encrypted, lines, received, leakedToReviewer, epochBefore, epochAfter, leaks, all.size(), failures);
    } finally {
      for (int i = toClose.size() - 1; i >= 0; i--) {
        try {
          toClose.get(i).close();
        } catch (Exception e) {
          out.println("(closing " + toClose.get(i).getClass().getSimpleName() + ": " + e + ")");
        }
      }
      deleteTree(root);
    }
  }

  // ------------------------------------------------------------------ enrollment

  private static AgentClient.Builder builder(TestRelay relay, Path dir, String name, KeyProtection keys) {
    return AgentClient.builder().relayUrl(relay.baseUrl()).dataDir(dir).agentName(name).keyProtection(keys)
        .pollInterval(Duration.ofMillis(200)).approvalPollInterval(Duration.ofMillis(200));
  }

  private static KeyProtection passphrase(List<AutoCloseable> toClose) {
    KeyProtection k = KeyProtection.passphrase(UUID.randomUUID().toString().toCharArray());
    toClose.add(k);
    return k;
  }

  private static String invite(AgentClient owner) {
    return owner.owner().createInvite("agent", Duration.ofMinutes(10)).token();
  }

  private static Member member(String name, String role, AgentClient client) {
    List<InboundMessage> inbox = new CopyOnWriteArrayList<>();
    client.onMessage(inbox::add);
    return new Member(name, role, client, inbox);
  }

  /** Waits until the agent is pending, prints both sides of the comparison, approves, waits for its login. */
  private static void enroll(PrintStream out, Member owner, Member agent, CompletableFuture<Void> started) throws Exception {
    await(agent.name() + " pending approval", () -> agent.client().state() == ClientState.PENDING_APPROVAL);
    String shown = agent.client().fingerprint().full();
    Owner.Device listed = owner.client().owner().devices().stream()
        .filter(d -> d.deviceId().equals(agent.id())).findFirst().orElseThrow();
    boolean same = shown.equals(listed.fingerprint());
    out.printf("%-9s (%s) enrolled with an invite: device %s, %s%n", agent.name(), agent.role(), agent.id(), listed.state());
    out.printf("    agent's terminal shows     %s%n", shown);
    out.printf("    relay lists to the owner   %s%n", listed.fingerprint());
    if (!same) {
      throw new IllegalStateException("fingerprints differ for " + agent.name() + ": not approving");
    }
    Owner.Device approved = owner.client().owner().approve(agent.id(), shown);
    out.printf("    identical: owner approves -> %s%n", approved.state());
    if (started != null) {
      started.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } else {
      await(agent.name() + " logged in", () -> agent.client().state() == ClientState.ONLINE
          || agent.client().state() == ClientState.OFFLINE);
    }
  }

  // ------------------------------------------------------------------ transcript

  private static Line line(PrintStream out, TestRelay relay, List<Member> everyone, Member sender, long id,
      String how, List<Member> expected) throws Exception {
    for (Member m : expected) {
      await(m.name() + " receives message " + id, () -> m.received(id).isPresent());
    }
    InboundMessage first = expected.get(0).received(id).orElseThrow();
    Map<String, String> decryptedBy = new LinkedHashMap<>();
    for (Member m : everyone) {
      m.received(id).ifPresent(r -> decryptedBy.put(m.name(), r.text()));
    }
    Stored s = stored(relay, id);
    List<String> left = new ArrayList<>();
    left.add(String.format("#%d %s -> %s [%s]", id, sender.name(), ROOM, first.messageType()));
    left.add("  (" + how + ")");
    for (String w : wrap("\"" + first.text() + "\"", LEFT - 2)) {
      left.add("  " + w);
    }
    first.structured().filter(d -> !d.isEmpty()).ifPresent(d -> left.add("  data " + d));
    StringBuilder by = new StringBuilder("  decrypted by:");
    for (Member m : everyone) {
      if (m != sender) {
        by.append(' ').append(m.name()).append(decryptedBy.containsKey(m.name()) ? " ✓" : " —");
      }
    }
    left.add(by.toString());
    List<String> right = new ArrayList<>();
    right.add("row " + s.id() + ": " + s.messageType() + ", " + s.contentType());
    right.add("epoch " + (s.epoch() == null ? "-" : s.epoch()) + ", " + s.size() + " bytes of payload; its last 32:");
    // the first bytes are the MLS header and the group id (the room id, public); show the ciphertext's end
    int from = Math.max(0, s.size() - 32);
    right.add("… " + hex(s.payload(), from, from + 16));
    right.add("  " + hex(s.payload(), from + 16, s.size()));
    out.printf("%-" + LEFT + "s │%n", "");
    for (int i = 0; i < Math.max(left.size(), right.size()); i++) {
      out.printf("%-" + LEFT + "s │ %s%n", i < left.size() ? left.get(i) : "", i < right.size() ? right.get(i) : "");
    }
    return new Line(id, sender.name(), first.messageType(), first.text(), how, decryptedBy,
        expected.stream().map(Member::name).toList(), s);
  }

  /** Prints the room's handshake rows (MLS commits, welcomes) after {@code afterId}; returns the last id. */
  private static long handshakeRows(PrintStream out, TestRelay relay, String roomId, long afterId, String label) throws SQLException {
    List<Stored> rows = relay.database().asAdmin(null, c -> {
      try (PreparedStatement p = c.prepareStatement("select id, message_type, content_type, epoch, payload from messages"
          + " where room_id = ? and id > ? and message_type like 'mls\\_%' order by id")) {
        p.setObject(1, UUID.fromString(roomId));
        p.setLong(2, afterId);
        return rows(p.executeQuery());
      }
    });
    long last = afterId;
    for (Stored s : rows) {
      out.printf("%-" + LEFT + "s │ %s%n", label == null ? "" : "  " + label,
          "row " + s.id() + ": " + s.messageType() + ", epoch " + s.epoch() + ", " + s.size() + " bytes  " + hex(s.payload(), 0, 8) + " …");
      label = null;
      last = Math.max(last, s.id());
    }
    return last;
  }

  private static Stored stored(TestRelay relay, long id) throws SQLException {
    return relay.database().asAdmin(null, c -> {
      try (PreparedStatement p = c.prepareStatement(
          "select id, message_type, content_type, epoch, payload from messages where id = ?")) {
        p.setLong(1, id);
        List<Stored> l = rows(p.executeQuery());
        if (l.isEmpty()) {
          throw new IllegalStateException("the relay has no message " + id);
        }
        return l.get(0);
      }
    });
  }

  private static List<Stored> allPayloads(TestRelay relay) throws SQLException {
    return relay.database().asAdmin(null, c -> {
      try (PreparedStatement p = c.prepareStatement(
          "select id, message_type, content_type, epoch, payload from messages order by id")) {
        return rows(p.executeQuery());
      }
    });
  }

  private static List<Stored> rows(ResultSet rs) throws SQLException {
    List<Stored> l = new ArrayList<>();
    while (rs.next()) {
      long e = rs.getLong(4);
      Long epoch = rs.wasNull() ? null : e;
      byte[] payload = rs.getBytes(5);
      l.add(new Stored(rs.getLong(1), rs.getString(2), rs.getString(3), epoch, payload.length, payload));
    }
    return l;
  }

  // ------------------------------------------------------------------ helpers

  static boolean isConversation(InboundMessage m) {
    String t = m.messageType();
    return t != null && !t.equals("event") && !t.startsWith("av.") && !t.startsWith("mls_");
  }

  private static InboundMessage awaitFrom(Member at, Member from, Predicate<InboundMessage> p) throws InterruptedException {
    InboundMessage[] found = new InboundMessage[1];
    await(at.name() + " receives a message from " + from.name(), () -> {
      for (InboundMessage m : at.inbox()) {
        if (isConversation(m) && from.id().equals(m.senderDeviceId()) && p.test(m)) {
          found[0] = m;
          return true;
        }
      }
      return false;
    });
    return found[0];
  }

  private static boolean joined(AgentClient owner, String roomId, String member) {
    return owner.rooms().stream().filter(r -> r.roomId().equals(roomId)).flatMap(r -> r.members().stream())
        .anyMatch(x -> x.deviceId().equals(member) && x.status().equals("joined"));
  }

  private static long epoch(AgentClient client, String roomId) {
    return client.rooms().stream().filter(r -> r.roomId().equals(roomId)).findFirst().map(Room::epoch).orElse(-1L);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out: " + what);
      }
      Thread.sleep(50);
    }
  }

  private static void heading(PrintStream out, String title) {
    out.println();
    out.println("== " + title + " " + "=".repeat(Math.max(3, LEFT * 2 - title.length())));
  }

  private static void check(PrintStream out, boolean ok, String what) {
    out.println((ok ? "  ✓ " : "  ✗ ") + what);
  }

  static String hex(byte[] b, int from, int to) {
    if (from >= b.length) {
      return "";
    }
    byte[] part = Arrays.copyOfRange(b, from, Math.min(to, b.length));
    return HexFormat.ofDelimiter(" ").formatHex(part);
  }

  static List<String> wrap(String text, int width) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (String word : text.split(" ")) {
      if (line.length() > 0 && line.length() + 1 + word.length() > width) {
        lines.add(line.toString());
        line.setLength(0);
      }
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(word);
    }
    if (line.length() > 0) {
      lines.add(line.toString());
    }
    return lines;
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temporary directory
    }
  }
}
