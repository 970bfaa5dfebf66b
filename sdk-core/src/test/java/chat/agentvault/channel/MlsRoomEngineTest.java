package chat.agentvault.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.channel.RoomEngine.Outcome;
import chat.agentvault.identity.DeviceIdentity;
import chat.agentvault.identity.EncryptedFileStore;
import chat.agentvault.identity.PublicIdentity;
import chat.agentvault.mls.GroupStore;
import chat.agentvault.mls.MlsGroup;
import chat.agentvault.mls.MlsKeyPackage;
import chat.agentvault.transport.WireMessage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MlsRoomEngineTest {
  private static final String ROOM = UUID.randomUUID().toString();

  private FakeRelay relay;
  private Agent a;
  private Agent b;
  private Agent c;

  @BeforeEach
  void setUp() {
    relay = new FakeRelay();
    a = new Agent("a");
    b = new Agent("b");
    c = new Agent("c");
  }

  @Test
  void threeMembersCreateAddAndExchangeMessages() {
    roomOfThree();
    assertThat(a.engine.epoch(ROOM)).isEqualTo(1);
    assertThat(b.engine.epoch(ROOM)).isEqualTo(1);
    assertThat(c.engine.epoch(ROOM)).isEqualTo(1);

    a.send("hello from a");
    assertThat(b.drainTexts()).containsExactly("a: hello from a");
    assertThat(c.drainTexts()).containsExactly("a: hello from a");
    b.send("hello from b");
    c.send("hello from c");
    assertThat(a.drainTexts()).containsExactly("b: hello from b", "c: hello from c");
    assertThat(b.drainTexts()).containsExactly("c: hello from c");
    assertThat(c.drainTexts()).containsExactly("b: hello from b");
  }

  @Test
  void removedMemberCannotDecryptTheNextMessage() {
    roomOfThree();
    byte[] beforeRemoval = c.groups.load(gid()).orElseThrow();

    a.engine.remove(ROOM, List.of(c.id));
    assertThat(b.drain()).singleElement().isInstanceOf(Outcome.Handshake.class);
    List<Outcome> atC = c.drain();
    assertThat(atC).singleElement().isEqualTo(new Outcome.Handshake(ROOM, 2, false, true));
    relay.removeMember(ROOM, c.id);

    WireMessage secret = a.send("after removal");
    assertThat(b.drainTexts()).containsExactly("a: after removal");
    assertThat(c.relayQueue()).isEmpty(); // the relay no longer delivers to c...
    // ...and given the ciphertext anyway, c cannot read it: not with its engine,
    assertThat(c.engine.process(secret)).isInstanceOf(Outcome.Ignored.class);
    c.engine.rollbackState();
    // nor with its group state from before the removal (epoch 1: the message is of epoch 2).
    GroupStore old = GroupStore.inMemory();
    old.save(gid(), beforeRemoval);
    MlsGroup oldGroup = MlsGroup.load(old, gid()).orElseThrow();
    assertThatThrownBy(() -> oldGroup.process(Bytes.wrap(secret.payload())))
        .isInstanceOf(MessageRejectedException.class);
    assertThat(relay.groupInfo(ROOM, c.id)).isEmpty(); // no way back in by external commit
    assertThat(a.engine.epoch(ROOM)).isEqualTo(2);
  }

  @Test
  void rekeyAdvancesTheEpochForAll() {
    roomOfThree();
    a.engine.rekey(ROOM);
    b.drain();
    c.drain();
    assertThat(List.of(a.engine.epoch(ROOM), b.engine.epoch(ROOM), c.engine.epoch(ROOM))).containsOnly(2L);
    c.send("new epoch");
    assertThat(a.drainTexts()).containsExactly("c: new epoch");
    assertThat(b.drainTexts()).containsExactly("c: new epoch");
  }

  @Test
  void concurrentCommitsOneWinsTheOtherRetriesOnTheNewEpoch() {
    roomOfThree();
    a.engine.rekey(ROOM); // a commits first; b has not seen it
    b.engine.rekey(ROOM); // 409 at the relay -> b catches up (a's commit) -> rebuilt on epoch 2
    assertThat(relay.conflicts).isEqualTo(1);
    a.drain();
    c.drain();
    assertThat(List.of(a.engine.epoch(ROOM), b.engine.epoch(ROOM), c.engine.epoch(ROOM))).containsOnly(3L);
    a.send("converged");
    assertThat(b.drainTexts()).containsExactly("a: converged");
    assertThat(c.drainTexts()).containsExactly("a: converged");
  }

  @Test
  void rolledBackMemberResyncsByExternalCommitAndReadsNewMessages() {
    roomOfThree();
    byte[] epoch1 = b.groups.load(gid()).orElseThrow();
    a.engine.rekey(ROOM);
    b.drain();
    c.drain();
    b.groups.save(gid(), epoch1); // a restored backup: b is one commit behind
    b.restart();
    assertThat(b.engine.epoch(ROOM)).isEqualTo(1);

    a.send("while b is behind");
    List<Outcome> atB = b.drain();
    assertThat(atB).singleElement().isInstanceOf(Outcome.Resynced.class);
    assertThat(((Outcome.Resynced) atB.get(0)).newEpoch()).isEqualTo(3);
    assertThat(a.drain()).singleElement().isInstanceOf(Outcome.Handshake.class);
    c.drain();
    assertThat(List.of(a.engine.epoch(ROOM), b.engine.epoch(ROOM), c.engine.epoch(ROOM))).containsOnly(3L);
    assertThat(a.engine.epoch(ROOM)).isEqualTo(relay.rooms.get(ROOM).epoch);

    a.send("after the resync");
    assertThat(b.drainTexts()).containsExactly("a: after the resync");
    b.send("b is back");
    assertThat(a.drainTexts()).containsExactly("b: b is back");
    assertThat(c.drainTexts()).containsExactly("a: after the resync", "b: b is back");
  }

  @Test
  void memberWithLostStateResyncs() {
    roomOfThree();
    b.groups.delete(gid());
    b.restart();
    assertThat(b.engine.hasGroup(ROOM)).isFalse();
    a.send("b lost everything");
    assertThat(b.drain()).singleElement().isInstanceOf(Outcome.Resynced.class);
    a.drain();
    c.drain();
    c.send("hi b");
    assertThat(b.drainTexts()).containsExactly("c: hi b");
  }

  @Test
  void newMemberReadsNoHistory() {
    a.publishKeyPackages(2);
    b.publishKeyPackages(2);
    c.publishKeyPackages(2);
    relay.createRoom(ROOM, a.id);
    a.engine.create(ROOM, List.of(b.id));
    b.drain();
    WireMessage before = a.send("before c joined");
    assertThat(b.drainTexts()).containsExactly("a: before c joined");

    a.engine.add(ROOM, List.of(c.id));
    b.drain();
    assertThat(c.drain()).singleElement().isEqualTo(new Outcome.Handshake(ROOM, 2, true, false));
    // The earlier message given to c: of a past epoch, unreadable.
    assertThat(c.engine.process(before)).isInstanceOf(Outcome.Ignored.class);
    c.engine.rollbackState();
    MlsGroup cGroup = MlsGroup.load(c.groups, gid()).orElseThrow();
    assertThatThrownBy(() -> cGroup.process(Bytes.wrap(before.payload())))
        .isInstanceOf(MessageRejectedException.class);
    a.send("after c joined");
    assertThat(c.drainTexts()).containsExactly("a: after c joined");
  }

  @Test
  void restartKeepsGroupsAndJoinsAWelcomeForAKeyPackagePublishedBefore() {
    a.publishKeyPackages(1);
    b.publishKeyPackages(3); // 3 + last resort
    assertThat(b.engine.storedKeyPackages()).isEqualTo(4);
    b.restart();
    relay.createRoom(ROOM, a.id);
    a.engine.create(ROOM, List.of(b.id));
    assertThat(b.drain()).singleElement().isEqualTo(new Outcome.Handshake(ROOM, 1, true, false));
    assertThat(b.engine.storedKeyPackages()).isEqualTo(3); // the used one is deleted

    a.restart();
    b.restart();
    assertThat(a.engine.hasGroup(ROOM)).isTrue();
    assertThat(b.engine.epoch(ROOM)).isEqualTo(1);
    a.send("after restarts");
    assertThat(b.drainTexts()).containsExactly("a: after restarts");
  }

  @Test
  void lastResortKeyPackageIsNotDeletedWhenUsed() {
    b.engine.lastResortKeyPackage();
    relay.lastResort.put(b.id, b.engine.lastResortKeyPackage());
    assertThat(b.engine.storedKeyPackages()).isEqualTo(2);
    relay.createRoom(ROOM, a.id);
    a.engine.create(ROOM, List.of(b.id));
    assertThat(b.drain()).singleElement().isInstanceOf(Outcome.Handshake.class);
    assertThat(b.engine.storedKeyPackages()).isEqualTo(2);
  }

  @Test
  void keyPackageOfAnotherDeviceIsRefused() {
    c.publishKeyPackages(1);
    relay.keyPackages.computeIfAbsent(b.id, k -> new ArrayDeque<>()).add(relay.keyPackages.get(c.id).poll());
    relay.createRoom(ROOM, a.id);
    assertThatThrownBy(() -> a.engine.create(ROOM, List.of(b.id)))
        .isInstanceOf(MlsRoomEngine.KeyPackageRefusedException.class)
        .hasMessageContaining("another identity");
    assertThat(a.engine.epoch(ROOM)).isZero();
    assertThat(a.engine.securityViolations(ROOM)).isEqualTo(1);
  }

  @Test
  void ownKeyPackagesCarryTheDeviceIdAndAnEndorsementOfTheLeafKeyByTheDeviceIdentity() throws Exception {
    Bytes kp = Bytes.wrap(b.engine.newKeyPackages(1).get(0));
    byte[] identity = MlsKeyPackage.identityOf(kp).toByteArray();
    byte[] sigKey = MlsKeyPackage.signatureKeyOf(kp).toByteArray();
    byte[] id = b.id.getBytes(StandardCharsets.UTF_8);
    // device id || 0x00 || 64-byte signature
    assertThat(identity).hasSize(id.length + 1 + 64);
    assertThat(java.util.Arrays.copyOfRange(identity, 0, id.length)).isEqualTo(id);
    assertThat(identity[id.length]).isZero();
    byte[] signature = java.util.Arrays.copyOfRange(identity, id.length + 1, identity.length);
    // over "agentvault-mls-endorsement-v1" || 0x00 || device id || leaf signature key
    java.io.ByteArrayOutputStream m = new java.io.ByteArrayOutputStream();
    m.write("agentvault-mls-endorsement-v1".getBytes(StandardCharsets.US_ASCII));
    m.write(0);
    m.write(id);
    m.write(sigKey);
    b.identity.publicIdentity().signingKey().verify(m.toByteArray(), signature);
    assertThatThrownBy(() -> a.identity.publicIdentity().signingKey().verify(m.toByteArray(), signature))
        .isInstanceOf(java.security.SignatureException.class);
    assertThat(MlsRoomEngine.deviceIdOf(MlsKeyPackage.identityOf(kp))).isEqualTo(b.id);
    assertThat(MlsRoomEngine.deviceIdOf(Bytes.wrap(id))).isNull();
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"plain device id", "no signature", "signed by another identity", "signed by another device",
          "endorsement of another key"})
  void relayForgedKeyPackageIsRefusedByAdd(String forgery) {
    Bytes forged = switch (forgery) {
      case "plain device id" -> MlsKeyPackage.generate(3, utf8(b.id)).toBytes();
      case "no signature" -> MlsKeyPackage.generate(3, MlsRoomEngine.credentialIdentity(b.id, new byte[64])).toBytes();
      case "signed by another identity" -> forgedKeyPackage(b.id, DeviceIdentity.generate());
      case "signed by another device" -> forgedKeyPackage(b.id, c.identity);
      default -> {
        // b's genuine endorsement, taken from a KeyPackage b published, on a key of the relay's.
        b.publishKeyPackages(1);
        Bytes genuine = MlsKeyPackage.identityOf(Bytes.wrap(relay.keyPackages.get(b.id).poll()));
        yield MlsKeyPackage.generate(3, key -> genuine, false).toBytes();
      }
    };
    relay.keyPackages.computeIfAbsent(b.id, k -> new ArrayDeque<>()).addFirst(forged.toByteArray());
    relay.createRoom(ROOM, a.id);
    assertThatThrownBy(() -> a.engine.create(ROOM, List.of(b.id)))
        .isInstanceOfSatisfying(MlsRoomEngine.KeyPackageRefusedException.class,
            e -> assertThat(e.deviceId()).isEqualTo(b.id));
    assertThat(a.engine.securityViolations(ROOM)).isEqualTo(1);
    assertThat(a.engine.epoch(ROOM)).isZero(); // created, nothing added
    assertThat(relay.rooms.get(ROOM).epoch).isZero();
    assertThat(b.relayQueue()).isEmpty(); // no Welcome

    // With a genuine KeyPackage the add goes through.
    b.publishKeyPackages(1);
    a.engine.add(ROOM, List.of(b.id));
    assertThat(b.drain()).singleElement().isEqualTo(new Outcome.Handshake(ROOM, 1, true, false));
  }

  @Test
  void welcomeWhoseTreeHasAnUnendorsedLeafIsRefusedByTheJoiner() {
    // A member (a) builds the group with the MLS API, skipping the check: b genuine, "c" forged.
    b.publishKeyPackages(1);
    Bytes bKp = Bytes.wrap(relay.keyPackages.get(b.id).poll());
    int storedAtB = b.engine.storedKeyPackages();
    MlsGroup ga = MlsGroup.create(endorsedKeyPackage(a), gid(), false);
    MlsGroup.PendingCommit add = ga.addMembers(List.of(bKp, forgedKeyPackage(c.id, DeviceIdentity.generate())));
    ga.mergePendingCommit();
    relay.createRoom(ROOM, a.id);
    WireMessage welcome = deliver(a, MlsRoomEngine.WELCOME, 1L, add.welcome().orElseThrow(), List.of(b.id));

    assertThatThrownBy(() -> b.engine.process(welcome))
        .isInstanceOf(RoomMessageRefusedException.class)
        .hasMessageContaining("Welcome")
        .hasMessageContaining(c.id);
    b.engine.rollbackState();
    assertThat(b.engine.securityViolations(ROOM)).isEqualTo(1);
    assertThat(b.engine.hasGroup(ROOM)).isFalse();
    assertThat(b.groups.list()).isEmpty();
    assertThat(b.engine.storedKeyPackages()).isEqualTo(storedAtB); // not used up

    // The same tree with c's genuine KeyPackage is joined.
    relay.keyPackages.clear();
    b.publishKeyPackages(1);
    c.publishKeyPackages(1);
    MlsGroup ga2 = MlsGroup.create(endorsedKeyPackage(a), gid(), false);
    MlsGroup.PendingCommit add2 = ga2.addMembers(List.of(
        Bytes.wrap(relay.keyPackages.get(b.id).poll()), Bytes.wrap(relay.keyPackages.get(c.id).poll())));
    ga2.mergePendingCommit();
    WireMessage welcome2 = deliver(a, MlsRoomEngine.WELCOME, 1L, add2.welcome().orElseThrow(), List.of(b.id));
    assertThat(b.engine.process(welcome2)).isEqualTo(new Outcome.Handshake(ROOM, 1, true, false));
    b.engine.commitState();
    assertThat(leaves(b)).containsExactly(a.id, b.id, c.id);
  }

  @Test
  void commitAddingAnUnendorsedLeafIsRefusedByTheOtherMembersAndSoIsTheResyncToIt() {
    roomOfThree();
    Agent d = new Agent("d");
    // a turns malicious: adds a leaf for d with a key of its own making, skipping the check.
    a.engine.close();
    MlsGroup ga = MlsGroup.load(a.groups, gid()).orElseThrow();
    MlsGroup.PendingCommit add = ga.addMembers(List.of(forgedKeyPackage(d.id, DeviceIdentity.generate())));
    deliver(a, MlsRoomEngine.COMMIT, ga.epoch(), add.message(), List.of());
    ga.mergePendingCommit();

    WireMessage commitAtB = b.relayQueue().poll();
    assertThatThrownBy(() -> b.engine.process(commitAtB))
        .isInstanceOf(RoomMessageRefusedException.class)
        .hasMessageContaining("commit: leaf 3")
        .hasMessageContaining(d.id);
    b.engine.rollbackState();
    for (Agent member : List.of(b, c)) {
      assertThat(member.drain()).isEmpty(); // refused (RoomMessageRefusedException), rolled back
      assertThat(member.engine.securityViolations(ROOM)).isEqualTo(1);
      assertThat(member.engine.epoch(ROOM)).isEqualTo(1);
      assertThat(leaves(member)).containsExactly(a.id, b.id, c.id);
    }

    // a goes on in its epoch and publishes its GroupInfo: b and c are behind, but a resync into a
    // tree with the forged leaf is refused too; no external commit is posted.
    relay.serviceFor(a.id).putGroupInfo(ROOM, ga.epoch(), ga.groupInfo().toByteArray());
    WireMessage m = deliver(a, MlsRoomEngine.APPLICATION, ga.epoch(), ga.encrypt(utf8("in the forged epoch")), List.of());
    WireMessage atB = b.relayQueue().poll();
    assertThat(atB).isSameAs(m);
    assertThatThrownBy(() -> b.engine.process(atB))
        .isInstanceOf(RoomMessageRefusedException.class)
        .hasMessageContaining("resync")
        .hasMessageContaining(d.id);
    b.engine.rollbackState();
    assertThat(b.engine.securityViolations(ROOM)).isEqualTo(2);
    assertThat(relay.resyncs).isZero();
    assertThat(b.engine.epoch(ROOM)).isEqualTo(1);
  }

  @Test
  void normalFlowsKeepEveryLeafEndorsed() {
    roomOfThree();
    a.engine.rekey(ROOM);
    b.drain();
    c.drain();
    Agent d = new Agent("d");
    d.publishKeyPackages(1);
    b.engine.add(ROOM, List.of(d.id));
    a.drain();
    c.drain();
    assertThat(d.drain()).singleElement().isEqualTo(new Outcome.Handshake(ROOM, 3, true, false));
    c.engine.remove(ROOM, List.of(a.id));
    relay.removeMember(ROOM, a.id);
    b.drain();
    d.drain();
    assertThat(leaves(d)).containsExactlyInAnyOrder(b.id, c.id, d.id);
    d.send("hi");
    assertThat(b.drainTexts()).containsExactly("d: hi");
    assertThat(c.drainTexts()).containsExactly("d: hi");
    for (Agent x : List.of(b, c, d)) {
      assertThat(x.engine.securityViolations(ROOM)).isZero();
      for (MlsGroup.Member mb : MlsGroup.load(x.groups, gid()).orElseThrow().members()) {
        String device = MlsRoomEngine.deviceIdOf(mb.identity());
        assertThat(device).isNotNull();
      }
    }
  }

  @Test
  void processThenRollbackLeavesTheStoredGroupUnchangedCommitPersists() {
    roomOfThree();
    WireMessage m = a.send("crash safety");
    WireMessage atB = b.relayQueue().poll();
    byte[] stored = b.groups.load(gid()).orElseThrow();

    Outcome first = b.engine.process(atB);
    assertThat(first).isInstanceOf(Outcome.Application.class);
    assertThat(b.groups.load(gid()).orElseThrow()).isEqualTo(stored);
    b.engine.rollbackState();
    assertThat(b.groups.load(gid()).orElseThrow()).isEqualTo(stored);

    // As after a crash before the inbox write: the same message decrypts again.
    Outcome again = b.engine.process(atB);
    assertThat(new String(((Outcome.Application) again).envelope(), StandardCharsets.UTF_8)).isEqualTo("crash safety");
    b.engine.commitState();
    assertThat(b.groups.load(gid()).orElseThrow()).isNotEqualTo(stored);
    b.restart();
    assertThat(b.engine.process(m)).isEqualTo(new Outcome.Ignored("duplicate"));
    b.engine.rollbackState();
  }

  @Test
  void forgedMessageIsRefusedCountedAndTriggersARekeyNotAResync() {
    roomOfThree();
    WireMessage m = a.send("genuine");
    b.relayQueue().clear();
    byte[] p = m.payload();
    p[p.length - 5] ^= 1;
    WireMessage forged = copy(m, p);
    long epochBefore = relay.rooms.get(ROOM).epoch;
    assertThatThrownBy(() -> b.engine.process(forged)).isInstanceOf(RoomMessageRefusedException.class);
    assertThat(b.engine.securityViolations(ROOM)).isEqualTo(1);
    b.engine.rollbackState(); // the scheduled rekey runs here
    assertThat(relay.rooms.get(ROOM).epoch).isEqualTo(epochBefore + 1);
    assertThat(b.engine.epoch(ROOM)).isEqualTo(epochBefore + 1);
    assertThat(relay.resyncs).isZero();
    a.drain();
    c.drain();
    assertThat(a.engine.epoch(ROOM)).isEqualTo(epochBefore + 1);
    b.send("rekeyed");
    assertThat(c.drainTexts()).containsExactly("b: rekeyed");
  }

  @Test
  void relayEventsScheduleRemovalAndRekey() {
    roomOfThree();
    relay.removeMember(ROOM, c.id); // e.g. revoked, or its trust tier dropped below the room minimum
    relay.event(ROOM, b.id, "member_removed", c.id);
    relay.event(ROOM, a.id, "member_removed", c.id);
    relay.event(ROOM, a.id, "rekey_requested", c.id);
    b.drain(); // b commits the removal at its commitState()
    assertThat(relay.rooms.get(ROOM).epoch).isEqualTo(2);
    a.drain(); // a lost the race; the removal is done, the rekey request satisfied by b's commit
    assertThat(relay.rooms.get(ROOM).epoch).isEqualTo(2);
    assertThat(relay.conflicts).isEqualTo(1);
    assertThat(a.engine.epoch(ROOM)).isEqualTo(2);
    assertThat(leaves(a)).containsExactlyInAnyOrder(a.id, b.id);
    a.send("without c");
    assertThat(b.drainTexts()).containsExactly("a: without c");
  }

  @Test
  void anExplicitRekeyIsCommittedByItsRequesterAloneAndARemovalsRekeyByTheRemoval() {
    roomOfThree();
    // a asked the relay for a rekey: b and c are told, a commits it
    relay.event(ROOM, a.id, b.id, "rekey_requested", a.id, "manual");
    relay.event(ROOM, a.id, c.id, "rekey_requested", a.id, "manual");
    assertThat(b.drain()).singleElement().isInstanceOf(Outcome.Ignored.class);
    assertThat(c.drain()).singleElement().isInstanceOf(Outcome.Ignored.class);
    assertThat(relay.rooms.get(ROOM).epoch).isEqualTo(1); // nobody but the requester commits
    a.engine.rekey(ROOM);
    b.drain();
    c.drain();
    assertThat(relay.rooms.get(ROOM).epoch).isEqualTo(2);
    assertThat(relay.conflicts).isZero();
    // the rekey_requested that comes with a removal is answered by the removal's commit alone
    relay.event(ROOM, "owner", b.id, "rekey_requested", c.id, "device_revoked");
    assertThat(b.drain()).singleElement().isInstanceOf(Outcome.Ignored.class);
    assertThat(relay.rooms.get(ROOM).epoch).isEqualTo(2);
  }

  // ---------------------------------------------------------------- helpers

  private List<String> leaves(Agent agent) {
    List<String> out = new ArrayList<>();
    for (MlsGroup.Member mb : MlsGroup.load(agent.groups, gid()).orElseThrow().members()) {
      out.add(MlsRoomEngine.deviceIdOf(mb.identity()));
    }
    return out;
  }

  private void roomOfThree() {
    a.publishKeyPackages(2);
    b.publishKeyPackages(2);
    c.publishKeyPackages(2);
    relay.createRoom(ROOM, a.id);
    a.engine.create(ROOM, List.of(b.id, c.id));
    assertThat(b.drain()).singleElement().isEqualTo(new Outcome.Handshake(ROOM, 1, true, false));
    assertThat(c.drain()).singleElement().isEqualTo(new Outcome.Handshake(ROOM, 1, true, false));
  }

  private static Bytes utf8(String s) {
    return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A KeyPackage for {@code deviceId} whose endorsement is by {@code signer} (the real device's or not). */
  private static Bytes forgedKeyPackage(String deviceId, DeviceIdentity signer) {
    return MlsKeyPackage.generate(
        3, key -> MlsRoomEngine.credentialIdentity(deviceId, signer.sign(MlsRoomEngine.endorsementMessage(deviceId, key))),
        false).toBytes();
  }

  /** A KeyPackage as the engine of {@code agent} makes it (for a member that uses the MLS API directly). */
  private static MlsKeyPackage endorsedKeyPackage(Agent agent) {
    return MlsKeyPackage.generate(
        3, key -> MlsRoomEngine.credentialIdentity(
            agent.id, agent.identity.sign(MlsRoomEngine.endorsementMessage(agent.id, key))),
        false);
  }

  private WireMessage deliver(Agent from, String type, Long epoch, Bytes payload, List<String> recipients) {
    try {
      return relay.deliver(from.id, ROOM, type, epoch, payload.toByteArray(), recipients);
    } catch (DeliveryService.EpochConflictException e) {
      throw new AssertionError(e);
    }
  }

  private static Bytes gid() {
    return Bytes.wrap(ROOM.getBytes(StandardCharsets.UTF_8));
  }

  private static WireMessage copy(WireMessage m, byte[] payload) {
    return new WireMessage(m.messageId(), m.senderDeviceId(), m.roomId(), m.conversationId(), m.messageType(),
        m.contentType(), m.clientMessageId(), m.epoch(), payload, m.createdAt());
  }

  /** A device: its stores survive {@link #restart()}, its engine does not. */
  final class Agent {
    final String id = UUID.randomUUID().toString();
    final String name;
    final GroupStore groups = GroupStore.inMemory();
    final MapFileStore files = new MapFileStore();
    final DeviceIdentity identity;
    MlsRoomEngine engine;

    Agent(String name) {
      this.name = name;
      identity = relay.enroll(id, name);
      restart();
    }

    void restart() {
      if (engine != null) {
        engine.close();
      }
      engine = new MlsRoomEngine(id, identity, relay.serviceFor(id), groups, files, this::drain);
    }

    void publishKeyPackages(int n) {
      relay.keyPackages.computeIfAbsent(id, k -> new ArrayDeque<>()).addAll(engine.newKeyPackages(n));
      relay.lastResort.put(id, engine.lastResortKeyPackage());
    }

    Deque<WireMessage> relayQueue() {
      return relay.queues.computeIfAbsent(id, k -> new ArrayDeque<>());
    }

    WireMessage send(String text) {
      RoomEngine.Sealed s = engine.seal(ROOM, text.getBytes(StandardCharsets.UTF_8));
      try {
        return relay.deliver(id, ROOM, MlsRoomEngine.APPLICATION, s.epoch(), s.payload(), List.of());
      } catch (DeliveryService.EpochConflictException e) {
        throw new AssertionError(e);
      }
    }

    /** The runtime's inbound loop: process, commit, in relay order. */
    List<Outcome> drain() {
      List<Outcome> out = new ArrayList<>();
      Deque<WireMessage> q = relayQueue();
      while (!q.isEmpty()) {
        WireMessage m = q.poll();
        try {
          out.add(engine.process(m));
          engine.commitState();
        } catch (RoomMessageRefusedException e) {
          engine.rollbackState();
        }
      }
      return out;
    }

    List<String> drainTexts() {
      List<String> out = new ArrayList<>();
      for (Outcome o : drain()) {
        if (o instanceof Outcome.Application app) {
          out.add(relay.names.get(app.senderDeviceId()) + ": " + new String(app.envelope(), StandardCharsets.UTF_8));
        }
      }
      return out;
    }
  }

  /** What the relay does for rooms (docs/protocol.md), in memory. */
  static final class FakeRelay {
    static final class Room {
      long epoch;
      final Set<String> members = new LinkedHashSet<>();
      byte[] groupInfo;
      long groupInfoEpoch = -1;
    }

    final Map<String, Room> rooms = new HashMap<>();
    final Map<String, Deque<WireMessage>> queues = new HashMap<>();
    final Map<String, Deque<byte[]>> keyPackages = new HashMap<>();
    final Map<String, byte[]> lastResort = new HashMap<>();
    final Map<String, PublicIdentity> identities = new HashMap<>();
    final Map<String, String> names = new HashMap<>();
    long nextId = 1;
    int conflicts;
    int resyncs;

    DeviceIdentity enroll(String deviceId, String name) {
      DeviceIdentity d = DeviceIdentity.generate();
      identities.put(deviceId, d.publicIdentity());
      names.put(deviceId, name);
      return d;
    }

    void createRoom(String roomId, String creator) {
      Room r = new Room();
      r.members.add(creator);
      rooms.put(roomId, r);
    }

    void removeMember(String roomId, String deviceId) {
      rooms.get(roomId).members.remove(deviceId);
    }

    void event(String roomId, String recipient, String event, String deviceId) {
      event(roomId, "owner", recipient, event, deviceId, null);
    }

    void event(String roomId, String sender, String recipient, String event, String deviceId, String reason) {
      String json = "{\"event\":\"" + event + "\",\"room_id\":\"" + roomId + "\",\"device_id\":\"" + deviceId + "\""
          + (reason == null ? "" : ",\"reason\":\"" + reason + "\"") + "}";
      queues.computeIfAbsent(recipient, k -> new ArrayDeque<>())
          .add(new WireMessage(nextId++, sender, roomId, null, "event", "application/vnd.agentvault.event+json",
              null, null, json.getBytes(StandardCharsets.UTF_8), Instant.now()));
    }

    WireMessage deliver(String sender, String roomId, String type, Long epoch, byte[] payload, List<String> recipients)
        throws DeliveryService.EpochConflictException {
      Room r = rooms.get(roomId);
      if (r == null || !r.members.contains(sender)) {
        throw new IllegalStateException("404 room not found");
      }
      if (type.equals(MlsRoomEngine.COMMIT)) {
        if (epoch != r.epoch) {
          conflicts++;
          throw new DeliveryService.EpochConflictException(r.epoch);
        }
        r.epoch++;
        if (MlsGroup.epochOf(Bytes.wrap(payload)).isPresent() && isExternal(payload)) {
          resyncs++;
        }
      } else if (!type.equals(MlsRoomEngine.WELCOME) && epoch != null && epoch != r.epoch) {
        conflicts++;
        throw new DeliveryService.EpochConflictException(r.epoch);
      }
      WireMessage m = new WireMessage(nextId++, sender, roomId, null, type, MlsRoomEngine.CONTENT_TYPE,
          UUID.randomUUID().toString(), epoch, payload, Instant.now());
      List<String> to;
      if (type.equals(MlsRoomEngine.WELCOME)) {
        r.members.addAll(recipients); // invited and joined, as the runtime does on a Welcome
        to = recipients;
      } else {
        to = new ArrayList<>(r.members);
      }
      for (String d : to) {
        if (!d.equals(sender)) {
          queues.computeIfAbsent(d, k -> new ArrayDeque<>()).add(m);
        }
      }
      return m;
    }

    private static boolean isExternal(byte[] commit) {
      // PublicMessage: version(2) wire_format(2) group_id<V> epoch(8) sender_type(1): new_member_commit = 4
      int gidLen = commit[4] & 0xff; // group ids here are < 64 bytes: one-byte varint
      return commit[4 + 1 + gidLen + 8] == 4;
    }

    Optional<byte[]> groupInfo(String roomId, String asker) {
      Room r = rooms.get(roomId);
      return r == null || !r.members.contains(asker) || r.groupInfo == null
          ? Optional.empty() : Optional.of(r.groupInfo.clone());
    }

    DeliveryService serviceFor(String self) {
      return new DeliveryService() {
        @Override
        public long post(String roomId, String messageType, Long epoch, byte[] payload, List<String> recipients)
            throws EpochConflictException {
          return deliver(self, roomId, messageType, epoch, payload, recipients).messageId();
        }

        @Override
        public Optional<byte[]> keyPackage(String deviceId) {
          Deque<byte[]> q = keyPackages.get(deviceId);
          if (q != null && !q.isEmpty()) {
            return Optional.of(q.poll());
          }
          return Optional.ofNullable(lastResort.get(deviceId));
        }

        @Override
        public Optional<byte[]> groupInfo(String roomId) {
          return FakeRelay.this.groupInfo(roomId, self);
        }

        @Override
        public void putGroupInfo(String roomId, long epoch, byte[] groupInfo) {
          Room r = rooms.get(roomId);
          if (r.members.contains(self) && epoch >= r.groupInfoEpoch) {
            r.groupInfo = groupInfo.clone();
            r.groupInfoEpoch = epoch;
          }
        }

        @Override
        public Optional<PublicIdentity> deviceIdentity(String deviceId) {
          return Optional.ofNullable(identities.get(deviceId));
        }
      };
    }
  }

  /** An {@link EncryptedFileStore} in memory (the engine's KeyPackage store in these tests). */
  static final class MapFileStore implements EncryptedFileStore {
    private final Map<String, byte[]> blobs = new TreeMap<>();

    @Override
    public String purpose() {
      return "mls-key-packages";
    }

    @Override
    public void put(String name, byte[] plaintext) {
      blobs.put(name, plaintext.clone());
    }

    @Override
    public Optional<byte[]> get(String name) {
      return Optional.ofNullable(blobs.get(name)).map(byte[]::clone);
    }

    @Override
    public boolean delete(String name) {
      return blobs.remove(name) != null;
    }

    @Override
    public List<String> list() {
      return List.copyOf(blobs.keySet());
    }
  }
}
