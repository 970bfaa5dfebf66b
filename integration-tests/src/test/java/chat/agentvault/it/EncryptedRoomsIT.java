package chat.agentvault.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.channel.ClientHooks;
import chat.agentvault.channel.ClientState;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.MessageType;
import chat.agentvault.channel.Room;
import chat.agentvault.channel.RoomOptions;
import chat.agentvault.channel.SendResult;
import chat.agentvault.identity.Argon2Params;
import chat.agentvault.identity.DeviceKeyStore;
import chat.agentvault.identity.KeyProtection;
import chat.agentvault.mls.GroupStore;
import chat.agentvault.mls.Inbound;
import chat.agentvault.mls.MlsGroup;
import chat.agentvault.relay.TestRelay;
import chat.agentvault.relay.TestRelayExtension;
import chat.agentvault.transport.SocketHooks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7's proofs for encrypted (MLS) rooms: the SDK against a real relay on embedded PostgreSQL,
 * real crypto, one relay for the class.
 */
@ExtendWith(TestRelayExtension.class)
class EncryptedRoomsIT {
  static TestRelay relay;
  @TempDir Path root;

  // ------------------------------------------------------------------ Project Alpha

  @Test
  void projectAlphaOwnerAndThreeAgentsExchangeRouteRepliesAndARemovedAgentReadsNothingMore() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle planner = Agents.agent(relay, root, owner, "planner");
    Agents.Handle coder = Agents.agent(relay, root, owner, "coder");
    Agents.Handle reviewer = Agents.agent(relay, root, owner, "reviewer");
    List<Agents.Handle> agents = List.of(planner, coder, reviewer);

    Room alpha = owner.client().createRoom("Project Alpha",
        RoomOptions.encrypted().members(planner.id(), coder.id(), reviewer.id()));
    assertThat(alpha.encrypted()).isTrue();
    for (Agents.Handle a : agents) {
      AgentClientIT.awaitJoined(owner, alpha.roomId(), a.id());
    }

    // everyone exchanges messages
    owner.client().sendToRoom(alpha.roomId(), "kickoff");
    for (Agents.Handle a : agents) {
      InboundMessage m = a.next();
      assertThat(m.text()).isEqualTo("kickoff");
      assertThat(m.roomId()).isEqualTo(alpha.roomId());
      assertThat(m.senderDeviceId()).isEqualTo(owner.id());
      assertThat(m.encrypted()).isTrue();
    }
    for (Agents.Handle a : agents) {
      SendResult r = a.client().send("ack from " + a.client().deviceId().orElseThrow()); // sticky: Alpha
      assertThat(r.stored()).isTrue();
      assertThat(r.room()).contains(alpha.roomId());
      assertThat(owner.next().text()).isEqualTo("ack from " + a.id());
      for (Agents.Handle other : agents) {
        if (other != a) {
          assertThat(other.next().text()).isEqualTo("ack from " + a.id());
        }
      }
    }

    // a reply goes back to the room the agent last heard from
    Room side = owner.client().createRoom("Side", RoomOptions.encrypted().members(planner.id()));
    AgentClientIT.awaitJoined(owner, side.roomId(), planner.id());
    owner.client().sendToRoom(side.roomId(), "side question");
    assertThat(planner.next().roomId()).isEqualTo(side.roomId());
    assertThat(planner.client().send("side answer").room()).contains(side.roomId());
    InboundMessage sideAnswer = owner.next();
    assertThat(sideAnswer.roomId()).isEqualTo(side.roomId());
    assertThat(sideAnswer.text()).isEqualTo("side answer");
    owner.client().sendToRoom(alpha.roomId(), "back to alpha");
    for (Agents.Handle a : agents) {
      assertThat(a.next().text()).isEqualTo("back to alpha");
    }
    assertThat(planner.client().send("alpha answer").room()).contains(alpha.roomId());
    assertThat(owner.next().roomId()).isEqualTo(alpha.roomId());
    assertThat(coder.next().text()).isEqualTo("alpha answer");
    assertThat(reviewer.next().text()).isEqualTo("alpha answer");

    // the reviewer is removed: its group state from before the removal is kept for the proof
    long epochBefore = ClientHooks.epoch(reviewer.client(), alpha.roomId());
    Path snapshot = snapshot(reviewer.dir());
    owner.client().removeMember(alpha.roomId(), reviewer.id());
    assertThat(ClientHooks.epoch(owner.client(), alpha.roomId())).isEqualTo(epochBefore + 1);
    SendResult secret = owner.client().sendToRoom(alpha.roomId(), "after the removal");
    assertThat(secret.stored()).isTrue();
    assertThat(planner.next().text()).isEqualTo("after the removal");
    assertThat(coder.next().text()).isEqualTo("after the removal");
    SendResult fromCoder = coder.client().sendToRoom(alpha.roomId(), "coder after the removal");
    assertThat(fromCoder.stored()).isTrue();
    assertThat(owner.next().text()).isEqualTo("coder after the removal");
    assertThat(planner.next().text()).isEqualTo("coder after the removal");
    // its listeners get nothing, and its engine dropped the group
    assertThat(reviewer.inbox().poll(2, TimeUnit.SECONDS)).isNull();
    assertThat(ClientHooks.epoch(reviewer.client(), alpha.roomId())).isEqualTo(-1);

    // the ciphertext the relay holds, against the reviewer's last group state
    Bytes groupId = Bytes.wrap(alpha.roomId().getBytes(StandardCharsets.UTF_8));
    byte[] lastState = groupRecord(snapshot, groupId);
    byte[] stored = payload(secret.messageId());
    MlsGroup before = load(groupId, lastState);
    assertThat(before.epoch()).isEqualTo(epochBefore);
    assertThatThrownBy(() -> before.process(Bytes.wrap(stored))).isInstanceOf(MessageRejectedException.class);
    // even after applying the removal commit the relay stored: it learns it is out, and no key
    byte[] removal = lastCommitBefore(alpha.roomId(), secret.messageId());
    MlsGroup after = load(groupId, lastState);
    Inbound in = after.process(Bytes.wrap(removal));
    assertThat(in).isInstanceOf(Inbound.StagedCommit.class);
    assertThat(((Inbound.StagedCommit) in).removesMe()).isTrue();
    after.merge((Inbound.StagedCommit) in);
    assertThat(after.isActive()).isFalse();
    assertThatThrownBy(() -> after.process(Bytes.wrap(stored))).isInstanceOf(RuntimeException.class);
    assertThatThrownBy(() -> load(groupId, lastState).process(Bytes.wrap(payload(fromCoder.messageId()))))
        .isInstanceOf(MessageRejectedException.class);

    for (Agents.Handle a : agents) {
      a.client().close();
    }
    owner.client().close();
  }

  @Test
  void sendDirectBetweenAgentsUsesOneTwoPartyMlsRoom() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle a = Agents.agent(relay, root, owner, "a");
    Agents.Handle b = Agents.agent(relay, root, owner, "b");
    SendResult first = a.client().sendDirect(b.id(), "psst");
    assertThat(first.stored()).isTrue();
    assertThat(first.room()).isPresent();
    InboundMessage m = b.next();
    assertThat(m.text()).isEqualTo("psst");
    assertThat(m.roomId()).isEqualTo(first.roomId());
    assertThat(m.encrypted()).isTrue();
    SendResult back = b.client().sendDirect(a.id(), "heard you");
    assertThat(back.room()).contains(first.roomId()); // the same room from the other side
    assertThat(a.next().text()).isEqualTo("heard you");
    assertThat(a.client().sendDirect(b.id(), "again").room()).contains(first.roomId());
    assertThat(b.next().text()).isEqualTo("again");
    assertThat(a.client().rooms()).extracting(Room::roomId).containsOnlyOnce(first.roomId());
    // the owner conversation stays on the ratchet
    SendResult toOwner = a.client().sendDirect(owner.id(), "to the owner");
    assertThat(toOwner.room()).isEmpty();
    assertThat(toOwner.conversation()).isPresent();
    assertThat(owner.next().text()).isEqualTo("to the owner");
    a.client().close();
    b.client().close();
    owner.client().close();
  }

  // ------------------------------------------------------------------ restart, offline, socket loss

  @Test
  void restartKeepsRoomsStickyRoomAndSessionsAndCatchesUpInOrder() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    Room room = encryptedRoom(owner, agent);
    owner.client().sendDirect(agent.id(), "direct hello"); // a ratchet session
    assertThat(agent.next().text()).isEqualTo("direct hello");
    owner.client().sendToRoom(room.roomId(), "room hello");
    assertThat(agent.next().text()).isEqualTo("room hello");
    assertThat(agent.client().stickyRoom()).contains(room.roomId());
    long epoch = ClientHooks.epoch(agent.client(), room.roomId());

    agent.client().close(); // the process is gone; only the data directory remains
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      owner.client().sendToRoom(room.roomId(), "room " + i);
      sent.add("room " + i);
      owner.client().sendDirect(agent.id(), "direct " + i); // continues the session: no new X3DH
      sent.add("direct " + i);
    }
    Agents.Handle back = Agents.restart(relay, agent, "analyst");
    List<String> got = new ArrayList<>();
    for (int i = 0; i < sent.size(); i++) {
      got.add(back.next().text());
    }
    assertThat(got).containsExactlyElementsOf(sent);
    assertThat(back.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    assertThat(back.client().stickyRoom()).contains(room.roomId());
    assertThat(back.client().rooms()).extracting(Room::roomId).contains(room.roomId());
    assertThat(ClientHooks.epoch(back.client(), room.roomId())).isEqualTo(epoch);

    assertThat(back.client().send("after restart").room()).contains(room.roomId());
    assertThat(owner.next().text()).isEqualTo("after restart");
    SendResult d = back.client().sendDirect(owner.id(), "direct after restart");
    assertThat(d.conversation()).isPresent();
    assertThat(owner.next().text()).isEqualTo("direct after restart");
    back.client().close();
    owner.client().close();
  }

  @Test
  void offlineAgentReceivesAHundredRoomMessagesInOrderOnce() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    Room room = encryptedRoom(owner, agent);
    owner.client().sendToRoom(room.roomId(), "first");
    assertThat(agent.next().text()).isEqualTo("first");
    agent.client().close();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      assertThat(owner.client().sendToRoom(room.roomId(), "m" + i).stored()).isTrue();
      expected.add("m" + i);
    }
    Agents.Handle back = Agents.restart(relay, agent, "analyst");
    List<String> got = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      InboundMessage m = back.next();
      assertThat(m.roomId()).isEqualTo(room.roomId());
      got.add(m.text());
    }
    assertThat(got).containsExactlyElementsOf(expected);
    assertThat(back.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    back.client().close();
    owner.client().close();
  }

  @Test
  void roomMessagesArriveByPollingWhileTheSocketIsCut() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    Room room = encryptedRoom(owner, agent);
    awaitState(agent, ClientState.ONLINE); // the WebSocket carries the stream
    SocketHooks.cut(ClientHooks.socket(agent.client()), true);
    for (int i = 0; i < 5; i++) {
      owner.client().sendToRoom(room.roomId(), "while cut " + i);
    }
    for (int i = 0; i < 5; i++) {
      assertThat(agent.next().text()).isEqualTo("while cut " + i);
    }
    assertThat(agent.client().state()).isNotEqualTo(ClientState.ONLINE);
    SocketHooks.cut(ClientHooks.socket(agent.client()), false);
    awaitState(agent, ClientState.ONLINE);
    owner.client().sendToRoom(room.roomId(), "after");
    assertThat(agent.next().text()).isEqualTo("after");
    assertThat(agent.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    agent.client().close();
    owner.client().close();
  }

  // ------------------------------------------------------------------ crash, desync, revocation

  void crashInARoomBetweenDecryptAndAck(String point) throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    Room room = encryptedRoom(owner, agent);
    owner.client().sendToRoom(room.roomId(), "before");
    assertThat(agent.next().text()).isEqualTo("before");
    ClientHooks.flush(agent.client());
    ClientHooks.crashAt(agent.client(), point);
    owner.client().sendToRoom(room.roomId(), "during");
    owner.client().sendToRoom(room.roomId(), "later");
    Thread.sleep(1500); // the crash happens; nothing more is processed or acknowledged
    assertThat(agent.inbox()).isEmpty();
    Agents.Handle back = Agents.restart(relay, agent, "analyst");
    assertThat(back.next().text()).isEqualTo("during");
    assertThat(back.next().text()).isEqualTo("later");
    assertThat(back.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    // the group went on from the stored state: both directions still work, no resync was needed
    owner.client().sendToRoom(room.roomId(), "still");
    assertThat(back.next().text()).isEqualTo("still");
    back.client().send("fine");
    assertThat(owner.next().text()).isEqualTo("fine");
    assertThat(ClientHooks.epoch(back.client(), room.roomId())).isEqualTo(ClientHooks.epoch(owner.client(), room.roomId()));
    back.client().close();
    owner.client().close();
  }

  @Test
  void crashInARoomAfterDecryptBeforeTheInboxWriteLosesNothingAndDuplicatesNothing() throws Exception {
    crashInARoomBetweenDecryptAndAck("AFTER_DECRYPT");
  }

  @Test
  void crashInARoomAfterTheInboxWriteBeforeDispatchLosesNothingAndDuplicatesNothing() throws Exception {
    crashInARoomBetweenDecryptAndAck("AFTER_INBOX");
  }

  @Test
  void rolledBackGroupStateRecoversByExternalCommitAndReadsNewMessages() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    Room room = encryptedRoom(owner, agent);
    owner.client().sendToRoom(room.roomId(), "at the first epoch");
    assertThat(agent.next().text()).isEqualTo("at the first epoch");
    ClientHooks.flush(agent.client());
    long atBackup = ClientHooks.epoch(agent.client(), room.roomId());
    Path backup = snapshot(agent.dir()); // the group state at epoch e

    owner.client().rekey(room.roomId()); // epoch e + 1
    owner.client().sendToRoom(room.roomId(), "after the rekey");
    assertThat(agent.next().text()).isEqualTo("after the rekey");
    long rekeyed = ClientHooks.epoch(agent.client(), room.roomId());
    agent.client().close();
    restoreGroups(backup, agent.dir()); // a restored backup: one commit behind
    Agents.Handle back = Agents.restart(relay, agent, "analyst");
    assertThat(rekeyed).isEqualTo(atBackup + 1); // one commit: the requester's
    assertThat(ClientHooks.epoch(back.client(), room.roomId())).isEqualTo(atBackup);

    owner.client().sendToRoom(room.roomId(), "unreadable for a member one commit behind");
    InboundMessage resync = back.next();
    assertThat(resync.messageType()).isEqualTo(MessageType.RESYNC);
    assertThat(resync.roomId()).isEqualTo(room.roomId());
    assertThat(resync.senderDeviceId()).isEqualTo(back.id());
    assertThat(resync.data()).containsKey("epoch");
    assertThat(back.client().stickyRoom()).contains(room.roomId()); // unchanged by the event
    assertThat(ClientHooks.epoch(back.client(), room.roomId())).isEqualTo(rekeyed + 1); // its external commit

    // the owner's next send meets the external commit (409), catches up, seals again
    SendResult r = owner.client().sendToRoom(room.roomId(), "after the resync");
    assertThat(r.stored()).isTrue();
    assertThat(back.next().text()).isEqualTo("after the resync");
    back.client().sendToRoom(room.roomId(), "back in");
    assertThat(owner.next().text()).isEqualTo("back in");
    assertThat(back.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    back.client().close();
    owner.client().close();
  }

  @Test
  void aRevokedMemberIsRemovedFromItsRoomsAndTheRoomsAdvanceTheirEpoch() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle a = Agents.agent(relay, root, owner, "a");
    Agents.Handle b = Agents.agent(relay, root, owner, "b");
    Agents.Handle c = Agents.agent(relay, root, owner, "c");
    Room r1 = owner.client().createRoom("one", RoomOptions.encrypted().members(a.id(), b.id(), c.id()));
    Room r2 = owner.client().createRoom("two", RoomOptions.encrypted().members(a.id(), c.id()));
    for (Agents.Handle h : List.of(a, b, c)) {
      AgentClientIT.awaitJoined(owner, r1.roomId(), h.id());
    }
    AgentClientIT.awaitJoined(owner, r2.roomId(), a.id());
    AgentClientIT.awaitJoined(owner, r2.roomId(), c.id());
    long e1 = ClientHooks.epoch(owner.client(), r1.roomId());
    long e2 = ClientHooks.epoch(owner.client(), r2.roomId());
    Path cBefore = snapshot(c.dir());

    owner.client().owner().revoke(c.id());
    // the members told by the relay commit the removal (one wins); every group moves on
    awaitEpoch(List.of(owner, a, b), r1.roomId(), e1 + 1);
    awaitEpoch(List.of(owner, a), r2.roomId(), e2 + 1);
    for (Room r : List.of(r1, r2)) {
      Room now = owner.client().rooms().stream().filter(x -> x.roomId().equals(r.roomId())).findFirst().orElseThrow();
      assertThat(now.members()).extracting(Room.Member::deviceId).doesNotContain(c.id());
      assertThat(now.epoch()).isGreaterThan(r == r1 ? e1 : e2);
    }
    SendResult s1 = a.client().sendToRoom(r1.roomId(), "without c");
    assertThat(s1.stored()).isTrue();
    assertThat(owner.next().text()).isEqualTo("without c");
    assertThat(b.next().text()).isEqualTo("without c");
    SendResult s2 = owner.client().sendToRoom(r2.roomId(), "two without c");
    assertThat(a.next().text()).isEqualTo("two without c");
    // c's last group states cannot read either
    for (var x : List.of(new Object[] {r1, s1}, new Object[] {r2, s2})) {
      Bytes gid = Bytes.wrap(((Room) x[0]).roomId().getBytes(StandardCharsets.UTF_8));
      byte[] ct = payload(((SendResult) x[1]).messageId());
      assertThatThrownBy(() -> load(gid, groupRecord(cBefore, gid)).process(Bytes.wrap(ct)))
          .isInstanceOf(MessageRejectedException.class);
    }
    for (Agents.Handle h : List.of(a, b, c)) {
      h.client().close();
    }
    owner.client().close();
  }

  // ------------------------------------------------------------------ helpers

  private static Room encryptedRoom(Agents.Handle owner, Agents.Handle agent) throws InterruptedException {
    Room room = owner.client().createRoom("room", RoomOptions.encrypted().members(agent.id()));
    AgentClientIT.awaitJoined(owner, room.roomId(), agent.id());
    return room;
  }

  private static void awaitState(Agents.Handle h, ClientState s) throws InterruptedException {
    for (int i = 0; i < 200 && h.client().state() != s; i++) {
      Thread.sleep(100);
    }
    assertThat(h.client().state()).isEqualTo(s);
  }

  private static void awaitEpoch(List<Agents.Handle> members, String roomId, long atLeast) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      long min = Long.MAX_VALUE;
      long max = Long.MIN_VALUE;
      for (Agents.Handle h : members) {
        long e = ClientHooks.epoch(h.client(), roomId);
        min = Math.min(min, e);
        max = Math.max(max, e);
      }
      if (min >= atLeast && min == max) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("room " + roomId + " did not reach epoch " + atLeast + " at every member");
  }

  /** A copy of a data directory (its files are written atomically, so a copy while running is consistent per file). */
  private Path snapshot(Path dir) throws IOException {
    Path to = root.resolve("snapshot-" + UUID.randomUUID());
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path t = to.resolve(dir.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    return to;
  }

  /** Puts the group states of a snapshot back (the rest of the data directory stays current). */
  private static void restoreGroups(Path snapshot, Path dir) throws IOException {
    Path from = snapshot.resolve("files").resolve("mls-groups");
    Path to = dir.resolve("files").resolve("mls-groups");
    try (Stream<Path> files = Files.list(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.copy(p, to.resolve(p.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** The stored (encrypted) group record of a data directory, opened with the agent's passphrase. */
  private static byte[] groupRecord(Path dataDir, Bytes groupId) {
    try (KeyProtection p = KeyProtection.passphrase("correct horse".toCharArray(), Argon2Params.insecureForTesting());
        DeviceKeyStore keys = DeviceKeyStore.open(dataDir, p)) {
      return GroupStore.encrypted(keys.fileStore("mls-groups")).load(groupId).orElseThrow();
    }
  }

  private static MlsGroup load(Bytes groupId, byte[] record) {
    GroupStore mem = GroupStore.inMemory();
    mem.save(groupId, record);
    return MlsGroup.load(mem, groupId).orElseThrow();
  }

  /** The payload the relay stored for a message, read as the database administrator. */
  private static byte[] payload(long messageId) throws Exception {
    return relay.database().asAdmin(null, c -> {
      try (PreparedStatement p = c.prepareStatement("select payload from messages where id = ?")) {
        p.setLong(1, messageId);
        ResultSet rs = p.executeQuery();
        assertThat(rs.next()).isTrue();
        return rs.getBytes(1);
      }
    });
  }

  /** The last commit the relay stored in a room before {@code messageId}. */
  private static byte[] lastCommitBefore(String roomId, long messageId) throws Exception {
    return relay.database().asAdmin(null, c -> {
      try (PreparedStatement p = c.prepareStatement("select payload from messages where room_id = ?"
          + " and message_type = 'mls_commit' and id < ? order by id desc limit 1")) {
        p.setObject(1, UUID.fromString(roomId));
        p.setLong(2, messageId);
        ResultSet rs = p.executeQuery();
        assertThat(rs.next()).isTrue();
        return rs.getBytes(1);
      }
    });
  }
}
