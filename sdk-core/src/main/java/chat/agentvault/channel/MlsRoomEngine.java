package chat.agentvault.channel;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.VaultException;
import chat.agentvault.channel.DeliveryService.EpochConflictException;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.mls.GroupStore;
import chat.agentvault.mls.Inbound;
import chat.agentvault.mls.MlsGroup;
import chat.agentvault.mls.MlsKeyPackage;
import chat.agentvault.transport.WireMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The {@link RoomEngine} on the public MLS API ({@code chat.agentvault.mls}): one {@link MlsGroup}
 * per relay room, group id = the room id's UTF-8 bytes, credential identity = the device id (UTF-8).
 *
 * <p><b>Wire.</b> Handshakes (commits, proposals) are PublicMessages: an external commit (resync,
 * RFC 9420 §12.4.3.2) must be one anyway, so every commit of a room has one form; the epoch and
 * sender of a handshake stay authenticated by the membership tag, and the relay, which orders by
 * the epoch the client names, learns nothing it does not know already (membership is relay state).
 * Application messages are PrivateMessages, message type {@link #APPLICATION}, content type {@link
 * #CONTENT_TYPE}, posted with the epoch {@link #seal} returns. Welcomes go as {@code mls_welcome} to
 * the added devices only.
 *
 * <p><b>Persistence.</b> Groups persist through the given {@link GroupStore} (encrypted, by the
 * runtime) via a holding wrapper: during {@link #process} every save is held back until {@link
 * #commitState()} ({@link #rollbackState()} drops it and reloads the stored state); outbound
 * operations ({@link #create}, {@link #add}, {@link #remove}, {@link #rekey}, {@link #seal}) and a
 * resync write at once. An own commit is merged only after {@link DeliveryService#post} succeeded;
 * then the new GroupInfo is published. KeyPackages' private parts are kept in the given {@link
 * EncryptedFileStore} (one blob per KeyPackage, named by its ref); a join deletes the used one at
 * {@link #commitState()}, never the last-resort one.
 *
 * <p><b>Races and desync.</b> A commit answered with an epoch conflict is discarded; {@code
 * catchUp} (the runtime's "process what is pending") runs, and the commit is rebuilt on the new
 * epoch, at most {@link #MAX_COMMIT_ATTEMPTS} times. A message the group cannot process because it
 * is behind (a newer epoch, or no state at all) makes the engine rejoin by external commit from the
 * relay's GroupInfo ({@link Outcome.Resynced}, the runtime's {@code av.resync}); a message of an
 * older epoch is {@link Outcome.Ignored}. A message that fails authentication or decoding is refused
 * with {@link RoomMessageRefusedException}, counted as a security violation of its room, and the
 * room is rekeyed; it never triggers a resync.
 *
 * <p><b>Automatic rekeys.</b> Relay events given to {@link #process} (message type {@code event}):
 * {@code member_removed} (also sent for revocation and for a trust tier below the room minimum)
 * schedules a Remove + Commit of that device's leaves; {@code rekey_requested} schedules an empty
 * commit with path. Scheduled work and the rekey after a security violation run at the end of
 * {@link #commitState()} / {@link #rollbackState()}, one attempt each (no catch-up from inside the
 * inbound pipeline); one that loses the race stays scheduled and is dropped once the group has
 * moved to a newer epoch (another member did it) or the device is gone.
 *
 * <p><b>Not done.</b> The MLS leaf signature key is a fresh key per KeyPackage, not the device's
 * Ed25519 identity key: members are identified by device id only (the credential), and the relay
 * could in principle hand out a KeyPackage of its own making for a device id (docs/channel.md).
 */
final class MlsRoomEngine implements RoomEngine {
  /** Message type of room application messages. */
  static final String APPLICATION = "application";
  /** Content type of every MLS message of a room. */
  static final String CONTENT_TYPE = "application/vnd.agentvault.mls+v1";
  static final String COMMIT = "mls_commit";
  static final String PROPOSAL = "mls_proposal";
  static final String WELCOME = "mls_welcome";
  static final String EVENT = "event";
  static final int DEFAULT_CIPHER_SUITE = MlsKeyPackage.SUITE_X25519_CHACHA20POLY1305_ED25519;
  static final int MAX_COMMIT_ATTEMPTS = 5;
  static final int MAX_RESYNC_ATTEMPTS = 3;
  private static final String KP_PREFIX = "kp-";
  /** Reasons of a {@code rekey_requested} that accompanies a {@code member_removed}. */
  private static final Set<String> REMOVAL_REASONS = Set.of("member_removed", "device_revoked", "trust_tier");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String selfId;
  private final Bytes selfIdentity;
  private final DeliveryService relay;
  private final HoldingGroupStore groups;
  private final EncryptedFileStore keyPackages;
  private final Runnable catchUp;
  private final int cipherSuite;
  private final Map<String, MlsGroup> cache = new HashMap<>();
  private final Set<String> heldKeyPackageDeletes = new LinkedHashSet<>();
  private final Map<String, Set<String>> removalDue = new LinkedHashMap<>();
  private final Map<String, Long> rekeyDue = new LinkedHashMap<>();
  private final Map<String, Integer> violations = new HashMap<>();
  /** Rooms whose scheduled commit lost the race at this epoch: not retried before the epoch moves. */
  private final Map<String, Long> dueLostAt = new HashMap<>();
  private int outboundDepth;

  MlsRoomEngine(
      String selfDeviceId,
      DeliveryService relay,
      GroupStore groupStore,
      EncryptedFileStore keyPackageStore,
      Runnable catchUp) {
    this(selfDeviceId, relay, groupStore, keyPackageStore, catchUp, DEFAULT_CIPHER_SUITE);
  }

  /**
   * @param catchUp processes the inbound messages pending at the relay (the runtime's pipeline,
   *     committing state as usual); run before a commit that lost the relay's race is rebuilt
   * @param cipherSuite of new groups and KeyPackages (0x0001 or 0x0003)
   */
  MlsRoomEngine(
      String selfDeviceId,
      DeliveryService relay,
      GroupStore groupStore,
      EncryptedFileStore keyPackageStore,
      Runnable catchUp,
      int cipherSuite) {
    this.selfId = Objects.requireNonNull(selfDeviceId, "selfDeviceId");
    this.selfIdentity = Bytes.wrap(selfDeviceId.getBytes(StandardCharsets.UTF_8));
    this.relay = Objects.requireNonNull(relay, "relay");
    this.groups = new HoldingGroupStore(Objects.requireNonNull(groupStore, "groupStore"));
    this.keyPackages = Objects.requireNonNull(keyPackageStore, "keyPackageStore");
    this.catchUp = Objects.requireNonNull(catchUp, "catchUp");
    chat.agentvault.mls.crypto.CipherSuites.forId(cipherSuite);
    this.cipherSuite = cipherSuite;
  }

  // ---------------------------------------------------------------- KeyPackages

  @Override
  public List<byte[]> newKeyPackages(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative: " + n);
    }
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(keep(MlsKeyPackage.generate(cipherSuite, selfIdentity, false)));
    }
    return out;
  }

  @Override
  public byte[] lastResortKeyPackage() {
    return keep(MlsKeyPackage.generate(cipherSuite, selfIdentity, true));
  }

  private byte[] keep(MlsKeyPackage kp) {
    try (kp) {
      byte[] record = kp.toPrivateRecord();
      try {
        keyPackages.put(KP_PREFIX + kp.ref().hex(), record);
      } finally {
        SecretBytes.wipe(record);
      }
      return kp.toBytes().toByteArray();
    }
  }

  /** How many KeyPackages (last-resort ones included) have their private parts stored. */
  int storedKeyPackages() {
    return (int) keyPackages.list().stream().filter(n -> n.startsWith(KP_PREFIX)).count();
  }

  // ---------------------------------------------------------------- outbound

  @Override
  public void create(String roomId, List<String> memberDeviceIds) {
    Objects.requireNonNull(memberDeviceIds, "memberDeviceIds");
    if (group(roomId) != null) {
      throw new IllegalStateException("room " + roomId + " already has a group");
    }
    MlsGroup g = MlsGroup.create(MlsKeyPackage.generate(cipherSuite, selfIdentity), groupId(roomId), false);
    groups.direct(() -> g.persistTo(groups));
    cache.put(roomId, g);
    relay.putGroupInfo(roomId, g.epoch(), g.groupInfo().toByteArray());
    if (!memberDeviceIds.isEmpty()) {
      add(roomId, memberDeviceIds);
    }
  }

  @Override
  public void add(String roomId, List<String> deviceIds) {
    Objects.requireNonNull(deviceIds, "deviceIds");
    // KeyPackages are consumed at the relay: fetch each once, reuse them across attempts.
    Map<String, Bytes> kps = new LinkedHashMap<>();
    for (String d : new LinkedHashSet<>(deviceIds)) {
      if (d.equals(selfId)) {
        throw new IllegalArgumentException("cannot add this device to its own room");
      }
      MlsGroup g = requireGroup(roomId);
      if (!leavesOf(g, Set.of(d)).isEmpty()) {
        continue;
      }
      byte[] kp = relay.keyPackage(d).orElseThrow(() -> new VaultException("no KeyPackage for device " + d));
      Bytes b = Bytes.wrap(kp);
      Bytes identity = MlsKeyPackage.identityOf(b);
      if (!identity.equals(Bytes.wrap(d.getBytes(StandardCharsets.UTF_8)))) {
        throw new MessageRejectedException(
            MessageRejectedException.Reason.MALFORMED, "the relay's KeyPackage for device " + d + " names another identity");
      }
      kps.put(d, b);
    }
    commitLoop(
        roomId,
        g -> {
          Map<String, Bytes> todo = new LinkedHashMap<>();
          kps.forEach((d, kp) -> {
            if (leavesOf(g, Set.of(d)).isEmpty()) {
              todo.put(d, kp);
            }
          });
          return todo.isEmpty() ? null : new Prepared(g.addMembers(List.copyOf(todo.values())), List.copyOf(todo.keySet()));
        });
  }

  @Override
  public void remove(String roomId, List<String> deviceIds) {
    Set<String> devices = Set.copyOf(deviceIds);
    if (devices.contains(selfId)) {
      throw new IllegalArgumentException("a device leaves a room, it does not remove itself");
    }
    commitLoop(
        roomId,
        g -> {
          List<Integer> leaves = leavesOf(g, devices);
          return leaves.isEmpty() ? null : new Prepared(g.removeMembers(leaves), List.of());
        });
    rekeyDue.remove(roomId);
    removalDue.computeIfPresent(roomId, (r, s) -> {
      s.removeAll(devices);
      return s.isEmpty() ? null : s;
    });
  }

  @Override
  public void rekey(String roomId) {
    commitLoop(roomId, g -> new Prepared(g.update(), List.of()));
    rekeyDue.remove(roomId);
  }

  private record Prepared(MlsGroup.PendingCommit commit, List<String> welcomeRecipients) {}

  /**
   * Builds a commit on the group's current epoch, posts it, merges it once the relay accepted it;
   * on an epoch conflict discards it, runs {@code catchUp} and rebuilds it ({@code make} returns
   * null when nothing is left to do).
   */
  private void commitLoop(String roomId, Function<MlsGroup, Prepared> make) {
    outboundDepth++;
    try {
      for (int attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
        MlsGroup g = requireActiveGroup(roomId);
        groups.requireNothingHeld(roomId);
        if (attempt > 1 || g.pendingCommit().isPresent()) {
          g.pendingCommit().ifPresent(p -> g.discardPendingCommit());
        }
        Prepared p = make.apply(g);
        if (p == null) {
          return;
        }
        if (postCommit(roomId, g, p)) {
          return;
        }
        if (attempt < MAX_COMMIT_ATTEMPTS) {
          catchUp.run();
        }
      }
      throw new CommitConflictException(roomId, MAX_COMMIT_ATTEMPTS);
    } finally {
      outboundDepth--;
    }
  }

  /** Posts an own pending commit; true when accepted (then merged, GroupInfo and Welcome sent). */
  private boolean postCommit(String roomId, MlsGroup g, Prepared p) {
    long epoch = g.epoch();
    try {
      relay.post(roomId, COMMIT, epoch, p.commit().message().toByteArray(), List.of());
    } catch (EpochConflictException e) {
      g.discardPendingCommit();
      return false;
    } catch (RuntimeException e) {
      // Unknown whether the relay took it: drop it; if it was accepted, the next message of the
      // new epoch finds this member behind and it resyncs.
      g.discardPendingCommit();
      throw e;
    }
    Optional<Bytes> welcome = p.commit().welcome();
    g.mergePendingCommit();
    relay.putGroupInfo(roomId, g.epoch(), g.groupInfo().toByteArray());
    if (welcome.isPresent() && !p.welcomeRecipients().isEmpty()) {
      try {
        relay.post(roomId, WELCOME, g.epoch(), welcome.get().toByteArray(), p.welcomeRecipients());
      } catch (EpochConflictException e) {
        throw new VaultException("the relay refused a Welcome with an epoch conflict", e);
      }
    }
    return true;
  }

  @Override
  public void forget(String roomId) {
    cache.remove(roomId);
    groups.forget(groupId(roomId));
    removalDue.remove(roomId);
    rekeyDue.remove(roomId);
    dueLostAt.remove(roomId);
  }

  @Override
  public boolean hasGroup(String roomId) {
    return group(roomId) != null;
  }

  @Override
  public long epoch(String roomId) {
    MlsGroup g = group(roomId);
    return g == null ? -1 : g.epoch();
  }

  @Override
  public Sealed seal(String roomId, byte[] envelope) {
    Objects.requireNonNull(envelope, "envelope");
    MlsGroup g = requireActiveGroup(roomId);
    groups.requireNothingHeld(roomId);
    Bytes ct = g.encrypt(Bytes.wrap(envelope.clone()));
    return new Sealed(ct.toByteArray(), g.epoch());
  }

  // ---------------------------------------------------------------- inbound

  @Override
  public Outcome process(WireMessage m) {
    Objects.requireNonNull(m, "message");
    if (groups.holdsAnything() || !heldKeyPackageDeletes.isEmpty()) {
      throw new IllegalStateException("commitState() or rollbackState() the previous process() first");
    }
    String roomId = m.roomId();
    if (roomId == null) {
      return new Outcome.Ignored("not a room message");
    }
    groups.hold(true);
    try {
      return switch (m.messageType()) {
        case EVENT -> event(roomId, m);
        case WELCOME -> welcome(roomId, m);
        case COMMIT, PROPOSAL -> groupMessage(roomId, m);
        default -> CONTENT_TYPE.equals(m.contentType())
            ? groupMessage(roomId, m)
            : new Outcome.Ignored("not an MLS message: " + m.messageType());
      };
    } catch (RuntimeException e) {
      discardHeld();
      throw e;
    } finally {
      groups.hold(false);
    }
  }

  private Outcome groupMessage(String roomId, WireMessage m) {
    MlsGroup g = group(roomId);
    if (g == null) {
      return resync(roomId, "no group state for the room");
    }
    if (!g.isActive()) {
      return new Outcome.Ignored("no longer a member of the room's group");
    }
    byte[] payload = m.payload();
    // The epoch of the MLS framing (authenticated by process() below), else the relay's field.
    java.util.OptionalLong framed = MlsGroup.epochOf(Bytes.wrap(payload));
    Long epoch = framed.isPresent() ? Long.valueOf(framed.getAsLong()) : m.epoch();
    if (epoch != null && epoch < g.epoch()) {
      // Of an epoch this member left behind (e.g. before a resync, or its own commit echoed).
      return new Outcome.Ignored("message of past epoch " + epoch + " (group at " + g.epoch() + ")");
    }
    Inbound in;
    try {
      in = g.process(Bytes.wrap(payload));
    } catch (MessageRejectedException e) {
      switch (e.reason()) {
        case DUPLICATE:
          return new Outcome.Ignored("duplicate");
        case WRONG_EPOCH:
          if (epoch == null || epoch > g.epoch()) {
            return resync(roomId, "missed commit: message of epoch " + epoch + ", group at " + g.epoch());
          }
          // The relay's epoch says current, the MLS framing says otherwise: not ours to trust.
          break;
        default:
          break;
      }
      throw violation(roomId, g, e);
    }
    if (in instanceof Inbound.Application a) {
      Bytes sender = a.sender().identity();
      return new Outcome.Application(
          roomId, sender == null ? null : new String(sender.toByteArray(), StandardCharsets.UTF_8), a.epoch(),
          a.data().toByteArray());
    }
    if (in instanceof Inbound.StagedCommit c) {
      g.merge(c);
      // A removed member's group stays at its last epoch; report the epoch of the removal.
      return new Outcome.Handshake(roomId, c.removesMe() ? c.newEpoch() : g.epoch(), false, c.removesMe());
    }
    return new Outcome.Handshake(roomId, g.epoch(), false, false);
  }

  private RoomMessageRefusedException violation(String roomId, MlsGroup g, MessageRejectedException e) {
    violations.merge(roomId, 1, Integer::sum);
    if (g != null && g.isActive()) {
      rekeyDue.putIfAbsent(roomId, g.epoch());
    }
    return new RoomMessageRefusedException(roomId, e);
  }

  /** Security violations counted for the room (refused forged or garbled messages). */
  int securityViolations(String roomId) {
    return violations.getOrDefault(roomId, 0);
  }

  /**
   * Rejoins the room's group by external commit from the relay's GroupInfo, replacing this
   * device's old leaf. Written at once (the commit is out), not held back.
   */
  private Outcome resync(String roomId, String reason) {
    for (int attempt = 1; attempt <= MAX_RESYNC_ATTEMPTS; attempt++) {
      Optional<byte[]> gi = relay.groupInfo(roomId);
      if (gi.isEmpty()) {
        return new Outcome.Ignored("cannot resync (" + reason + "): no GroupInfo");
      }
      MlsGroup.ExternalJoin j;
      try {
        j = MlsGroup.rejoinExternal(MlsKeyPackage.generate(cipherSuite, selfIdentity), Bytes.wrap(gi.get()), false);
      } catch (MessageRejectedException e) {
        return new Outcome.Ignored("cannot resync (" + reason + "): GroupInfo refused: " + e.getMessage());
      }
      MlsGroup g = j.group();
      if (!g.groupId().equals(groupId(roomId))) {
        return new Outcome.Ignored("cannot resync (" + reason + "): GroupInfo of another group");
      }
      try {
        relay.post(roomId, COMMIT, g.epoch() - 1, j.commit().toByteArray(), List.of());
      } catch (EpochConflictException e) {
        continue; // the GroupInfo was already stale: take the newer one
      }
      groups.direct(() -> g.persistTo(groups));
      cache.put(roomId, g);
      relay.putGroupInfo(roomId, g.epoch(), g.groupInfo().toByteArray());
      return new Outcome.Resynced(roomId, g.epoch(), reason);
    }
    return new Outcome.Ignored("cannot resync (" + reason + "): lost the relay's race " + MAX_RESYNC_ATTEMPTS + " times");
  }

  private Outcome welcome(String roomId, WireMessage m) {
    Bytes welcome = Bytes.wrap(m.payload());
    List<Bytes> refs;
    try {
      refs = MlsGroup.welcomeKeyPackageRefs(welcome);
    } catch (MessageRejectedException e) {
      throw new RoomMessageRefusedException(roomId, e);
    }
    for (Bytes ref : refs) {
      String name = KP_PREFIX + ref.hex();
      Optional<byte[]> record = keyPackages.get(name);
      if (record.isEmpty()) {
        continue;
      }
      MlsGroup existing = group(roomId);
      if (existing != null && existing.isActive()) {
        return new Outcome.Ignored("already a member of the room's group");
      }
      MlsKeyPackage kp;
      try {
        kp = MlsKeyPackage.fromPrivateRecord(record.get());
      } finally {
        SecretBytes.wipe(record.get());
      }
      MlsGroup g;
      try {
        g = MlsGroup.join(kp, welcome, false);
      } catch (MessageRejectedException e) {
        throw new RoomMessageRefusedException(roomId, e);
      }
      if (!g.groupId().equals(groupId(roomId))) {
        throw new RoomMessageRefusedException(
            roomId, new MessageRejectedException(MessageRejectedException.Reason.MALFORMED, "Welcome to another group"));
      }
      g.persistTo(groups); // held until commitState()
      cache.put(roomId, g);
      if (!kp.isLastResort()) {
        heldKeyPackageDeletes.add(name);
      }
      return new Outcome.Handshake(roomId, g.epoch(), true, false);
    }
    return new Outcome.Ignored("Welcome not for a KeyPackage of this device");
  }

  private Outcome event(String roomId, WireMessage m) {
    JsonNode e;
    try {
      e = JSON.readTree(m.payload());
    } catch (IOException ex) {
      return new Outcome.Ignored("event does not parse");
    }
    String kind = e.path("event").asText("");
    String device = e.path("device_id").asText(null);
    MlsGroup g = group(roomId);
    switch (kind) {
      case "member_removed" -> {
        if (selfId.equals(device)) {
          return new Outcome.Handshake(roomId, g == null ? -1 : g.epoch(), false, true);
        }
        if (g != null && g.isActive() && device != null) {
          removalDue.computeIfAbsent(roomId, r -> new LinkedHashSet<>()).add(device);
          return new Outcome.Ignored("removal of " + device + " scheduled");
        }
        return new Outcome.Ignored("member_removed for a room without group");
      }
      case "rekey_requested" -> {
        if (REMOVAL_REASONS.contains(e.path("reason").asText(""))) {
          // sent with member_removed: the removal's commit is the rekey
          return new Outcome.Ignored("rekey by the removal's commit");
        }
        if (g != null && g.isActive()) {
          rekeyDue.putIfAbsent(roomId, g.epoch());
          return new Outcome.Ignored("rekey scheduled");
        }
        return new Outcome.Ignored("rekey_requested for a room without group");
      }
      default -> {
        return new Outcome.Ignored("event " + kind);
      }
    }
  }

  @Override
  public void commitState() {
    groups.commit();
    for (String name : heldKeyPackageDeletes) {
      keyPackages.delete(name);
    }
    heldKeyPackageDeletes.clear();
    runDue();
  }

  @Override
  public void rollbackState() {
    discardHeld();
    runDue();
  }

  private void discardHeld() {
    for (Bytes id : groups.rollback()) {
      cache.remove(new String(id.toByteArray(), StandardCharsets.UTF_8));
    }
    heldKeyPackageDeletes.clear();
  }

  /** Scheduled removals and rekeys: one attempt each; not from inside an outbound operation. */
  private void runDue() {
    if (outboundDepth > 0) {
      return;
    }
    for (String roomId : new ArrayList<>(removalDue.keySet())) {
      MlsGroup g = group(roomId);
      Set<String> devices = removalDue.get(roomId);
      List<Integer> leaves = g == null || !g.isActive() ? List.of() : leavesOf(g, devices);
      if (leaves.isEmpty()) {
        removalDue.remove(roomId);
        continue;
      }
      if (Long.valueOf(g.epoch()).equals(dueLostAt.get(roomId))) {
        continue;
      }
      if (tryOnce(roomId, g, () -> new Prepared(g.removeMembers(leaves), List.of()))) {
        removalDue.remove(roomId);
        rekeyDue.remove(roomId);
      }
    }
    for (String roomId : new ArrayList<>(rekeyDue.keySet())) {
      MlsGroup g = group(roomId);
      if (g == null || !g.isActive() || g.epoch() > rekeyDue.get(roomId)) {
        rekeyDue.remove(roomId); // gone, or another member's commit since did it
        continue;
      }
      if (Long.valueOf(g.epoch()).equals(dueLostAt.get(roomId))) {
        continue;
      }
      if (tryOnce(roomId, g, () -> new Prepared(g.update(), List.of()))) {
        rekeyDue.remove(roomId);
      }
    }
  }

  private boolean tryOnce(String roomId, MlsGroup g, java.util.function.Supplier<Prepared> make) {
    outboundDepth++;
    try {
      g.pendingCommit().ifPresent(p -> g.discardPendingCommit());
      long epoch = g.epoch();
      boolean accepted = postCommit(roomId, g, make.get());
      if (accepted) {
        dueLostAt.remove(roomId);
      } else {
        dueLostAt.put(roomId, epoch);
      }
      return accepted;
    } catch (RuntimeException e) {
      return false; // stays scheduled
    } finally {
      outboundDepth--;
    }
  }

  // ---------------------------------------------------------------- helpers

  private static Bytes groupId(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return Bytes.wrap(roomId.getBytes(StandardCharsets.UTF_8));
  }

  private MlsGroup group(String roomId) {
    MlsGroup g = cache.get(roomId);
    if (g == null) {
      g = MlsGroup.load(groups, groupId(roomId)).orElse(null);
      if (g != null) {
        cache.put(roomId, g);
      }
    }
    return g;
  }

  private MlsGroup requireGroup(String roomId) {
    MlsGroup g = group(roomId);
    if (g == null) {
      throw new IllegalStateException("no group for room " + roomId);
    }
    return g;
  }

  private MlsGroup requireActiveGroup(String roomId) {
    MlsGroup g = requireGroup(roomId);
    if (!g.isActive()) {
      throw new IllegalStateException("no longer a member of room " + roomId);
    }
    return g;
  }

  private static List<Integer> leavesOf(MlsGroup g, Set<String> deviceIds) {
    List<Integer> out = new ArrayList<>();
    Set<Bytes> ids = new HashSet<>();
    for (String d : deviceIds) {
      ids.add(Bytes.wrap(d.getBytes(StandardCharsets.UTF_8)));
    }
    for (MlsGroup.Member mb : g.members()) {
      if (mb.identity() != null && ids.contains(mb.identity())) {
        out.add(mb.leafIndex());
      }
    }
    return out;
  }

  @Override
  public void close() {
    discardHeld();
    cache.clear();
  }

  @Override
  public String toString() {
    return "MlsRoomEngine[" + selfId + ", " + cache.size() + " groups loaded]";
  }

  /** An add, remove or rekey lost the relay's race {@link #MAX_COMMIT_ATTEMPTS} times. */
  static final class CommitConflictException extends VaultException {
    private static final long serialVersionUID = 1L;

    CommitConflictException(String roomId, int attempts) {
      super("room " + roomId + ": commit lost the relay's race " + attempts + " times");
    }
  }

  /**
   * The engine's view of the runtime's group store: while holding (during {@link #process}) saves
   * are kept in memory until {@link #commit} or {@link #rollback}; otherwise they write through.
   */
  static final class HoldingGroupStore implements GroupStore {
    private final GroupStore inner;
    private final Map<Bytes, byte[]> held = new LinkedHashMap<>();
    private boolean holding;

    HoldingGroupStore(GroupStore inner) {
      this.inner = inner;
    }

    void hold(boolean on) {
      holding = on;
    }

    boolean holdsAnything() {
      return !held.isEmpty();
    }

    void requireNothingHeld(String roomId) {
      if (held.containsKey(groupId(roomId))) {
        throw new IllegalStateException("room " + roomId + " has uncommitted state: commitState() or rollbackState() first");
      }
    }

    /** Runs {@code r} writing through (an outbound operation inside {@link RoomEngine#process}). */
    void direct(Runnable r) {
      boolean was = holding;
      holding = false;
      try {
        r.run();
      } finally {
        holding = was;
      }
    }

    @Override
    public void save(Bytes groupId, byte[] record) {
      if (holding) {
        byte[] old = held.put(groupId, record.clone());
        if (old != null) {
          SecretBytes.wipe(old);
        }
        return;
      }
      byte[] old = held.remove(groupId); // a write-through supersedes what was held (resync)
      if (old != null) {
        SecretBytes.wipe(old);
      }
      inner.save(groupId, record);
    }

    @Override
    public Optional<byte[]> load(Bytes groupId) {
      byte[] h = held.get(groupId);
      return h != null ? Optional.of(h.clone()) : inner.load(groupId);
    }

    @Override
    public boolean delete(Bytes groupId) {
      byte[] old = held.remove(groupId);
      if (old != null) {
        SecretBytes.wipe(old);
      }
      return inner.delete(groupId);
    }

    void forget(Bytes groupId) {
      delete(groupId);
    }

    @Override
    public List<Bytes> list() {
      Set<Bytes> all = new LinkedHashSet<>(inner.list());
      all.addAll(held.keySet());
      return List.copyOf(all);
    }

    void commit() {
      for (Map.Entry<Bytes, byte[]> e : held.entrySet()) {
        inner.save(e.getKey(), e.getValue());
        SecretBytes.wipe(e.getValue());
      }
      held.clear();
    }

    /** Drops what is held; returns the ids of the groups whose held state was dropped. */
    List<Bytes> rollback() {
      List<Bytes> ids = List.copyOf(held.keySet());
      held.values().forEach(SecretBytes::wipe);
      held.clear();
      return ids;
    }
  }
}
