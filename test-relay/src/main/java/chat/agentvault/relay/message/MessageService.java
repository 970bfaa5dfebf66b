package chat.agentvault.relay.message;

import chat.agentvault.relay.RelayContext;
import chat.agentvault.relay.auth.Principal;
import chat.agentvault.relay.db.Database;
import chat.agentvault.relay.db.UuidArray;
import chat.agentvault.relay.http.ApiException;
import chat.agentvault.relay.http.JsonBody;
import chat.agentvault.relay.push.Webhooks;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every rule of sending and acknowledging (docs/protocol.md, "Messages" and "The MLS delivery
 * service"), for the HTTP endpoints and the WebSocket's client frames alike.
 *
 * <p>The send path is a handful of statements in one transaction: one query resolves the sender's
 * membership, the room's mode and epoch, the recipients and their webhook URLs; one inserts the
 * message; one inserts every delivery ({@code unnest}). MLS commits and proposals first lock the
 * room row ({@code SELECT ... FOR UPDATE}), so handshake messages of a room are ordered and exactly
 * one commit per epoch is accepted: members never fork.
 *
 * <p>Other room messages go through a group commit: the concurrent sends of a tenant share one
 * transaction. The relay keeps a copy of each room it has sent to (mode, epoch, members_version and
 * the joined members), and a batch whose rooms are all in it is a single statement, sent with the
 * tenant setting and committed in the same round trip, that first checks the copy against the
 * rooms and writes nothing if it is out of date (the batch then reads the rooms; see
 * {@code runSends}).
 */
public final class MessageService implements MessageApi, AutoCloseable {
  /** The fields of a send request (a WebSocket send frame adds {@code type}). */
  public static final Set<String> SEND_FIELDS = Set.of("room_id", "conversation_id", "message_type", "content_type",
      "client_message_id", "payload", "epoch", "recipients");
  public static final String MLS_COMMIT = "mls_commit";
  public static final String MLS_PROPOSAL = "mls_proposal";
  public static final String MLS_WELCOME = "mls_welcome";
  /** Most message ids one acknowledgement may carry. */
  public static final int MAX_ACK = 1000;
  static final int MAX_RECIPIENTS = 10_000;
  private static final Pattern MESSAGE_TYPE = Pattern.compile("[a-z0-9][a-z0-9_.\\-]{0,63}");
  private static final Pattern CONTENT_TYPE = Pattern.compile("[\\x21-\\x7e][\\x20-\\x7e]{0,127}");

  private static final Logger LOG = LoggerFactory.getLogger(MessageService.class);

  private final RelayContext rc;
  private final Webhooks webhooks;
  /** Fans out committed batches in commit order, so the next batch need not wait for the sockets. */
  private final ExecutorService publisher = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "batch-publisher");
    t.setDaemon(true);
    return t;
  });

  /** Requests per batch (one transaction). */
  static final int MAX_BATCH = 256;
  /** Payload bytes per send batch (a batch always takes one request, whatever its size). */
  static final int MAX_BATCH_PAYLOAD_BYTES = 8 << 20;
  /** Message ids per acknowledgement batch. */
  static final int MAX_ACK_BATCH_IDS = 20_000;

  private final GroupCommit<SendReq> sends;
  private final GroupCommit<AckReq> acks;

  public MessageService(RelayContext rc) {
    this.rc = rc;
    this.webhooks = new Webhooks(rc.db());
    // writers hold a pool connection each while they run: leave most of the pool to everything else
    int writers = Math.max(1, Math.min(4, rc.config().poolSize() / 4));
    this.sends = new GroupCommit<>("send-writer", writers, MAX_BATCH, MAX_BATCH_PAYLOAD_BYTES, r -> r.s.payload.length,
        this::runSends,
        r -> r.answer.completeExceptionally(new ApiException(503, "relay shutting down")));
    this.acks = new GroupCommit<>("ack-writer", writers, MAX_BATCH, MAX_ACK_BATCH_IDS, r -> r.ids.size(),
        this::runAcks, r -> r.answer.completeExceptionally(new ApiException(503, "relay shutting down")));
  }

  /** A validated send request. */
  private record Send(UUID room, UUID conversation, String type, String contentType, String clientId,
      byte[] payload, Long epoch, List<UUID> recipients) {}

  /** Where a message goes, as resolved in the transaction. */
  private record Outcome(Store.Stored stored, long duplicateOf, List<String> webhooks) {}

  @Override
  public ObjectNode submit(Principal sender, JsonBody b) {
    return join(submitAsync(sender, b));
  }

  /**
   * Sends through the group commit when the request can be batched ({@link #batchable}): the future
   * completes (on a writer thread) after the batch's transaction committed, or with the request's own
   * error. Other requests (MLS commits and proposals, which lock the room; welcomes; direct
   * conversations) run in their own transaction on the caller's thread, as does the request's
   * validation, whose errors are thrown here.
   */
  @Override
  public CompletableFuture<ObjectNode> submitAsync(Principal sender, JsonBody b) {
    Send s = parse(b);
    if (!batchable(s.type, s.room != null)) {
      Outcome o;
      try {
        o = rc.db().inTenant(sender.tenant(), c -> store(c, sender, s));
      } catch (SQLException e) {
        throw new UncheckedSql(e);
      }
      return CompletableFuture.completedFuture(answer(sender, s, o));
    }
    SendReq r = new SendReq(sender, s, new CompletableFuture<>());
    sends.submit(sender.tenant(), r);
    return r.answer;
  }

  /**
   * Whether a send goes through the group commit: a message to a room that is not an MLS handshake
   * (commit, proposal: they lock the room) or welcome. Callers that must keep a client's sends in
   * order wait for its batched sends before a non-batchable one.
   */
  public static boolean batchable(String messageType, boolean toRoom) {
    return toRoom && !MLS_COMMIT.equals(messageType) && !MLS_PROPOSAL.equals(messageType)
        && !MLS_WELCOME.equals(messageType);
  }

  private ObjectNode answer(Principal sender, Send s, Outcome o) {
    if (o.stored == null) {
      return JsonBody.object().put("message_id", o.duplicateOf).put("duplicate", true)
          .put("client_message_id", s.clientId);
    }
    Store.publish(rc.fanout(), List.of(o.stored));
    webhooks.notify(sender.tenant(), sender.device(), o.stored.room(), o.stored.conversation(), o.stored.id(),
        o.webhooks);
    return JsonBody.object().put("message_id", o.stored.id()).put("duplicate", false)
        .put("client_message_id", s.clientId);
  }

  @Override
  public int ack(Principal recipient, List<Long> messageIds) {
    return join(ackAsync(recipient, messageIds));
  }

  /**
   * Acknowledges through the group commit: the future completes after the batch's transaction
   * committed (so an acknowledged delivery is never returned again), with how many changed.
   */
  @Override
  public CompletableFuture<Integer> ackAsync(Principal recipient, List<Long> messageIds) {
    if (messageIds.size() > MAX_ACK) {
      throw ApiException.badRequest("field message_ids has more than " + MAX_ACK + " elements");
    }
    if (messageIds.isEmpty()) {
      return CompletableFuture.completedFuture(0);
    }
    AckReq r = new AckReq(recipient, List.copyOf(messageIds), new CompletableFuture<>());
    acks.submit(recipient.tenant(), r);
    return r.answer;
  }

  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException x) {
        throw x;
      }
      if (e.getCause() instanceof Error x) {
        throw x;
      }
      throw e;
    }
  }

  /** {@code recipient}'s pending messages after {@code after}, oldest first (HTTP polling fallback). */
  public List<Store.Stored> pending(Principal recipient, long after, int limit) {
    try {
      return rc.db().inTenant(recipient.tenant(), c -> Store.pending(c, recipient.tenant(), recipient.device(), after, limit));
    } catch (SQLException e) {
      throw new UncheckedSql(e);
    }
  }

  /** The message ids of an ack request's {@code message_ids}: integers, at most {@link #MAX_ACK}. */
  public static List<Long> messageIds(JsonBody b) {
    List<JsonNode> raw = b.array("message_ids", MAX_ACK);
    if (b.raw("message_ids") == null) {
      throw ApiException.badRequest("missing field: message_ids");
    }
    List<Long> ids = new ArrayList<>(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      JsonNode n = raw.get(i);
      if (!n.isIntegralNumber() || !n.canConvertToLong()) {
        throw ApiException.badRequest("field message_ids[" + i + "] must be an integer");
      }
      ids.add(n.longValue());
    }
    return ids;
  }

  /** A database failure on the send or ack path; the HTTP layer answers 503. */
  public static final class UncheckedSql extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UncheckedSql(SQLException e) {
      super(e);
    }

    public SQLException sqlException() {
      return (SQLException) getCause();
    }
  }

  // ------------------------------------------------------------------ rules

  private Send parse(JsonBody b) {
    UUID room = b.optUuid("room_id").orElse(null);
    UUID conversation = b.optUuid("conversation_id").orElse(null);
    if ((room == null) == (conversation == null)) {
      throw ApiException.badRequest("exactly one of room_id, conversation_id is required");
    }
    String type = b.string("message_type");
    if (!MESSAGE_TYPE.matcher(type).matches()) {
      throw ApiException.badRequest("field message_type must be 1 to 64 of a-z 0-9 _ . -");
    }
    if (type.equals(Store.EVENT)) {
      throw ApiException.badRequest("message_type event is reserved for the relay");
    }
    String contentType = b.string("content_type");
    if (!CONTENT_TYPE.matcher(contentType).matches()) {
      throw ApiException.badRequest("field content_type must be 1 to 128 printable ASCII characters");
    }
    String clientId = b.text("client_message_id", 128);
    byte[] payload = b.bytes("payload", rc.config().maxPayloadBytes());
    Long epoch = b.optInteger("epoch").orElse(null);
    if (epoch != null && epoch < 0) {
      throw ApiException.badRequest("field epoch must not be negative");
    }
    boolean handshake = type.equals(MLS_COMMIT) || type.equals(MLS_PROPOSAL);
    if (handshake && epoch == null) {
      throw ApiException.badRequest("missing field: epoch");
    }
    List<UUID> recipients = null;
    if (type.equals(MLS_WELCOME)) {
      List<JsonNode> raw = b.array("recipients", MAX_RECIPIENTS);
      if (raw.isEmpty()) {
        throw ApiException.badRequest("missing field: recipients");
      }
      LinkedHashSet<UUID> r = new LinkedHashSet<>();
      for (int i = 0; i < raw.size(); i++) {
        if (!raw.get(i).isTextual()) {
          throw ApiException.badRequest("field recipients[" + i + "] must be a string");
        }
        r.add(JsonBody.parseUuid(raw.get(i).textValue(), "recipients[" + i + "]"));
      }
      recipients = List.copyOf(r);
    } else if (b.has("recipients")) {
      throw ApiException.badRequest("field recipients is only for mls_welcome");
    }
    return new Send(room, conversation, type, contentType, clientId, payload, epoch, recipients);
  }

  private Outcome store(Connection c, Principal p, Send s) throws SQLException {
    UUID room = s.room;
    if (s.conversation != null) {
      try (PreparedStatement q = c.prepareStatement(
          "select c.kind, c.device_a, c.device_b, c.room_id, d.webhook_url from conversations c"
              + " left join devices d on d.id = case when c.device_a = ? then c.device_b else c.device_a end"
              + " where c.id = ?")) {
        q.setObject(1, p.device());
        q.setObject(2, s.conversation);
        ResultSet rs = q.executeQuery();
        if (!rs.next()) {
          throw ApiException.notFound("conversation not found");
        }
        if (rs.getString(1).equals("group")) {
          room = rs.getObject(4, UUID.class);
        } else {
          UUID a = rs.getObject(2, UUID.class);
          UUID z = rs.getObject(3, UUID.class);
          if (!p.device().equals(a) && !p.device().equals(z)) {
            throw ApiException.notFound("conversation not found");
          }
          if (s.type.startsWith("mls_")) {
            throw ApiException.badRequest("MLS handshake messages belong to a room");
          }
          UUID peer = p.device().equals(a) ? z : a;
          String hook = rs.getString(5);
          return insert(c, p, s, null, List.of(peer), hook == null ? List.of() : List.of(hook));
        }
      }
    }
    boolean handshake = s.type.equals(MLS_COMMIT) || s.type.equals(MLS_PROPOSAL);
    if (handshake) {
      // orders every handshake message of the room: held until commit
      try (PreparedStatement q = c.prepareStatement("select 1 from rooms where id = ? for update")) {
        q.setObject(1, room);
        q.executeQuery();
      }
    }
    boolean welcome = s.type.equals(MLS_WELCOME);
    String mode;
    long epoch;
    List<UUID> to = new ArrayList<>();
    List<String> hooks = new ArrayList<>();
    try (PreparedStatement q = c.prepareStatement(
        "select r.mode, r.epoch, x.recips, x.hooks, x.matched from rooms r"
            + " join room_members me on me.room_id = r.id and me.device_id = ? and me.status = 'joined'"
            + " cross join lateral (select coalesce(array_agg(m.device_id), '{}') recips,"
            + "   coalesce(array_agg(d.webhook_url) filter (where d.webhook_url is not null), '{}') hooks,"
            + "   count(*) matched"
            + "   from room_members m join devices d on d.id = m.device_id"
            + "   where m.room_id = r.id and m.device_id <> ?"
            + (welcome ? " and m.device_id = any(?)" : " and m.status = 'joined'") + ") x"
            + " where r.id = ?")) {
      q.setObject(1, p.device());
      q.setObject(2, p.device());
      int i = 3;
      if (welcome) {
        q.setObject(i++, UuidArray.of(s.recipients));
      }
      q.setObject(i, room);
      ResultSet rs = q.executeQuery();
      if (!rs.next()) {
        throw notJoined(c, room, p.device());
      }
      mode = rs.getString(1);
      epoch = rs.getLong(2);
      Array r = rs.getArray(3);
      for (Object o : (Object[]) r.getArray()) {
        to.add((UUID) o);
      }
      Array h = rs.getArray(4);
      hooks.addAll(Arrays.asList((String[]) h.getArray()));
      if (welcome && rs.getLong(5) != s.recipients.size()) {
        throw ApiException.badRequest("recipients must be other members of the room");
      }
    }
    if (mode.equals("plaintext") && s.type.startsWith("mls_")) {
      throw ApiException.badRequest("a plaintext room has no MLS group");
    }
    boolean checkEpoch = mode.equals("encrypted") && !welcome && s.epoch != null;
    if (checkEpoch && s.epoch != epoch) {
      long existing = Store.existingId(c, p.device(), s.clientId);
      if (existing >= 0) {
        return new Outcome(null, existing, List.of());
      }
      throw new ApiException(409, "epoch conflict", JsonBody.object().put("current_epoch", epoch));
    }
    Outcome o = insert(c, p, s, room, to, hooks);
    if (o.stored != null && s.type.equals(MLS_COMMIT)) {
      try (PreparedStatement q = c.prepareStatement("update rooms set epoch = epoch + 1 where id = ?")) {
        q.setObject(1, room);
        q.executeUpdate();
      }
    }
    return o;
  }

  /** 403 for an invited member who has not joined yet, else 404 (no such room, or not a member). */
  private static ApiException notJoined(Connection c, UUID room, UUID device) throws SQLException {
    try (PreparedStatement q = c.prepareStatement("select 1 from room_members where room_id = ? and device_id = ?")) {
      q.setObject(1, room);
      q.setObject(2, device);
      return q.executeQuery().next() ? ApiException.forbidden("join the room first") : ApiException.notFound("room not found");
    }
  }

  private static Outcome insert(Connection c, Principal p, Send s, UUID room, List<UUID> to, List<String> hooks)
      throws SQLException {
    Store.Stored st = Store.insert(c, p.tenant(), p.device(), room, s.conversation, s.type, s.contentType,
        s.clientId, s.epoch, s.payload, to);
    if (st == null) {
      return new Outcome(null, Store.existingId(c, p.device(), s.clientId), List.of());
    }
    return new Outcome(st, -1, hooks);
  }

  // ------------------------------------------------------------------ group commit

  private record SendReq(Principal p, Send s, CompletableFuture<ObjectNode> answer) {}

  private record AckReq(Principal p, List<Long> ids, CompletableFuture<Integer> answer) {}

  /** A (sender, room) pair as resolved once per batch: what store() reads in its membership query. */
  private record Route(String mode, long epoch, List<UUID> recipients, List<String> hooks) {}

  /** One request of a send batch and what became of it. */
  private static final class Slot {
    final SendReq r;
    Route route;
    Outcome outcome;
    Slot duplicateOf; // a batch-mate with the same client_message_id, stored (or found) first
    RuntimeException error;

    Slot(SendReq r) {
      this.r = r;
    }

    long messageId() {
      return outcome.stored != null ? outcome.stored.id() : outcome.duplicateOf;
    }
  }

  private static ObjectNode sentAnswer(long id, boolean duplicate, String clientId) {
    return JsonBody.object().put("message_id", id).put("duplicate", duplicate).put("client_message_id", clientId);
  }

  /**
   * One batch of room sends of one tenant: one transaction, one durable commit. The checks are
   * store()'s, in the same order, per request; a request that fails them gets its own error and
   * takes no part in the writes.
   *
   * <p>When the relay has every room of the batch in memory ({@link #fromCache}), the checks are made
   * against that copy and the batch is one statement that first verifies the copy (each room's epoch
   * and members_version, locked FOR KEY SHARE) and writes only if it still holds: one round trip
   * with the tenant setting and the commit. Otherwise, or when the copy is out of date, the batch
   * reads its rooms in its transaction ({@link #storeBatch}: three round trips). If that transaction
   * fails too, nothing of it was stored and every request runs again on its own.
   */
  private void runSends(UUID tenant, List<SendReq> batch) {
    List<Slot> slots;
    try {
      slots = fromCache(tenant, batch);
    } catch (SQLException | RuntimeException e) { // its one transaction failed: nothing was stored
      if (e instanceof SQLException) {
        LOG.debug("send batch of {} from the room cache failed ({}); reading the rooms", batch.size(), e.toString());
      } else {
        LOG.warn("send batch of {} from the room cache failed; reading the rooms", batch.size(), e);
      }
      slots = null;
    }
    if (slots == null) {
      try {
        slots = rc.db().inTenant(tenant, ROOM_HEADS, (c, heads) -> storeBatch(c, tenant, batch, heads));
      } catch (SQLException | RuntimeException e) {
        if (e instanceof SQLException) { // e.g. a room deleted meanwhile: each request gets its own answer
          LOG.debug("send batch of {} failed ({}); running each request on its own", batch.size(), e.toString());
        } else { // a defect: still answered, one by one, but it must be seen
          LOG.warn("send batch of {} failed; running each request on its own", batch.size(), e);
        }
        for (SendReq r : batch) {
          try {
            Outcome o = rc.db().inTenant(tenant, c -> store(c, r.p, r.s));
            r.answer.complete(answer(r.p, r.s, o));
          } catch (SQLException x) {
            r.answer.completeExceptionally(new UncheckedSql(x));
          } catch (RuntimeException x) {
            r.answer.completeExceptionally(x);
          }
        }
        return;
      }
    }
    // Committed. The fan-out runs in id order on the publisher (the next batch need not wait for the
    // sockets), and the senders are answered once their batch is handed to the sockets: a sender's
    // window of unanswered sends then spans the fan-out too, so sends cannot outrun delivery and
    // frames do not pile up behind the publisher (back-pressure; the answer still follows the commit).
    List<Store.Stored> stored = new ArrayList<>();
    for (Slot sl : slots) {
      if (sl.error == null && sl.outcome.stored != null) {
        stored.add(sl.outcome.stored);
      }
    }
    List<Slot> answered = slots;
    Runnable answer = () -> {
      for (Slot sl : answered) {
        Send s = sl.r.s;
        if (sl.error != null) {
          sl.r.answer.completeExceptionally(sl.error);
        } else if (sl.outcome.stored != null) {
          sl.r.answer.complete(sentAnswer(sl.outcome.stored.id(), false, s.clientId));
        } else {
          sl.r.answer.complete(sentAnswer(sl.outcome.duplicateOf, true, s.clientId));
        }
      }
    };
    if (stored.isEmpty()) {
      answer.run();
      return;
    }
    stored.sort(Comparator.comparingLong(Store.Stored::id));
    try {
      publisher.execute(() -> {
        try {
          Store.publish(rc.fanout(), stored);
        } finally {
          answer.run();
        }
        for (Slot sl : answered) {
          if (sl.error == null && sl.outcome.stored != null) {
            Store.Stored st = sl.outcome.stored;
            webhooks.notify(tenant, sl.r.p.device(), st.room(), null, st.id(), sl.outcome.webhooks);
          }
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) { // closing: stored, not fanned out
      answer.run();
    }
  }

  /** What a send batch reads of each room: its mode, its epoch and the version of its member list (V4). */
  private record RoomHead(String mode, long epoch, long membersVersion) {

    /** Whether this is at least as recent as {@code other}: both numbers only ever grow. */
    boolean atLeast(RoomHead other) {
      return membersVersion > other.membersVersion
          || membersVersion == other.membersVersion && epoch >= other.epoch;
    }
  }

  /** A room as a send batch last read it: its head, and its joined members with their webhook URLs (null: none). */
  private record Room(RoomHead head, Map<UUID, String> joined) {}

  /**
   * The rooms send batches have read, by id. An entry is only a copy: every batch that uses it has
   * PostgreSQL check its head in the batch's own transaction (a batch that reads its rooms compares
   * {@code members_version}; one from this copy verifies epoch and version in its statement).
   */
  private final Map<UUID, Room> rooms = new ConcurrentHashMap<>();
  static final int MAX_CACHED_ROOMS = 100_000;

  private void remember(UUID id, Room room) {
    // only ever replaced by a more recent head (two batches of different lanes may read one room)
    rooms.merge(id, room, (old, neu) -> neu.head.atLeast(old.head) ? neu : old);
  }

  /** How many send batches were committed from the room cache in one round trip, and how many found it out of date. */
  private final LongAdder cacheBatches = new LongAdder();
  private final LongAdder cacheMisses = new LongAdder();

  /** Batches stored in one round trip from the room cache so far, and batches whose cached rooms had changed (tests). */
  long[] cacheCounts() {
    return new long[] {cacheBatches.sum(), cacheMisses.sum()};
  }

  /**
   * Every room of {@code ids} as of this transaction: one indexed read of the rooms (mode, epoch,
   * members_version, locked FOR KEY SHARE), then, only for rooms whose cached member list is missing
   * or older than that version, one read of their joined members. Each read is one statement: a
   * membership change committed between them is seen by the next batch. A room not found is
   * forgotten.
   */
  private Map<UUID, Room> readRooms(Connection c, PreparedStatement heads, List<UUID> ids) throws SQLException {
    Map<UUID, RoomHead> head = new HashMap<>();
    heads.setObject(2, UuidArray.of(ids));
    try (ResultSet rs = Database.resultOf(heads)) {
      while (rs.next()) {
        head.put(rs.getObject(1, UUID.class), new RoomHead(rs.getString(2), rs.getLong(3), rs.getLong(4)));
      }
    }
    for (UUID id : ids) {
      if (!head.containsKey(id)) {
        rooms.remove(id);
      }
    }
    Map<UUID, Room> current = new HashMap<>();
    List<UUID> stale = new ArrayList<>();
    for (Map.Entry<UUID, RoomHead> e : head.entrySet()) {
      Room m = rooms.get(e.getKey());
      if (m != null && m.head.membersVersion() == e.getValue().membersVersion()) {
        current.put(e.getKey(), new Room(e.getValue(), m.joined));
      } else {
        stale.add(e.getKey());
      }
    }
    if (!stale.isEmpty()) {
      Map<UUID, Long> versions = new HashMap<>();
      Map<UUID, Map<UUID, String>> joined = new HashMap<>();
      try (PreparedStatement q = c.prepareStatement(
          "select r.id, r.members_version, m.device_id, d.webhook_url from rooms r"
              + " left join room_members m on m.room_id = r.id and m.status = 'joined'"
              + " left join devices d on d.id = m.device_id"
              + " where r.id = any(?)")) {
        q.setObject(1, UuidArray.of(stale));
        ResultSet rs = q.executeQuery();
        while (rs.next()) {
          UUID room = rs.getObject(1, UUID.class);
          versions.put(room, rs.getLong(2));
          Map<UUID, String> j = joined.computeIfAbsent(room, x -> new HashMap<>());
          UUID dev = rs.getObject(3, UUID.class);
          if (dev != null) {
            j.put(dev, rs.getString(4));
          }
        }
      }
      for (Map.Entry<UUID, Long> e : versions.entrySet()) {
        RoomHead h = head.get(e.getKey());
        // the list and its version come from one statement (the epoch is checked on every use)
        current.put(e.getKey(), new Room(new RoomHead(h.mode(), h.epoch(), e.getValue()),
            java.util.Collections.unmodifiableMap(joined.get(e.getKey()))));
      }
    }
    if (rooms.size() + current.size() > MAX_CACHED_ROOMS) {
      rooms.clear();
    }
    for (Map.Entry<UUID, Room> e : current.entrySet()) {
      remember(e.getKey(), e.getValue());
    }
    return current;
  }

  /** The route of every distinct (sender, room) of {@code slots} whose sender is a joined member of the room. */
  private static Map<List<UUID>, Route> routes(Map<UUID, Room> current, List<Slot> slots) {
    Map<List<UUID>, Route> routes = new HashMap<>();
    for (Slot sl : slots) {
      UUID dev = sl.r.p.device();
      UUID room = sl.r.s.room;
      Room m = current.get(room);
      if (m == null || !m.joined.containsKey(dev) || routes.containsKey(List.of(dev, room))) {
        continue;
      }
      List<UUID> to = new ArrayList<>(m.joined.size());
      List<String> hooks = new ArrayList<>();
      for (Map.Entry<UUID, String> e : m.joined.entrySet()) {
        if (!e.getKey().equals(dev)) {
          to.add(e.getKey());
          if (e.getValue() != null) {
            hooks.add(e.getValue());
          }
        }
      }
      routes.put(List.of(dev, room), new Route(m.head.mode(), m.head.epoch(), List.copyOf(to), List.copyOf(hooks)));
    }
    return routes;
  }

  /** A send batch's first query (sent with the tenant, {@link Database#inTenant(UUID, String, Database.FirstQueryTx)}). */
  private static final String ROOM_HEADS =
      "select id, mode, epoch, members_version from rooms where id = any(?) for key share"; // V5: held until commit

  private static List<Slot> slots(List<SendReq> batch) {
    List<Slot> slots = new ArrayList<>(batch.size());
    for (SendReq r : batch) {
      slots.add(new Slot(r));
    }
    return slots;
  }

  /**
   * store()'s checks for each slot, in arrival order, against {@code routes}: a slot that fails them
   * gets its error, a resend of a batch-mate's client id is marked as its duplicate. Returns the
   * slots to insert. Without a connection ({@code c == null}) it returns null as soon as a rule
   * needs the database (a sender without a route: 403 or 404; an epoch other than the route's:
   * 409 unless already stored).
   */
  private static List<Slot> check(Connection c, List<Slot> slots, Map<List<UUID>, Route> routes) throws SQLException {
    Map<List<Object>, Slot> first = new HashMap<>();
    List<Slot> toInsert = new ArrayList<>();
    for (Slot sl : slots) {
      Principal p = sl.r.p;
      Send s = sl.r.s;
      try {
        Route rt = routes.get(List.of(p.device(), s.room));
        if (rt == null) {
          if (c == null) {
            return null;
          }
          throw notJoined(c, s.room, p.device());
        }
        if (rt.mode.equals("plaintext") && s.type.startsWith("mls_")) {
          throw ApiException.badRequest("a plaintext room has no MLS group");
        }
        List<Object> key = List.of(p.device(), s.clientId);
        Slot earlier = first.get(key);
        if (rt.mode.equals("encrypted") && s.epoch != null && s.epoch != rt.epoch) {
          if (earlier != null) {
            sl.duplicateOf = earlier;
            continue;
          }
          if (c == null) {
            return null;
          }
          long existing = Store.existingId(c, p.device(), s.clientId);
          if (existing >= 0) {
            sl.outcome = new Outcome(null, existing, List.of());
            continue;
          }
          throw new ApiException(409, "epoch conflict", JsonBody.object().put("current_epoch", rt.epoch));
        }
        if (earlier != null) {
          sl.duplicateOf = earlier;
          continue;
        }
        first.put(key, sl);
        sl.route = rt;
        toInsert.add(sl);
      } catch (ApiException e) {
        sl.error = e;
      }
    }
    return toInsert;
  }

  /** Answers each slot that resent a batch-mate's client id with the id that batch-mate got. */
  private static void resolveDuplicates(List<Slot> slots) {
    for (Slot sl : slots) {
      if (sl.duplicateOf != null) {
        if (sl.duplicateOf.error != null) {
          sl.error = sl.duplicateOf.error;
        } else {
          sl.outcome = new Outcome(null, sl.duplicateOf.messageId(), List.of());
        }
      }
    }
  }

  private List<Slot> storeBatch(Connection c, UUID tenant, List<SendReq> batch, PreparedStatement heads)
      throws SQLException {
    List<Slot> slots = slots(batch);
    Map<UUID, Room> current = readRooms(c, heads, batch.stream().map(r -> r.s.room).distinct().toList());
    List<Slot> toInsert = check(c, slots, routes(current, slots));
    if (!toInsert.isEmpty()) {
      try (PreparedStatement p = c.prepareStatement(INSERT_BATCH)) {
        bindBatch(c, p, 1, tenant, toInsert);
        try (ResultSet rs = p.executeQuery()) {
          readBatch(rs, tenant, toInsert);
        }
      }
      for (Slot sl : toInsert) {
        if (sl.outcome == null) { // already stored (a retry): its id, as store() answers
          sl.outcome = new Outcome(null, Store.existingId(c, sl.r.p.device(), sl.r.s.clientId), List.of());
        }
      }
    }
    resolveDuplicates(slots);
    return slots;
  }

  /**
   * The batch in one round trip, from the room cache: the checks against the cached rooms, then
   * {@link #CHECKED_INSERT_BATCH}, sent with the tenant setting in autocommit mode, so the statement
   * is its own transaction and is committed, durably, before the driver returns its rows
   * ({@link Database#inTenantInOneRoundTrip}). Returns null, having stored nothing, when a room of
   * the batch is not cached, when the cache cannot decide a request ({@link #check}), or when the
   * statement found a room whose epoch or member list changed since it was cached (or that is gone).
   */
  private List<Slot> fromCache(UUID tenant, List<SendReq> batch) throws SQLException {
    Map<UUID, Room> current = new HashMap<>();
    for (SendReq r : batch) {
      Room room = rooms.get(r.s.room);
      if (room == null) {
        return null;
      }
      current.put(r.s.room, room);
    }
    List<Slot> slots = slots(batch);
    List<Slot> toInsert = check(null, slots, routes(current, slots));
    if (toInsert == null) {
      return null;
    }
    if (!toInsert.isEmpty()) {
      boolean held = rc.db().inTenantInOneRoundTrip(tenant, CHECKED_INSERT_BATCH, (c, p) -> {
        int n = current.size();
        UUID[] ids = new UUID[n];
        Long[] epochs = new Long[n];
        Long[] versions = new Long[n];
        int i = 0;
        for (Map.Entry<UUID, Room> e : current.entrySet()) {
          ids[i] = e.getKey();
          epochs[i] = e.getValue().head.epoch();
          versions[i++] = e.getValue().head.membersVersion();
        }
        p.setObject(2, UuidArray.of(ids));
        p.setArray(3, c.createArrayOf("int8", epochs));
        p.setArray(4, c.createArrayOf("int8", versions));
        p.setLong(5, n);
        bindBatch(c, p, 6, tenant, toInsert);
        try (ResultSet rs = Database.resultOf(p)) {
          return readBatch(rs, tenant, toInsert);
        }
      });
      if (!held) {
        cacheMisses.increment();
        return null;
      }
      cacheBatches.increment();
      List<Slot> known = toInsert.stream().filter(sl -> sl.outcome == null).toList();
      if (!known.isEmpty()) { // already stored (retries): their ids, as store() answers, read after the commit
        try {
          rc.db().inTenant(tenant, c -> {
            for (Slot sl : known) {
              sl.outcome = new Outcome(null, Store.existingId(c, sl.r.p.device(), sl.r.s.clientId), List.of());
            }
            return null;
          });
        } catch (SQLException e) { // the batch is committed: only these requests fail (a retry is answered)
          for (Slot sl : known) {
            sl.outcome = null;
            sl.error = new UncheckedSql(e);
          }
        }
      }
    }
    resolveDuplicates(slots);
    return slots;
  }

  /**
   * The messages of a batch and all their deliveries in one statement (one round trip). The source
   * rows are numbered in arrival order ({@code i}), and ids are drawn in that order (the sort), so a
   * batch is stored, and delivered, in that order. The payloads travel as one binary parameter
   * (sliced by offset and length), not as a text array of hex. A message that is already stored
   * (a retry whose first attempt committed) is skipped by {@code on conflict}, returns no row and
   * gets no deliveries; its slot is answered with the existing id, as {@code store()} does.
   */
  private static final String SOURCE =
      "src as (select * from unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::bigint[],"
          + "   ?::int4[], ?::int4[]) with ordinality as u(s, r, t, ct, cm, e, off, len, i)%s)";
  private static final String WRITES =
      " m as (insert into messages (tenant_id, sender_device_id, room_id, message_type, content_type,"
          + "     client_message_id, epoch, payload)"
          + "   select ?, s, r, t, ct, cm, e, substring(?::bytea from off for len) from src order by i"
          + "   on conflict (tenant_id, sender_device_id, client_message_id) do nothing"
          + "   returning id, created_at, sender_device_id, client_message_id),"
          + " k as (select src.i, m.id, m.created_at from m"
          + "   join src on src.s = m.sender_device_id and src.cm = m.client_message_id),"
          + " d as (insert into deliveries (tenant_id, message_id, recipient_device_id)"
          + "   select ?, k.id, x.rcp from k join unnest(?::int8[], ?::uuid[]) as x(i, rcp) on x.i = k.i)";
  private static final String INSERT_BATCH = "with " + SOURCE.formatted("") + "," + WRITES
      + " select i, id, created_at from k";

  /**
   * {@link #INSERT_BATCH} that writes only if every room of the batch still has the epoch and
   * members_version the relay cached (parameters: room ids, epochs, versions, how many rooms). It
   * locks the rooms FOR KEY SHARE first, as {@link #ROOM_HEADS} does (V5: held until commit; a
   * locked row that another transaction changed is checked again in its latest version). If a room
   * differs or is gone, {@code src} is empty, nothing is written and the one row answered is
   * {@code (0, null, null)}.
   */
  private static final String CHECKED_INSERT_BATCH =
      "with h as (select r.id from rooms r join unnest(?::uuid[], ?::int8[], ?::int8[]) as x(id, epoch, v)"
          + "   on r.id = x.id where r.epoch = x.epoch and r.members_version = x.v for key share of r),"
          + " ok as (select count(*) = ?::int8 as held from h), "
          + SOURCE.formatted(" where (select held from ok)") + "," + WRITES
          + " select i, id, created_at from k union all select 0, null, null from ok where not held";

  /** Binds {@link #SOURCE} and {@link #WRITES}'s 13 parameters from index {@code at}. */
  private static void bindBatch(Connection c, PreparedStatement p, int at, UUID tenant, List<Slot> slots)
      throws SQLException {
    int n = slots.size();
    UUID[] senders = new UUID[n];
    UUID[] roomIds = new UUID[n];
    String[] types = new String[n];
    String[] contentTypes = new String[n];
    String[] clientIds = new String[n];
    Long[] epochs = new Long[n];
    Integer[] offsets = new Integer[n];
    Integer[] lengths = new Integer[n];
    int total = 0;
    int deliveries = 0;
    for (int i = 0; i < n; i++) {
      Send s = slots.get(i).r.s;
      senders[i] = slots.get(i).r.p.device();
      roomIds[i] = s.room;
      types[i] = s.type;
      contentTypes[i] = s.contentType;
      clientIds[i] = s.clientId;
      epochs[i] = s.epoch;
      offsets[i] = total + 1; // substring() counts from 1
      lengths[i] = s.payload.length;
      total += s.payload.length;
      deliveries += slots.get(i).route.recipients.size();
    }
    byte[] payloads = new byte[total];
    Long[] index = new Long[deliveries];
    UUID[] recipients = new UUID[deliveries];
    int d = 0;
    for (int i = 0; i < n; i++) {
      Slot sl = slots.get(i);
      System.arraycopy(sl.r.s.payload, 0, payloads, offsets[i] - 1, lengths[i]);
      for (UUID r : sl.route.recipients) {
        index[d] = (long) i + 1;
        recipients[d++] = r;
      }
    }
    p.setObject(at, UuidArray.of(senders));
    p.setObject(at + 1, UuidArray.of(roomIds));
    p.setArray(at + 2, c.createArrayOf("text", types));
    p.setArray(at + 3, c.createArrayOf("text", contentTypes));
    p.setArray(at + 4, c.createArrayOf("text", clientIds));
    p.setArray(at + 5, c.createArrayOf("bigint", epochs));
    p.setArray(at + 6, c.createArrayOf("int4", offsets));
    p.setArray(at + 7, c.createArrayOf("int4", lengths));
    p.setObject(at + 8, tenant);
    p.setBytes(at + 9, payloads);
    p.setObject(at + 10, tenant);
    p.setArray(at + 11, c.createArrayOf("int8", index));
    p.setObject(at + 12, UuidArray.of(recipients));
  }

  /**
   * Sets the outcome of each slot the batch statement stored (the others were already stored).
   * Returns false when the statement answered {@link #CHECKED_INSERT_BATCH}'s row of a failed check.
   */
  private static boolean readBatch(ResultSet rs, UUID tenant, List<Slot> slots) throws SQLException {
    while (rs.next()) {
      int i = rs.getInt(1);
      if (i == 0) {
        return false;
      }
      Slot sl = slots.get(i - 1);
      Send s = sl.r.s;
      Store.Stored st = new Store.Stored(rs.getLong(2), tenant, sl.r.p.device(), s.room, null, s.type,
          s.contentType, s.clientId, s.epoch, s.payload, rs.getTimestamp(3).toInstant(), sl.route.recipients);
      sl.outcome = new Outcome(st, -1, sl.route.hooks);
    }
    return true;
  }

  /**
   * One batch of acknowledgements of one tenant: one statement for every (recipient, message id) of
   * the batch, one durable commit. Each request is answered with the deliveries it changed, counted
   * as if the requests had run one after another in arrival order.
   */
  private void runAcks(UUID tenant, List<AckReq> batch) {
    int[] counts;
    try {
      counts = rc.db().inTenant(tenant, c -> ackBatch(c, batch));
    } catch (SQLException | RuntimeException e) {
      LOG.debug("ack batch of {} failed ({}); running each request on its own", batch.size(), e.toString());
      for (AckReq r : batch) {
        try {
          r.answer.complete(rc.db().inTenant(tenant, c -> Store.ack(c, r.p.device(), r.ids)));
        } catch (SQLException x) {
          r.answer.completeExceptionally(new UncheckedSql(x));
        } catch (RuntimeException x) {
          r.answer.completeExceptionally(x);
        }
      }
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).answer.complete(counts[i]);
    }
  }

  /**
   * One statement per request, sent as one JDBC batch (one round trip), run in arrival order in one
   * transaction: a later request that names a delivery an earlier one acknowledged finds it gone
   * (V6: the acknowledgement deletes the row), so the counts are those of the requests run one after
   * another. Each statement is an equality on the device and {@code = any} of its ids, a range of the primary key whatever the
   * table's statistics say; a join of the whole batch against {@code unnest} arrays let the planner
   * pick a hash join over a sequential scan of every delivery of the tenant once the batch was large.
   */
  private static int[] ackBatch(Connection c, List<AckReq> batch) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(Store.ACK)) {
      for (AckReq r : batch) {
        p.setObject(1, r.p.device());
        p.setArray(2, c.createArrayOf("bigint", r.ids.toArray(new Long[0]))); // Long[]: sent binary, not as text
        p.addBatch();
      }
      int[] counts = p.executeBatch();
      for (int n : counts) {
        if (n < 0) {
          throw new SQLException("acknowledgement batch: no update count (" + n + ")");
        }
      }
      return counts;
    }
  }

  @Override
  public void close() {
    sends.close();
    acks.close();
    publisher.shutdown();
    try {
      publisher.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    webhooks.close();
  }
}
