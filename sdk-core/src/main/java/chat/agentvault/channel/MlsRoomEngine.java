package chat.agentvault.channel;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.VaultException;
import chat.agentvault.channel.DeliveryService.EpochConflictException;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.mls.GroupStore;
import chat.agentvault.mls.Inbound;
import chat.agentvault.mls.MlsGroup;
import chat.agentvault.mls.MlsKeyPackage;
import chat.agentvault.transport.WireMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
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
import java.security.SignatureException;
import java.util.Collection;
import java.util.Set;
import java.util.function.Function;

/**
 * The {@link RoomEngine} on the public MLS API ({@code chat.agentvault.mls}): one {@link MlsGroup}
 * per relay room, group id = the room id's UTF-8 bytes, credential identity = the device id (UTF-8)
 * endorsed by the device's identity key (below).
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
 * <p><b>Members are authenticated by their device identity.</b> Each leaf's MLS signature key is
 * fresh per KeyPackage; its basic credential's identity is {@code UTF-8(device id) || 0x00 ||
 * endorsement}, the endorsement being the Ed25519 signature of the device identity key ({@link
 * DeviceIdentity#sign}) over {@code "agentvault-mls-endorsement-v1" || 0x00 || UTF-8(device id) ||
 * leaf signature key (32 bytes)}. The KeyPackage itself is signed with the leaf key, so the device
 * key vouches for the leaf key and the leaf key for the rest. The engine checks endorsements against
 * {@link DeliveryService#deviceIdentity} (cached per device id): a KeyPackage before {@link #add},
 * which must also name the device it was fetched for (else {@link KeyPackageRefusedException},
 * nothing committed); every leaf of the tree after a Welcome (before anything is stored) and before
 * posting an external commit (resync); every leaf a received commit adds or changes (a new
 * signature key included) before merging it. A failure in {@link #process} refuses the message with
 * {@link RoomMessageRefusedException}. Either way it is counted as a security violation of the room.
 * Add and Update proposals from others are refused too (the engine never sends them: it commits
 * adds directly and rekeys with a path), so that no unchecked leaf can enter through an own commit
 * that includes proposals by reference. So every group state the engine stores has only endorsed
 * leaves; the device id part of a credential is the member's device id (senders, removals).
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
  /** Domain-separation label of the endorsement signature (followed by 0x00). */
  static final String ENDORSEMENT_LABEL = "agentvault-mls-endorsement-v1";
  private static final int PROPOSAL_ADD = 1;
  private static final int PROPOSAL_UPDATE = 2;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String selfId;
  private final DeviceIdentity identity;
  /** Enrolled identities by device id, as the relay gave them (this device's own from {@link #identity}). */
  private final Map<String, PublicIdentity> identities = new HashMap<>();
  /** Credential identity || signature key of leaves whose endorsement verified. */
  private final Set<Bytes> endorsedLeaves = new HashSet<>();
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
      DeviceIdentity identity,
      DeliveryService relay,
      GroupStore groupStore,
      EncryptedFileStore keyPackageStore,
      Runnable catchUp) {
    this(selfDeviceId, identity, relay, groupStore, keyPackageStore, catchUp, DEFAULT_CIPHER_SUITE);
  }

  /**
   * @param identity this device's identity: endorses the MLS signature key of each own leaf (see
   *     the class comment); not closed by the engine, must stay open while it is used
   * @param catchUp processes the inbound messages pending at the relay (the runtime's pipeline,
   *     committing state as usual); run before a commit that lost the relay's race is rebuilt
   * @param cipherSuite of new groups and KeyPackages (0x0001 or 0x0003)
   */
  MlsRoomEngine(
      String selfDeviceId,
      DeviceIdentity identity,
      DeliveryService relay,
      GroupStore groupStore,
      EncryptedFileStore keyPackageStore,
      Runnable catchUp,
      int cipherSuite) {
    this.selfId = Objects.requireNonNull(selfDeviceId, "selfDeviceId");
    if (selfDeviceId.isEmpty() || selfDeviceId.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("device id must be non-empty without NUL");
    }
    this.identity = Objects.requireNonNull(identity, "identity");
    identities.put(selfDeviceId, identity.publicIdentity());
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
      out.add(keep(newKeyPackage(false)));
    }
    return out;
  }

  @Override
  public byte[] lastResortKeyPackage() {
    return keep(newKeyPackage(true));
  }

  /** Fresh keys; the credential carries this device's endorsement of the fresh signature key. */
  private MlsKeyPackage newKeyPackage(boolean lastResort) {
    return MlsKeyPackage.generate(
        cipherSuite, sigKey -> credentialIdentity(selfId, identity.sign(endorsementMessage(selfId, sigKey))), lastResort);
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
    MlsGroup g = MlsGroup.create(newKeyPackage(false), groupId(roomId), false);
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
      checkKeyPackage(roomId, d, b);
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

  /**
   * A KeyPackage from the relay for {@code deviceId}: its credential must name that device and
   * carry a valid endorsement of its signature key by that device's identity.
   */
  private void checkKeyPackage(String roomId, String deviceId, Bytes kp) {
    Bytes id = MlsKeyPackage.identityOf(kp);
    Endorsed e = Endorsed.parse(id);
    if (e == null || !e.deviceId().equals(deviceId)) {
      violations.merge(roomId, 1, Integer::sum);
      throw new KeyPackageRefusedException(
          deviceId, MessageRejectedException.Reason.MALFORMED,
          "the relay's KeyPackage for device " + deviceId
              + (e == null ? " has no endorsed device credential" : " names another identity"));
    }
    String bad = endorsementError(id, MlsKeyPackage.signatureKeyOf(kp));
    if (bad != null) {
      violations.merge(roomId, 1, Integer::sum);
      throw new KeyPackageRefusedException(
          deviceId, MessageRejectedException.Reason.BAD_SIGNATURE,
          "the relay's KeyPackage for device " + deviceId + ": " + bad);
    }
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
      return new Outcome.Application(roomId, deviceIdOf(a.sender().identity()), a.epoch(), a.data().toByteArray());
    }
    if (in instanceof Inbound.ProposalReceived p
        && (p.proposalType() == PROPOSAL_ADD || p.proposalType() == PROPOSAL_UPDATE)) {
      // Never sent by this engine; committed by reference it would bring in a leaf unchecked.
      throw violation(roomId, g, new MessageRejectedException(
          MessageRejectedException.Reason.MALFORMED, "Add or Update proposal (this engine commits adds directly)"));
    }
    if (in instanceof Inbound.StagedCommit c) {
      if (!c.removesMe()) {
        // The current epoch's leaves were checked when they entered; check what is new or changed.
        Set<Bytes> known = leafKeys(g.members());
        List<MlsGroup.Member> fresh = new ArrayList<>();
        for (MlsGroup.Member mb : c.members()) {
          if (!known.contains(leafKey(mb))) {
            fresh.add(mb);
          }
        }
        MessageRejectedException bad = unendorsed(fresh, "commit");
        if (bad != null) {
          throw violation(roomId, g, bad);
        }
      }
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
        j = MlsGroup.rejoinExternal(newKeyPackage(false), Bytes.wrap(gi.get()), false, id -> selfId.equals(deviceIdOf(id)));
      } catch (MessageRejectedException e) {
        return new Outcome.Ignored("cannot resync (" + reason + "): GroupInfo refused: " + e.getMessage());
      }
      MlsGroup g = j.group();
      if (!g.groupId().equals(groupId(roomId))) {
        return new Outcome.Ignored("cannot resync (" + reason + "): GroupInfo of another group");
      }
      MessageRejectedException bad = unendorsed(g.members(), "GroupInfo for the resync");
      if (bad != null) {
        // Not joined, nothing posted: the relay's GroupInfo has a leaf no device identity vouches for.
        throw violation(roomId, null, bad);
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
      MessageRejectedException bad = unendorsed(g.members(), "Welcome");
      if (bad != null) {
        throw violation(roomId, null, bad);
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
        String actor = m.senderDeviceId();
        if (g != null && g.isActive() && actor != null && !actor.equals(selfId)
            && !leavesOf(g, Set.of(actor)).isEmpty()) {
          // an explicit rekey (POST /rooms/{id}/rekey) is committed by its requester, a member
          return new Outcome.Ignored("rekey committed by its requester " + actor);
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
    for (MlsGroup.Member mb : g.members()) {
      String d = deviceIdOf(mb.identity());
      if (d != null && deviceIds.contains(d)) {
        out.add(mb.leafIndex());
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- endorsements

  /** The message a device identity signs to endorse a leaf signature key. */
  static byte[] endorsementMessage(String deviceId, Bytes signatureKey) {
    byte[] label = ENDORSEMENT_LABEL.getBytes(StandardCharsets.US_ASCII);
    byte[] id = deviceId.getBytes(StandardCharsets.UTF_8);
    byte[] key = signatureKey.toByteArray();
    ByteBuffer b = ByteBuffer.allocate(label.length + 1 + id.length + key.length);
    return b.put(label).put((byte) 0).put(id).put(key).array();
  }

  /** A credential identity: {@code UTF-8(device id) || 0x00 || endorsement (64 bytes)}. */
  static Bytes credentialIdentity(String deviceId, byte[] endorsement) {
    byte[] id = deviceId.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(id.length + 1 + endorsement.length).put(id).put((byte) 0).put(endorsement).array());
  }

  /** A credential identity split into device id and endorsement. */
  record Endorsed(String deviceId, byte[] endorsement) {
    /** Null when it is not {@code device id (UTF-8, non-empty, no NUL) || 0x00 || 64 bytes}. */
    static Endorsed parse(Bytes identity) {
      if (identity == null) {
        return null;
      }
      byte[] b = identity.toByteArray();
      int sep = b.length - 1 - 64;
      if (sep < 1) {
        return null;
      }
      for (int i = 0; i <= sep; i++) {
        if (b[i] == 0) {
          if (i != sep) {
            return null;
          }
          try {
            String id = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(b, 0, sep))
                .toString();
            return new Endorsed(id, java.util.Arrays.copyOfRange(b, sep + 1, b.length));
          } catch (CharacterCodingException e) {
            return null;
          }
        }
      }
      return null;
    }
  }

  /** The device id of a member's credential identity; null when it is not an endorsed credential. */
  static String deviceIdOf(Bytes credentialIdentity) {
    Endorsed e = Endorsed.parse(credentialIdentity);
    return e == null ? null : e.deviceId();
  }

  private static Bytes leafKey(MlsGroup.Member mb) {
    if (mb.identity() == null || mb.signatureKey() == null) {
      return null;
    }
    return mb.identity().concat(mb.signatureKey());
  }

  private static Set<Bytes> leafKeys(Collection<MlsGroup.Member> members) {
    Set<Bytes> out = new HashSet<>();
    for (MlsGroup.Member mb : members) {
      Bytes k = leafKey(mb);
      if (k != null) {
        out.add(k);
      }
    }
    return out;
  }

  /** The first of {@code members} whose endorsement does not verify, as a refusal; null when all do. */
  private MessageRejectedException unendorsed(Collection<MlsGroup.Member> members, String where) {
    for (MlsGroup.Member mb : members) {
      String bad = mb.signatureKey() == null ? "no signature key" : endorsementError(mb.identity(), mb.signatureKey());
      if (bad != null) {
        return new MessageRejectedException(
            MessageRejectedException.Reason.BAD_SIGNATURE, where + ": leaf " + mb.leafIndex() + ": " + bad);
      }
    }
    return null;
  }

  /** Why the endorsement in {@code credentialIdentity} of {@code signatureKey} does not verify; null when it does. */
  private String endorsementError(Bytes credentialIdentity, Bytes signatureKey) {
    Bytes leafKey = credentialIdentity == null ? null : credentialIdentity.concat(signatureKey);
    if (leafKey != null && endorsedLeaves.contains(leafKey)) {
      return null;
    }
    Endorsed e = Endorsed.parse(credentialIdentity);
    if (e == null) {
      return "credential is not a device id with an endorsement";
    }
    PublicIdentity id = identities.get(e.deviceId());
    if (id == null) {
      Optional<PublicIdentity> fetched = relay.deviceIdentity(e.deviceId());
      if (fetched.isEmpty()) {
        return "no enrolled identity for device " + e.deviceId();
      }
      id = fetched.get();
      identities.put(e.deviceId(), id);
    }
    try {
      id.signingKey().verify(endorsementMessage(e.deviceId(), signatureKey), e.endorsement());
    } catch (SignatureException ex) {
      return "the endorsement of device " + e.deviceId() + " does not verify under its identity key";
    }
    endorsedLeaves.add(leafKey);
    return null;
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

  /**
   * {@link #add} refused the relay's KeyPackage for a device: it names another device, or its
   * signature key lacks a valid endorsement by the device's identity (a forgery by the relay or
   * corruption). Counted as a security violation of the room; nothing was committed.
   */
  static final class KeyPackageRefusedException extends MessageRejectedException {
    private static final long serialVersionUID = 1L;
    private final String deviceId;

    KeyPackageRefusedException(String deviceId, Reason reason, String message) {
      super(reason, message);
      this.deviceId = deviceId;
    }

    String deviceId() {
      return deviceId;
    }
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
