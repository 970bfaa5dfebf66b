package chat.agentvault.channel;

import chat.agentvault.MessageRejectedException;
import chat.agentvault.crypto.Blake2b;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.identity.Fingerprint;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.ratchet.Decrypted;
import chat.agentvault.ratchet.PeerAddress;
import chat.agentvault.ratchet.PreKeyBundle;
import chat.agentvault.ratchet.PreKeyStore;
import chat.agentvault.ratchet.RatchetException;
import chat.agentvault.ratchet.SessionStore;
import chat.agentvault.ratchet.Sessions;
import chat.agentvault.transport.RelayException;
import chat.agentvault.transport.RelayHttp;
import chat.agentvault.transport.RelaySession;
import chat.agentvault.transport.RelaySocket;
import chat.agentvault.transport.WireMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent's (or owner's) connection to its relay: identity, enrollment, approval, login, the
 * inbound stream, 1:1 conversations (X3DH + Double Ratchet) and rooms (MLS, or plaintext). See
 * docs/channel.md.
 *
 * <pre>{@code
 * AgentClient client = AgentClient.builder()
 *     .relayUrl("http://127.0.0.1:8080").dataDir(Path.of("agent-data"))
 *     .inviteToken(token).agentName("analyst").keyProtection(KeyProtection.passphrase(chars))
 *     .build();
 * client.onMessage(m -> client.send("got " + m.text()));
 * client.start();     // blocks until approved and logged in
 * }</pre>
 *
 * <p><b>Inbound.</b> Messages arrive on one thread in relay order; each is decrypted, stored in
 * the encrypted inbox, only then the advanced group or session state is stored, then listeners run,
 * then the relay gets a (batched) acknowledgement. A crash at any point neither loses a message
 * nor dispatches it twice (except a crash between a listener's return and the inbox update).
 *
 * <p>Thread-safe. Listeners run on the inbound thread, one message at a time, under the client's
 * room lock (so that a catch-up from another thread cannot dispatch out of order): keep them short
 * or hand work off, and do not make a listener wait for another thread that uses this client (that
 * thread's room operations would wait for the listener). A listener may itself send.
 */
public final class AgentClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentClient.class);
  static final String RATCHET_CONTENT_TYPE = "application/vnd.agentvault.ratchet+v1";
  static final String MLS_CONTENT_TYPE = RelayDeliveryService.MLS_CONTENT_TYPE;
  static final String PLAIN_CONTENT_TYPE = "text/plain";
  /** A structured message in a plaintext room: the envelope as JSON, unencrypted. */
  static final String ENVELOPE_CONTENT_TYPE = "application/vnd.agentvault.envelope+json";
  static final String EVENT_CONTENT_TYPE = "application/vnd.agentvault.event+json";
  static final byte[] ENROLL_LABEL = "agentvault-enroll-v1\0".getBytes(StandardCharsets.US_ASCII);
  static final int ENROLL_BUNDLES = 20;
  static final int PREKEY_LOW = 10;
  static final int PREKEY_BATCH = 30;
  static final int KEY_PACKAGE_LOW = 10;
  static final int KEY_PACKAGE_BATCH = 20;
  static final int SEND_TRIES = 3;
  /** Seal-and-post attempts of a room message when the relay answers 409 (then catch-up, seal again). */
  static final int SEAL_TRIES = 5;
  /** Name of the relay room behind a two-party conversation between agents (sendDirect). */
  static final String DIRECT_ROOM_NAME = "av.direct";
  /** How long the first {@code sendDirect} to an agent waits for it to join the two-party room. */
  static final Duration DIRECT_JOIN_WAIT = Duration.ofSeconds(10);
  /** Recently processed relay ids (catch-up and the inbound thread share the pipeline). */
  static final int RECENT = 8192;
  /** Our device number in ratchet peer addresses: one session per peer identity. */
  static final int PEER_DEVICE = 1;

  private final String relayUrl;
  private final Path dataDir;
  private final String inviteToken;
  private final String agentName;
  private final KeyProtection protection;
  private final Duration pollInterval;
  private final Duration approvalPollInterval;
  private final Duration startTimeout;
  private final RoomEngineFactory engineFactory;
  private final String configuredOwner;
  private final Clock clock = Clock.systemUTC();

  private final List<Consumer<InboundMessage>> messageListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<ClientState>> stateListeners = new CopyOnWriteArrayList<>();
  private final Map<String, DeviceInfo> devices = new ConcurrentHashMap<>();
  private final Map<String, String> conversations = new ConcurrentHashMap<>();
  private final Map<String, Boolean> roomEncrypted = new ConcurrentHashMap<>();
  private final java.util.Set<String> joinedDirectRooms = ConcurrentHashMap.newKeySet();
  private final Object cryptoLock = new Object();
  /** Relay ids processed lately and the ones in progress (under engineLock). */
  private final java.util.Set<Long> recent = new java.util.LinkedHashSet<>();
  private final java.util.Set<Long> inProgress = new java.util.HashSet<>();
  private final Object engineLock = new Object();
  private final Object lifecycle = new Object();
  /** Counted down by {@link #close()}: ends a wait of {@link #start()} at once. */
  private final java.util.concurrent.CountDownLatch closedSignal = new java.util.concurrent.CountDownLatch(1);
  /** Resources already closed (close() and a start() that lost the race with it both release). */
  private final java.util.Set<Object> released = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
  private final RoomTelemetry telemetry = RoomTelemetry.create();

  private volatile ClientState state = ClientState.CREATED;
  private volatile DeviceKeyStore keys;
  private volatile Enrollment enrollment;
  private volatile RelaySession session;
  private volatile RelaySocket socket;
  private volatile Sessions sessions;
  private volatile DeferredStores deferred;
  private volatile Inbox inbox;
  private volatile RoutingContext routing;
  private volatile RoomEngine engine;
  private volatile RelayDeliveryService delivery;
  private volatile CrashPoint crashAt;
  private volatile boolean crashed;

  /** This device's enrollment, kept in the data directory. */
  record Enrollment(String tenantId, String deviceId, String role, String name) {}

  /** A peer device as the relay lists it (cached). */
  record DeviceInfo(String deviceId, String name, String role, String fingerprint) {}

  private AgentClient(Builder b) {
    this.relayUrl = b.relayUrl;
    this.dataDir = b.dataDir;
    this.inviteToken = b.inviteToken;
    this.agentName = b.agentName;
    this.protection = b.keyProtection;
    this.pollInterval = b.pollInterval;
    this.approvalPollInterval = b.approvalPollInterval;
    this.startTimeout = b.startTimeout;
    this.engineFactory = b.engineFactory;
    this.configuredOwner = b.ownerDeviceId;
  }

  public static Builder builder() {
    return new Builder();
  }

  // ================================================================== listeners and state

  /**
   * Adds a listener of decrypted inbound messages (called on the inbound thread, in order).
   * Closing the returned subscription removes it.
   */
  public Subscription onMessage(Consumer<InboundMessage> listener) {
    return subscribe(messageListeners, listener);
  }

  /** Adds a listener of {@link ClientState} changes. Closing the returned subscription removes it. */
  public Subscription onStateChange(Consumer<ClientState> listener) {
    return subscribe(stateListeners, listener);
  }

  private static <T> Subscription subscribe(List<Consumer<T>> listeners, Consumer<T> listener) {
    Objects.requireNonNull(listener, "listener");
    Consumer<T> entry = listener::accept; // a distinct object: the same listener added twice is two entries
    listeners.add(entry);
    return () -> listeners.remove(entry);
  }

  public ClientState state() {
    return state;
  }

  private void state(ClientState s) {
    ClientState old;
    synchronized (lifecycle) {
      old = state;
      if (old == s || old == ClientState.CLOSED || (old == ClientState.REVOKED && s != ClientState.CLOSED)) {
        return;
      }
      state = s;
    }
    log.debug("state {} -> {}", old, s);
    for (Consumer<ClientState> l : stateListeners) {
      try {
        l.accept(s);
      } catch (RuntimeException e) {
        log.warn("state listener failed: {}", e.toString());
      }
    }
  }

  /** The fingerprint the owner compares before approving; available once {@link #start()} loaded or created the identity. */
  public Fingerprint fingerprint() {
    return requireKeys().identity().fingerprint();
  }

  /** This device's relay id, once enrolled. */
  public Optional<String> deviceId() {
    Enrollment e = enrollment;
    return e == null ? Optional.empty() : Optional.of(e.deviceId());
  }

  /** {@code agent} or {@code owner}, once enrolled. */
  public Optional<String> role() {
    Enrollment e = enrollment;
    return e == null ? Optional.empty() : Optional.of(e.role());
  }

  // ================================================================== start

  /**
   * Loads or creates the identity, enrolls with the invite on first run, waits for the owner's
   * approval (polling the login; also while the device is suspended), logs in, publishes prekeys
   * and KeyPackages when low, and connects. Blocks until logged in, or until {@link
   * Builder#startTimeout} passed (none by default: it waits as long as approval takes).
   *
   * @throws RelayException when the relay refuses (an invalid invite: 400; a revoked device: 403)
   * @throws StartTimeoutException when not logged in within {@link Builder#startTimeout}; close the client
   * @throws ClientClosedException when {@link #close()} was called meanwhile (it returns at once,
   *     opens no socket and leaves no thread)
   * @throws IllegalStateException without an invite on first run, or when started twice
   */
  public void start() {
    synchronized (lifecycle) {
      if (state != ClientState.CREATED) {
        throw new IllegalStateException("start() in state " + state);
      }
    }
    long deadline = startTimeout == null ? Long.MAX_VALUE : System.nanoTime() + startTimeout.toNanos();
    try {
      startUntil(deadline);
    } catch (RuntimeException e) {
      if (state != ClientState.CLOSED) {
        throw e;
      }
      release(); // what this start opened after close() released
      throw e instanceof ClientClosedException ? e : new ClientClosedException("closed during start()", e);
    }
  }

  private void startUntil(long deadline) {
    RelayHttp http = RelayHttp.create(relayUrl);
    boolean exists = Files.exists(dataDir.resolve("keystore.header"));
    if (!exists) {
      state(ClientState.ENROLLING);
    }
    keys = exists ? DeviceKeyStore.open(dataDir, protection) : DeviceKeyStore.create(dataDir, protection);
    checkNotClosed();
    EncryptedFileStore clientFiles = keys.fileStore("client");
    inbox = new Inbox(keys.fileStore("inbox"));
    routing = RoutingContext.load(clientFiles);
    openSessions();
    enrollment = loadEnrollment(clientFiles).orElse(null);
    if (enrollment == null) {
      if (inviteToken == null) {
        throw new IllegalStateException("not enrolled yet: inviteToken is required on the first run");
      }
      state(ClientState.ENROLLING);
      enrollment = enroll(http);
      saveEnrollment(clientFiles, enrollment);
    }
    if (configuredOwner != null) {
      routing.ownerDevice(configuredOwner);
    }
    checkNotClosed();
    session = login(http, deadline);
    state(ClientState.CONNECTING);
    checkNotClosed();
    delivery = new RelayDeliveryService(session);
    engine = engineFactory.open(keys.identity(), enrollment.deviceId(),
        new RoomEngineFactory.Stores(keys.fileStore("mls-groups"), keys.fileStore("mls-keypackages")), delivery,
        this::catchUp);
    replenish();
    joinInvitedPlaintextRooms();
    RelaySocket s;
    synchronized (lifecycle) {
      // close() sets CLOSED under this lock and then closes the socket it finds: either it finds
      // this one, or this start sees CLOSED and opens nothing
      checkNotClosed();
      s = RelaySocket.builder(session, new InboundHandler()).pollInterval(pollInterval).build();
      socket = s;
    }
    state(ClientState.OFFLINE);
    s.start();
    checkNotClosed();
  }

  private void checkNotClosed() {
    if (state == ClientState.CLOSED) {
      throw new ClientClosedException("closed during start()", null);
    }
  }

  private void openSessions() {
    deferred = new DeferredStores(SessionStore.encrypted(keys.fileStore("ratchet-sessions")),
        PreKeyStore.encrypted(keys.fileStore("ratchet-prekeys")));
    sessions = Sessions.builder(keys.identity()).sessionStore(deferred.sessionStore())
        .preKeyStore(deferred.preKeyStore()).build();
  }

  private static Optional<Enrollment> loadEnrollment(EncryptedFileStore files) {
    return files.get("enrollment").map(b -> {
      try {
        JsonNode o = Envelope.MAPPER.readTree(b);
        return new Enrollment(o.path("tenant_id").asText(), o.path("device_id").asText(), o.path("role").asText(),
            o.path("name").asText());
      } catch (IOException e) {
        throw new IllegalStateException("enrollment record unreadable", e);
      }
    });
  }

  private static void saveEnrollment(EncryptedFileStore files, Enrollment e) {
    files.put("enrollment", Envelope.MAPPER.createObjectNode().put("v", 1).put("tenant_id", e.tenantId())
        .put("device_id", e.deviceId()).put("role", e.role()).put("name", e.name()).toString()
        .getBytes(StandardCharsets.UTF_8));
  }

  private Enrollment enroll(RelayHttp http) {
    DeviceIdentity id = keys.identity();
    JsonNode ch = http.post("/api/v1/enroll/challenge", RelayHttp.object().put("invite", inviteToken), null);
    byte[] challenge = java.util.Base64.getDecoder().decode(ch.path("challenge").asText());
    byte[] pub = id.publicIdentity().encode();
    byte[] hash = Blake2b.hash(inviteToken.getBytes(StandardCharsets.US_ASCII), 32);
    byte[] signed = new byte[ENROLL_LABEL.length + hash.length + challenge.length + pub.length];
    int p = 0;
    for (byte[] part : List.of(ENROLL_LABEL, hash, challenge, pub)) {
      System.arraycopy(part, 0, signed, p, part.length);
      p += part.length;
    }
    ObjectNode body = RelayHttp.object().put("invite", inviteToken)
        .put("challenge_id", ch.path("challenge_id").asText()).put("name", agentName)
        .put("public_identity", RelayHttp.b64(pub)).put("signature", RelayHttp.b64(id.sign(signed)));
    ArrayNode bundles = body.putArray("prekey_bundles");
    for (int i = 0; i < ENROLL_BUNDLES; i++) {
      bundles.add(RelayHttp.b64(sessions.bundle().toBytes()));
    }
    body.put("fallback_prekey_bundle", RelayHttp.b64(sessions.bundleWithoutOneTimePreKey().toBytes()));
    JsonNode r = http.post("/api/v1/enroll", body, null);
    log.info("enrolled as {} ({})", r.path("device_id").asText(), r.path("state").asText());
    return new Enrollment(r.path("tenant_id").asText(), r.path("device_id").asText(), r.path("role").asText(),
        agentName);
  }

  /**
   * Logs in; while the relay answers 403 pending approval or suspended (or a retriable error) it
   * tries again every {@code approvalPollInterval} until {@code deadline} (System.nanoTime).
   */
  private RelaySession login(RelayHttp http, long deadline) {
    DeviceIdentity id = keys.identity();
    while (true) {
      try {
        return RelaySession.login(http, enrollment.tenantId(), enrollment.deviceId(), id::sign, clock);
      } catch (RelayException e) {
        if (e.status() == 403 && e.detail().contains("pending")) {
          state(ClientState.PENDING_APPROVAL);
        } else if (e.status() == 403 && e.detail().contains("revoked")) {
          state(ClientState.REVOKED);
          throw e;
        } else if (e.status() == 403 && e.detail().contains("suspended")) {
          state(ClientState.SUSPENDED); // the owner may resume it: wait as for approval
        } else if (!e.isRetriable()) {
          throw e;
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new StartTimeoutException(startTimeout, state);
      }
      try {
        if (closedSignal.await(Math.min(approvalPollInterval.toNanos(), left), java.util.concurrent.TimeUnit.NANOSECONDS)) {
          throw new ClientClosedException("closed while waiting for approval", null);
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for approval", ie);
      }
    }
  }

  /** Publishes prekey bundles and KeyPackages when the relay holds few (GET /keys/status). */
  void replenish() {
    JsonNode s = session.get("/api/v1/keys/status");
    if (s.path("one_time_available").asInt() < PREKEY_LOW) {
      ObjectNode body = RelayHttp.object();
      ArrayNode b = body.putArray("bundles");
      for (int i = 0; i < PREKEY_BATCH; i++) {
        b.add(RelayHttp.b64(sessions.bundle().toBytes()));
      }
      body.put("fallback", RelayHttp.b64(sessions.bundleWithoutOneTimePreKey().toBytes()));
      session.post("/api/v1/keys/prekey-bundles", body);
    }
    if (engineFactory.available() && s.path("key_packages_available").asInt() < KEY_PACKAGE_LOW) {
      ObjectNode body = RelayHttp.object();
      ArrayNode k = body.putArray("key_packages");
      synchronized (engineLock) {
        engine.newKeyPackages(KEY_PACKAGE_BATCH).forEach(kp -> k.add(RelayHttp.b64(kp)));
        body.put("last_resort", RelayHttp.b64(engine.lastResortKeyPackage()));
      }
      session.post("/api/v1/keys/key-packages", body);
    }
  }

  private void joinInvitedPlaintextRooms() {
    for (JsonNode r : session.get("/api/v1/rooms").path("rooms")) {
      rememberRoom(r);
      if ("plaintext".equals(r.path("mode").asText()) && "invited".equals(myStatus(r))) {
        join(r.path("room_id").asText());
      }
    }
  }

  private String myStatus(JsonNode room) {
    for (JsonNode m : room.path("members")) {
      if (m.path("device_id").asText().equals(enrollment.deviceId())) {
        return m.path("status").asText();
      }
    }
    return "";
  }

  // ================================================================== outbound

  /**
   * Sends {@code text} to the sticky room (the room of the last inbound room message, persisted),
   * else to the owner conversation.
   *
   * @throws IllegalStateException when there is neither a sticky room nor a known owner device
   */
  public SendResult send(String text) {
    Objects.requireNonNull(text, "text");
    requireOnline();
    Optional<String> room = routing.lastRoom();
    if (room.isPresent()) {
      return sendToRoom(room.get(), text, SendOptions.DEFAULT);
    }
    String owner = routing.ownerDevice().orElseThrow(() ->
        new IllegalStateException("no room message received yet and no owner conversation known"));
    return sendDirect(owner, text);
  }

  /** The room {@link #send} would use now, if any. */
  public Optional<String> stickyRoom() {
    RoutingContext r = routing;
    return r == null ? Optional.empty() : r.lastRoom();
  }

  public SendResult sendToRoom(String roomId, String text) {
    return sendToRoom(roomId, text, SendOptions.DEFAULT);
  }

  /** Sends to a room (MLS application message, or text in a plaintext room). */
  public SendResult sendToRoom(String roomId, String text, SendOptions options) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(options, "options");
    requireOnline();
    Envelope env = envelope(text, options);
    ObjectNode body = RelayHttp.object().put("room_id", roomId).put("message_type", options.messageType());
    SendResult r;
    if (isEncrypted(roomId)) {
      r = sendSealed(roomId, body, env, options);
    } else {
      if (options.data().isEmpty() && options.parentSpanId().isEmpty()) {
        body.put("content_type", PLAIN_CONTENT_TYPE).put("payload", RelayHttp.b64(text.getBytes(StandardCharsets.UTF_8)));
      } else {
        body.put("content_type", ENVELOPE_CONTENT_TYPE).put("payload", RelayHttp.b64(env.encode()));
      }
      r = post(body, options, env.spanId(), false);
    }
    if (r.stored()) {
      telemetry.record("message", roomId, Map.of("sender", enrollment.deviceId(), "message_type", options.messageType()));
      if (options.updateStickyRoom()) {
        routing.roomMessage(roomId);
      }
    }
    return r;
  }

  public SendResult sendDirect(String deviceId, String text) {
    return sendDirect(deviceId, text, SendOptions.DEFAULT);
  }

  /**
   * Sends to one device over X3DH + the Double Ratchet in a relay direct conversation: to an owner
   * device, or to any device this device already has a session with. From an agent to another
   * agent with no session it uses an MLS two-party room (an encrypted relay room named {@value
   * #DIRECT_ROOM_NAME} of the two), created on first use: the relay delivers room messages to joined
   * members only, so the first send waits up to {@link #DIRECT_JOIN_WAIT} for the peer to process
   * its Welcome and join; if it does not (offline), nothing is sent and the result says so
   * ({@code stored() == false}); a later call sends once it joined.
   */
  public SendResult sendDirect(String deviceId, String text, SendOptions options) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(options, "options");
    requireOnline();
    DeviceInfo peer = device(Owner.uuid(deviceId));
    PeerAddress addr = address(peer);
    if (engineFactory.available() && "agent".equals(enrollment.role()) && "agent".equals(peer.role())
        && !sessions.hasSession(addr)) {
      String room = twoPartyRoom(peer.deviceId());
      if (!peerJoined(room, peer.deviceId())) {
        return new SendResult(false, -1, false, options.clientMessageId().orElseGet(() -> UUID.randomUUID().toString()),
            room, null, newSpanId(), "the peer has not joined the two-party room yet (offline?)");
      }
      return sendToRoom(room, text, options);
    }
    Envelope env = envelope(text, options);
    String conversation = conversation(peer.deviceId());
    byte[] payload;
    synchronized (cryptoLock) {
      if (!sessions.hasSession(addr)) {
        JsonNode b = session.get("/api/v1/devices/" + peer.deviceId() + "/prekey-bundle");
        PreKeyBundle bundle = PreKeyBundle.parse(java.util.Base64.getDecoder().decode(b.path("bundle").asText()));
        sessions.start(addr, bundle); // refuses a bundle of another identity than the fingerprint
        delivery.learned(peer.deviceId(), bundle.identity());
      }
      payload = sessions.encrypt(addr, env.encode());
    }
    ObjectNode body = RelayHttp.object().put("conversation_id", conversation)
        .put("message_type", options.messageType()).put("content_type", RATCHET_CONTENT_TYPE)
        .put("payload", RelayHttp.b64(payload));
    return post(body, options, env.spanId(), false);
  }

  /**
   * Seals for the room's current epoch and posts; when the relay answers 409 (the room moved to
   * another epoch: a commit this device has not processed yet) it catches up through the inbound
   * pipeline and seals again, at most {@link #SEAL_TRIES} times, under one client_message_id.
   */
  private SendResult sendSealed(String roomId, ObjectNode body, Envelope env, SendOptions options) {
    SendOptions fixed = options.clientMessageId().isPresent() ? options
        : options.withClientMessageId(UUID.randomUUID().toString());
    byte[] plain = env.encode();
    EpochConflict last = null;
    for (int i = 0; i < SEAL_TRIES; i++) {
      synchronized (engineLock) {
        RoomEngine.Sealed sealed = engine.seal(roomId, plain);
        body.put("content_type", MLS_CONTENT_TYPE).put("epoch", sealed.epoch())
            .put("payload", RelayHttp.b64(sealed.payload()));
        try {
          return post(body, fixed, env.spanId(), true);
        } catch (EpochConflict e) {
          last = e;
          log.debug("room {}: sealed for epoch {}, the relay is at {}: catching up", roomId, sealed.epoch(), e.current);
          catchUp();
        }
      }
    }
    return new SendResult(false, -1, false, fixed.clientMessageId().orElseThrow(), roomId, null, env.spanId(),
        last.getMessage());
  }

  /** The relay refused an application message sealed for another epoch than the room's. */
  private static final class EpochConflict extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final long current;

    EpochConflict(long current) {
      super("epoch conflict: the room is at epoch " + current, null, false, false);
      this.current = current;
    }
  }

  /** Whether {@code peer} joined the two-party room (waits up to {@link #DIRECT_JOIN_WAIT}). */
  private boolean peerJoined(String roomId, String peer) {
    if (joinedDirectRooms.contains(roomId)) {
      return true;
    }
    long deadline = System.nanoTime() + DIRECT_JOIN_WAIT.toNanos();
    while (true) {
      for (JsonNode m : session.get("/api/v1/rooms/" + roomId).path("members")) {
        if (m.path("device_id").asText().equals(peer) && "joined".equals(m.path("status").asText())) {
          joinedDirectRooms.add(roomId);
          return true;
        }
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      sleepQuietly(100);
    }
  }

  /** The room of the two-party conversation with {@code peer}: created on first use, or learned from its Welcome. */
  private String twoPartyRoom(String peer) {
    EncryptedFileStore files = keys.fileStore("client");
    String name = "direct-" + peer;
    Optional<byte[]> known = files.get(name);
    if (known.isPresent()) {
      String roomId = new String(known.get(), StandardCharsets.UTF_8);
      synchronized (engineLock) {
        if (engine.hasGroup(roomId) && engine.epoch(roomId) >= 0) {
          return roomId;
        }
      }
    }
    Room r = createRoom(DIRECT_ROOM_NAME, RoomOptions.encrypted().members(peer));
    files.put(name, r.roomId().getBytes(StandardCharsets.UTF_8));
    return r.roomId();
  }

  private Envelope envelope(String text, SendOptions o) {
    return new Envelope(o.messageType(), text, o.data().orElse(null), newSpanId(), o.parentSpanId().orElse(null),
        enrollment.name(), clock.instant());
  }

  static String newSpanId() {
    return HexFormat.of().formatHex(Csprng.randomBytes(8));
  }

  /**
   * Posts with retries under one client_message_id; the result says whether the relay stored it.
   *
   * @throws EpochConflict when {@code epochConflicts} and the relay answered 409 with its current epoch
   */
  private SendResult post(ObjectNode body, SendOptions options, String spanId, boolean epochConflicts) {
    String clientId = options.clientMessageId().orElseGet(() -> UUID.randomUUID().toString());
    body.put("client_message_id", clientId);
    String room = body.hasNonNull("room_id") ? body.get("room_id").asText() : null;
    String conv = body.hasNonNull("conversation_id") ? body.get("conversation_id").asText() : null;
    RelayException last = null;
    for (int i = 0; i < SEND_TRIES; i++) {
      try {
        JsonNode r = session.post("/api/v1/messages", body);
        return new SendResult(true, r.path("message_id").asLong(), r.path("duplicate").asBoolean(), clientId, room,
            conv, spanId, null);
      } catch (RelayException e) {
        last = e;
        if (epochConflicts && e.status() == 409 && e.currentEpoch().isPresent()) {
          throw new EpochConflict(e.currentEpoch().getAsLong());
        }
        if (!e.isRetriable()) {
          break;
        }
        sleepQuietly(200L << i);
      }
    }
    return new SendResult(false, -1, false, clientId, room, conv, spanId, last.getMessage());
  }

  // ================================================================== rooms

  /** Creates a room on the relay (this device its owner), then its MLS group with the members. */
  public Room createRoom(String name, RoomOptions options) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(options, "options");
    requireOnline();
    if (options.isEncrypted() && !engineFactory.available()) {
      throw new UnsupportedOperationException("encrypted rooms need the MLS room engine, which is not available");
    }
    ObjectNode body = RelayHttp.object().put("name", name).put("mode", options.isEncrypted() ? "encrypted" : "plaintext")
        .put("min_trust_tier", options.minTrustTier());
    ArrayNode m = body.putArray("members");
    options.members().forEach(m::add);
    JsonNode r = session.post("/api/v1/rooms", body);
    Room room = rememberRoom(r);
    List<String> invited = room.members().stream().filter(x -> !x.deviceId().equals(enrollment.deviceId()))
        .map(Room.Member::deviceId).toList();
    if (options.isEncrypted()) {
      synchronized (engineLock) {
        engine.create(room.roomId(), invited);
      }
    }
    telemetry.record("create", room.roomId(), Map.of("creator", enrollment.deviceId(), "member_count", room.members().size()));
    for (String d : invited) {
      telemetry.record("invite", room.roomId(), Map.of("invitee", d, "inviter", enrollment.deviceId()));
    }
    return room;
  }

  /** Invites a device to a room (relay), and adds it to the MLS group (Commit + Welcome). */
  public Room addMember(String roomId, String deviceId) {
    requireOnline();
    Room room = rememberRoom(session.post("/api/v1/rooms/" + Owner.uuid(roomId) + "/invite",
        RelayHttp.object().put("device_id", deviceId)));
    if (room.encrypted()) {
      synchronized (engineLock) {
        engine.add(roomId, List.of(deviceId));
      }
    }
    telemetry.record("invite", roomId, Map.of("invitee", deviceId, "inviter", enrollment.deviceId()));
    return room;
  }

  /** Removes a member on the relay, then from the MLS group (it reads nothing sent afterwards). */
  public void removeMember(String roomId, String deviceId) {
    requireOnline();
    Room room = rememberRoom(session.post("/api/v1/rooms/" + Owner.uuid(roomId) + "/remove",
        RelayHttp.object().put("device_id", deviceId)));
    if (room.encrypted()) {
      synchronized (engineLock) {
        if (engine.hasGroup(roomId)) {
          engine.remove(roomId, List.of(deviceId));
        }
      }
    }
    telemetry.record("leave", roomId, Map.of("member", deviceId));
  }

  /** Asks the relay for a rekey and advances the room's epoch (an empty Commit with a path). */
  public void rekey(String roomId) {
    requireOnline();
    session.post("/api/v1/rooms/" + Owner.uuid(roomId) + "/rekey", RelayHttp.object().put("reason", "manual"));
    int members = rememberRoom(session.get("/api/v1/rooms/" + roomId)).members().size();
    if (isEncrypted(roomId)) {
      synchronized (engineLock) {
        engine.rekey(roomId);
      }
    }
    telemetry.record("rekey", roomId, Map.of("reason", "manual", "member_count", members));
  }

  /** Leaves a room and drops its group state. */
  public void leaveRoom(String roomId) {
    requireOnline();
    session.post("/api/v1/rooms/" + Owner.uuid(roomId) + "/leave", null);
    synchronized (engineLock) {
      engine.forget(roomId);
    }
    routing.forgetRoom(roomId);
    telemetry.record("leave", roomId, Map.of("member", enrollment.deviceId()));
  }

  /** The rooms this device is a member of (invited or joined). */
  public List<Room> rooms() {
    requireOnline();
    List<Room> out = new ArrayList<>();
    for (JsonNode r : session.get("/api/v1/rooms").path("rooms")) {
      out.add(rememberRoom(r));
    }
    return List.copyOf(out);
  }

  /** The owner operations; only for an owner device. */
  public Owner owner() {
    requireOnline();
    if (!"owner".equals(enrollment.role())) {
      throw new IllegalStateException("owner() needs an owner device; this one is " + enrollment.role());
    }
    return new Owner(session);
  }

  private Room rememberRoom(JsonNode r) {
    List<Room.Member> members = new ArrayList<>();
    for (JsonNode m : r.path("members")) {
      members.add(new Room.Member(m.path("device_id").asText(), m.path("role").asText(), m.path("status").asText()));
    }
    boolean encrypted = !"plaintext".equals(r.path("mode").asText());
    Room room = new Room(r.path("room_id").asText(), r.path("name").asText(), encrypted, r.path("epoch").asLong(), members);
    roomEncrypted.put(room.roomId(), encrypted);
    return room;
  }

  private boolean isEncrypted(String roomId) {
    Boolean e = roomEncrypted.get(roomId);
    if (e == null) {
      e = rememberRoom(session.get("/api/v1/rooms/" + Owner.uuid(roomId))).encrypted();
    }
    return e;
  }

  private void join(String roomId) {
    try {
      session.post("/api/v1/rooms/" + roomId + "/join", null);
      telemetry.record("join", roomId, Map.of("member", enrollment.deviceId(), "x3dh_status", "not_used"));
    } catch (RelayException e) {
      log.warn("join {} failed: {}", roomId, e.toString());
    }
  }

  // ================================================================== inbound

  private final class InboundHandler implements RelaySocket.Handler {
    @Override
    public void onMessage(WireMessage m) {
      if (crashed) {
        throw new SimulatedCrash(crashAt);
      }
      process(m);
    }

    @Override
    public void onConnectivity(boolean connected) {
      state(connected ? ClientState.ONLINE : ClientState.OFFLINE);
    }

    @Override
    public void onRefused(int status, String detail) {
      state(detail.contains("suspended") ? ClientState.SUSPENDED : ClientState.REVOKED);
    }

    @Override
    public void onAcked(List<Long> ids) {
      if (crashed) {
        return;
      }
      for (long id : ids) {
        inbox.delete(id);
      }
    }
  }

  /**
   * The pipeline of docs/channel.md "Crash safety" for one message: on the inbound thread, or on
   * the thread of an engine operation that catches up ({@link #catchUp}). One message at a time
   * (under the engine lock); an id being processed or recently processed is skipped.
   */
  void process(WireMessage m) {
    synchronized (engineLock) {
      long id = m.messageId();
      if (recent.contains(id) || !inProgress.add(id)) {
        return;
      }
      try {
        processOnce(m);
        recent.add(id);
        if (recent.size() > RECENT) {
          var it = recent.iterator();
          it.next();
          it.remove();
        }
      } finally {
        inProgress.remove(id);
      }
    }
  }

  /**
   * Processes what is pending at the relay now, on the calling thread, in relay order (the room
   * engine's catch-up before it rebuilds a commit the relay refused with 409; a room send answered
   * 409). Stops at the first message that cannot be processed now (it comes again).
   */
  void catchUp() {
    if (crashed || socket == null || state == ClientState.CLOSED) {
      return;
    }
    synchronized (engineLock) {
      String after = "0";
      for (int page = 0; page < 100; page++) {
        JsonNode r = session.get("/api/v1/messages?after=" + after + "&limit=100");
        for (JsonNode j : r.path("messages")) {
          if (crashed) {
            return;
          }
          try {
            process(RelayHttp.message(j));
          } catch (SimulatedCrash c) {
            throw c;
          } catch (RuntimeException e) {
            log.warn("catch-up stopped at message {}: {}", j.path("message_id").asText(), e.toString());
            return;
          }
        }
        if (!r.path("has_more").asBoolean(false)) {
          return;
        }
        after = r.path("next_cursor").asText(after);
      }
    }
  }

  private void processOnce(WireMessage m) {
    long id = m.messageId();
    Optional<Inbox.Entry> known = inbox.get(id);
    if (known.isPresent()) {
      Inbox.Entry e = known.get();
      if (!e.dispatched() && e.message() != null) {
        dispatch(e.message());
        inbox.put(id, e.message(), true);
      }
      socket.ack(id);
      return;
    }
    if ("event".equals(m.messageType())) {
      onEvent(m);
      socket.ack(id);
      return;
    }
    InboundMessage msg;
    String ct = m.contentType();
    if (RATCHET_CONTENT_TYPE.equals(ct)) {
      msg = decryptRatchet(m);
    } else if (MLS_CONTENT_TYPE.equals(ct) || m.messageType().startsWith("mls_")) {
      msg = processMls(m);
    } else if (PLAIN_CONTENT_TYPE.equals(ct) || ENVELOPE_CONTENT_TYPE.equals(ct)) {
      msg = plaintext(m);
    } else {
      log.warn("message {}: unknown content type, dropped", id);
      msg = null;
    }
    if (msg != null) {
      crash(CrashPoint.AFTER_INBOX);
      dispatch(msg);
      inbox.put(id, msg, true);
    }
    socket.ack(id);
  }

  private InboundMessage decryptRatchet(WireMessage m) {
    DeviceInfo sender = device(m.senderDeviceId());
    PeerAddress addr = address(sender);
    InboundMessage msg;
    boolean newSession;
    synchronized (cryptoLock) {
      deferred.begin();
      try {
        Decrypted d;
        try {
          d = sessions.decrypt(addr, m.payload());
        } catch (RatchetException e) {
          deferred.discard();
          return reject(m, e.reason().toString());
        }
        newSession = d.newSession();
        delivery.learned(sender.deviceId(), d.sender());
        Envelope env;
        try {
          env = Envelope.decode(d.plaintext());
        } catch (MessageRejectedException e) {
          deferred.commit(); // the message key is spent either way
          return reject(m, "envelope");
        }
        msg = inbound(m, null, m.conversationId(), env, true);
        crash(CrashPoint.AFTER_DECRYPT);
        inbox.put(m.messageId(), msg, false);
        deferred.commit();
      } catch (SimulatedCrash c) {
        deferred.discard();
        throw c;
      } catch (RuntimeException e) {
        // the inbox or the store failed: memory may be ahead of the stores; reload from them
        deferred.discard();
        sessions.close();
        openSessions();
        throw e;
      }
    }
    if ("owner".equals(sender.role()) && "agent".equals(enrollment.role())) {
      routing.ownerDevice(sender.deviceId());
    }
    if (newSession) {
      try {
        replenish();
      } catch (RelayException e) {
        log.debug("replenish: {}", e.toString());
      }
    }
    return msg;
  }

  private InboundMessage processMls(WireMessage m) {
    synchronized (engineLock) {
      RoomEngine.Outcome o;
      try {
        o = engine.process(m);
      } catch (RuntimeException e) {
        engine.rollbackState();
        return reject(m, e.getClass().getSimpleName());
      }
      if (o instanceof RoomEngine.Outcome.Application a) {
        Envelope env;
        try {
          env = Envelope.decode(a.envelope());
        } catch (MessageRejectedException e) {
          engine.commitState();
          return reject(m, "envelope");
        }
        InboundMessage msg = inbound(m, a.roomId(), null, env, true);
        try {
          crash(CrashPoint.AFTER_DECRYPT);
          inbox.put(m.messageId(), msg, false);
        } catch (RuntimeException e) {
          engine.rollbackState();
          throw e;
        }
        engine.commitState();
        return msg;
      }
      engine.commitState();
      if (o instanceof RoomEngine.Outcome.Handshake h) {
        handshake(h);
      } else if (o instanceof RoomEngine.Outcome.Resynced r) {
        log.info("room {} resynced at epoch {}: {}", r.roomId(), r.newEpoch(), r.reason());
        // the seed's span vocabulary has no resync: an external commit is a rekey of the room
        telemetry.record("rekey", r.roomId(), Map.of("reason", "resync"));
        // the group state is already written: the event goes through the inbox like a message
        InboundMessage msg = resyncEvent(m, r);
        inbox.put(m.messageId(), msg, false);
        return msg;
      } else if (o instanceof RoomEngine.Outcome.Ignored i) {
        log.debug("message {} in room {}: {}", m.messageId(), m.roomId(), i.reason());
      }
      return null;
    }
  }

  private void handshake(RoomEngine.Outcome.Handshake h) {
    if (h.joined()) {
      join(h.roomId());
      rememberDirectRoom(h.roomId());
      try {
        replenish(); // the add that brought this Welcome consumed one of our KeyPackages
      } catch (RelayException e) {
        log.debug("replenish: {}", e.toString());
      }
    }
    if (h.removedMe()) {
      engine.forget(h.roomId());
      routing.forgetRoom(h.roomId());
    }
  }

  /** The {@link MessageType#RESYNC} event for listeners (docs/channel.md "Resync"). */
  private InboundMessage resyncEvent(WireMessage m, RoomEngine.Outcome.Resynced r) {
    return new InboundMessage(m.messageId(), r.roomId(), null, enrollment.deviceId(), enrollment.name(),
        MessageType.RESYNC, r.reason(), Map.of("epoch", r.newEpoch(), "reason", r.reason()), newSpanId(), null,
        m.createdAt(), true);
  }

  /** A two-party room another agent created for {@code sendDirect}: this device's direct room with it too. */
  private void rememberDirectRoom(String roomId) {
    try {
      Room room = rememberRoom(session.get("/api/v1/rooms/" + roomId));
      if (!DIRECT_ROOM_NAME.equals(room.name()) || room.members().size() != 2) {
        return;
      }
      String me = enrollment.deviceId();
      room.members().stream().map(Room.Member::deviceId).filter(d -> !d.equals(me)).findFirst().ifPresent(peer -> {
        EncryptedFileStore files = keys.fileStore("client");
        String name = "direct-" + peer;
        if (files.get(name).isEmpty()) {
          files.put(name, roomId.getBytes(StandardCharsets.UTF_8));
        }
        joinedDirectRooms.add(roomId); // the creator is joined from the start
      });
    } catch (RelayException e) {
      log.debug("room {}: {}", roomId, e.toString());
    }
  }

  private InboundMessage plaintext(WireMessage m) {
    Envelope env;
    if (ENVELOPE_CONTENT_TYPE.equals(m.contentType())) {
      try {
        env = Envelope.decode(m.payload());
      } catch (MessageRejectedException e) {
        return reject(m, "envelope");
      }
    } else if (m.messageType().startsWith(MessageType.RESERVED_PREFIX)) {
      return reject(m, "reserved message type");
    } else {
      env = new Envelope(m.messageType(), new String(m.payload(), StandardCharsets.UTF_8), null,
          m.clientMessageId() == null ? "" : m.clientMessageId(), null, device(m.senderDeviceId()).name(),
          m.createdAt() == null ? Instant.EPOCH : m.createdAt());
    }
    InboundMessage msg = inbound(m, m.roomId(), m.roomId() == null ? m.conversationId() : null, env, false);
    inbox.put(m.messageId(), msg, false);
    return msg;
  }

  private InboundMessage inbound(WireMessage m, String roomId, String conversationId, Envelope env, boolean encrypted) {
    return new InboundMessage(m.messageId(), roomId, conversationId, m.senderDeviceId(), env.senderName(),
        env.type(), env.text() == null ? "" : env.text(), env.data(), env.spanId(), env.parentSpanId(),
        m.createdAt(), encrypted);
  }

  /** Records a message that cannot be processed (so it is not tried again) and returns null. */
  private InboundMessage reject(WireMessage m, String why) {
    log.warn("message {} from {} rejected: {}", m.messageId(), m.senderDeviceId(), why);
    inbox.put(m.messageId(), null, true);
    return null;
  }

  private void dispatch(InboundMessage msg) {
    if (msg.roomId() != null && !MessageType.RESYNC.equals(msg.messageType())) {
      routing.roomMessage(msg.roomId());
      telemetry.record("message", msg.roomId(), Map.of("sender", msg.senderDeviceId(), "message_type", msg.messageType()));
    }
    for (Consumer<InboundMessage> l : messageListeners) {
      try {
        l.accept(msg);
      } catch (RuntimeException e) {
        log.warn("message listener failed on {}: {}", msg, e.toString());
      }
    }
  }

  private void crash(CrashPoint at) {
    if (at == crashAt) {
      crashed = true;
      throw new SimulatedCrash(at);
    }
  }

  // ------------------------------------------------------------------ relay events

  private void onEvent(WireMessage m) {
    JsonNode e;
    try {
      e = Envelope.MAPPER.readTree(m.payload());
    } catch (IOException ex) {
      return;
    }
    String event = e.path("event").asText();
    String roomId = e.hasNonNull("room_id") ? e.get("room_id").asText() : null;
    String subject = e.path("device_id").asText();
    String actor = m.senderDeviceId();
    String me = enrollment.deviceId();
    try {
      switch (event) {
        case "member_invited" -> {
          if (subject.equals(me) && roomId != null && !isEncrypted(roomId)) {
            join(roomId); // encrypted rooms are joined when the Welcome is processed
          }
        }
        case "room_joined" -> telemetry.record("join", roomId, Map.of("member", subject, "x3dh_status", "not_used"));
        case "member_removed" -> {
          telemetry.record("leave", roomId, Map.of("member", subject));
          if (subject.equals(me)) {
            synchronized (engineLock) {
              engine.forget(roomId);
            }
            routing.forgetRoom(roomId);
          } else if (roomId != null) {
            toEngine(m, roomId); // schedules the Remove + Commit (docs/channel.md "Relay events")
          }
        }
        case "rekey_requested" -> {
          if (roomId != null && toEngine(m, roomId)) {
            telemetry.record("rekey", roomId, Map.of("reason", e.path("reason").asText("")));
          }
        }
        case "device_revoked" -> {
          if (subject.equals(me)) {
            state(ClientState.REVOKED);
          }
          devices.remove(subject);
        }
        default -> log.debug("relay event {} ignored", event);
      }
    } catch (RelayException | UnsupportedOperationException ex) {
      log.warn("relay event {} for room {}: {}", event, roomId, ex.toString());
    }
  }

  /**
   * Gives a room event ({@code member_removed}, {@code rekey_requested}) to the engine, which
   * schedules the commit and makes one attempt at {@code commitState()}: every member told tries
   * once, the relay's one-commit-per-epoch rule lets one through, the others drop theirs once that
   * commit moved their group on. True when the room has a group here.
   */
  private boolean toEngine(WireMessage m, String roomId) {
    synchronized (engineLock) {
      if (!engine.hasGroup(roomId)) {
        return false;
      }
      RoomEngine.Outcome o;
      try {
        o = engine.process(m);
      } catch (RuntimeException ex) {
        engine.rollbackState();
        throw ex;
      }
      engine.commitState();
      if (o instanceof RoomEngine.Outcome.Handshake h) {
        handshake(h);
      }
      return true;
    }
  }

  // ================================================================== peers

  private DeviceInfo device(String deviceId) {
    DeviceInfo d = devices.get(deviceId);
    if (d == null) {
      JsonNode j = session.get("/api/v1/devices/" + deviceId);
      d = new DeviceInfo(j.path("device_id").asText(), j.path("name").asText(), j.path("role").asText(),
          j.path("fingerprint").asText());
      devices.put(deviceId, d);
    }
    return d;
  }

  private static PeerAddress address(DeviceInfo d) {
    return new PeerAddress(Fingerprint.parse(d.fingerprint()), PEER_DEVICE);
  }

  private String conversation(String peer) {
    return conversations.computeIfAbsent(peer, p ->
        session.post("/api/v1/conversations", RelayHttp.object().put("peer_device_id", p)).path("conversation_id").asText());
  }

  // ================================================================== lifecycle

  private DeviceKeyStore requireKeys() {
    DeviceKeyStore k = keys;
    if (k == null) {
      throw new IllegalStateException("no identity yet: call start()");
    }
    return k;
  }

  private void requireOnline() {
    ClientState s = state;
    if (session == null || s == ClientState.CLOSED || s == ClientState.REVOKED) {
      throw new IllegalStateException("client is " + s);
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sends pending acknowledgements and waits for the inbound thread (tests, orderly shutdown). */
  void flush() {
    RelaySocket s = socket;
    if (s != null) {
      s.flush(Duration.ofSeconds(5));
    }
  }

  RelaySocket socket() {
    return socket;
  }

  /** The room's epoch in the engine; -1 without a group (tests). */
  long engineEpoch(String roomId) {
    synchronized (engineLock) {
      return engine.epoch(roomId);
    }
  }

  void crashAt(CrashPoint at) {
    this.crashAt = at;
  }

  /**
   * Closes the socket and wipes the keys held in memory. Idempotent. A {@link #start()} in
   * progress ends promptly with {@link ClientClosedException} and opens nothing.
   */
  @Override
  public void close() {
    state(ClientState.CLOSED);
    synchronized (lifecycle) {
      state = ClientState.CLOSED;
    }
    closedSignal.countDown();
    release();
  }

  /** Closes what is open and was not closed yet (close(), and a start() that lost the race with it). */
  private void release() {
    synchronized (released) {
      RelaySocket s = socket;
      if (s != null && released.add(s)) {
        if (!crashed) {
          s.flush(Duration.ofSeconds(2));
        }
        s.close();
      }
      RoomEngine e = engine;
      if (e != null && released.add(e)) {
        e.close();
      }
      Sessions ss = sessions;
      if (ss != null && released.add(ss)) {
        ss.close();
      }
      DeviceKeyStore k = keys;
      if (k != null && released.add(k)) {
        k.close();
      }
    }
  }

  @Override
  public String toString() {
    Enrollment e = enrollment;
    return "AgentClient[" + agentName + ", " + (e == null ? "not enrolled" : e.role() + " " + e.deviceId()) + ", " + state + "]";
  }

  /** Settings of an {@link AgentClient}. Relay URL, data directory and key protection are required. */
  public static final class Builder {
    private String relayUrl;
    private Path dataDir;
    private String inviteToken;
    private String agentName = "agent";
    private KeyProtection keyProtection;
    private Duration pollInterval = Duration.ofSeconds(15);
    private Duration approvalPollInterval = Duration.ofSeconds(5);
    private Duration startTimeout;
    private RoomEngineFactory engineFactory = RoomEngineFactory.MLS;
    private String ownerDeviceId;

    private Builder() {}

    public Builder relayUrl(String url) {
      this.relayUrl = Objects.requireNonNull(url, "relayUrl");
      return this;
    }

    /** The device's data directory (keys, sessions, groups, inbox, routing; all encrypted). */
    public Builder dataDir(Path dir) {
      this.dataDir = Objects.requireNonNull(dir, "dataDir");
      return this;
    }

    /** The invite token for the first run (ignored once enrolled; never logged). */
    public Builder inviteToken(String token) {
      this.inviteToken = Objects.requireNonNull(token, "inviteToken");
      return this;
    }

    /** The device's name: shown to the owner, and sent inside each envelope as the sender name. */
    public Builder agentName(String name) {
      Objects.requireNonNull(name, "agentName");
      if (name.isEmpty() || name.length() > 200) {
        throw new IllegalArgumentException("agentName must be 1 to 200 characters");
      }
      this.agentName = name;
      return this;
    }

    /** How the data directory's key is protected (the caller keeps and closes it). */
    public Builder keyProtection(KeyProtection protection) {
      this.keyProtection = Objects.requireNonNull(protection, "keyProtection");
      return this;
    }

    /** How often to poll {@code GET /messages} while the socket is down (default 15 s). */
    public Builder pollInterval(Duration d) {
      this.pollInterval = positive(d, "pollInterval");
      return this;
    }

    /** How often to retry the login while waiting for approval (default 5 s). */
    public Builder approvalPollInterval(Duration d) {
      this.approvalPollInterval = positive(d, "approvalPollInterval");
      return this;
    }

    /**
     * How long {@link AgentClient#start()} may wait for the login (approval pending, device
     * suspended, relay unreachable) before it throws {@link StartTimeoutException}. Default: none,
     * start() waits until approved (or closed).
     */
    public Builder startTimeout(Duration d) {
      this.startTimeout = positive(d, "startTimeout");
      return this;
    }

    /** The owner device for {@link AgentClient#send} before any owner message arrived. */
    public Builder ownerDeviceId(String deviceId) {
      this.ownerDeviceId = Owner.uuid(deviceId);
      return this;
    }

    Builder engineFactory(RoomEngineFactory factory) {
      this.engineFactory = Objects.requireNonNull(factory, "engineFactory");
      return this;
    }

    public AgentClient build() {
      if (relayUrl == null || dataDir == null || keyProtection == null) {
        throw new IllegalStateException("relayUrl, dataDir and keyProtection are required");
      }
      return new AgentClient(this);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + d);
      }
      return d;
    }
  }
}
