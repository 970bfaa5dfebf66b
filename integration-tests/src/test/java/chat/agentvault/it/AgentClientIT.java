package chat.agentvault.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.channel.ClientHooks;
import chat.agentvault.channel.ClientState;
import chat.agentvault.channel.InboundMessage;
import chat.agentvault.channel.MessageType;
import chat.agentvault.channel.Owner;
import chat.agentvault.channel.Room;
import chat.agentvault.channel.RoomOptions;
import chat.agentvault.channel.SendOptions;
import chat.agentvault.channel.SendResult;
import chat.agentvault.relay.TestRelay;
import chat.agentvault.relay.TestRelayExtension;
import chat.agentvault.transport.SocketHooks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The channel API (AgentClient) against a real relay on embedded PostgreSQL. */
@ExtendWith(TestRelayExtension.class)
class AgentClientIT {
  static TestRelay relay;
  @TempDir Path root;

  @Test
  void ownerEnrollsWithTheBootstrapTokenAndApprovesAnAgentByFingerprint() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    assertThat(owner.client().role()).contains("owner");
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    assertThat(agent.client().role()).contains("agent");
    List<Owner.Device> devices = owner.client().owner().devices();
    assertThat(devices).extracting(Owner.Device::deviceId).contains(owner.id(), agent.id());
    Owner.Device d = devices.stream().filter(x -> x.deviceId().equals(agent.id())).findFirst().orElseThrow();
    assertThat(d.state()).isEqualTo("ACTIVE");
    assertThat(d.fingerprint()).isEqualTo(agent.client().fingerprint().full());
    assertThatThrownBy(() -> agent.client().owner()).isInstanceOf(IllegalStateException.class);
    agent.client().close();
    owner.client().close();
  }

  @Test
  void ownerAndAgentExchangeRatchetMessagesBothWays() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    SendResult r = owner.client().sendDirect(agent.id(), "hello agent");
    assertThat(r.stored()).isTrue();
    assertThat(r.duplicate()).isFalse();
    InboundMessage m = agent.next();
    assertThat(m.text()).isEqualTo("hello agent");
    assertThat(m.senderDeviceId()).isEqualTo(owner.id());
    assertThat(m.senderName()).isEqualTo("owner");
    assertThat(m.conversationId()).isNotNull();
    assertThat(m.roomId()).isNull();
    assertThat(m.encrypted()).isTrue();
    assertThat(m.toString()).doesNotContain("hello");

    SendResult back = agent.client().send("hello owner"); // no sticky room: the owner conversation
    assertThat(back.stored()).isTrue();
    InboundMessage m2 = owner.next();
    assertThat(m2.text()).isEqualTo("hello owner");
    assertThat(m2.senderDeviceId()).isEqualTo(agent.id());

    // structured types inside the envelope, span ids, both ways again on the established session
    SendResult q = owner.client().sendDirect(agent.id(), "deploy?", SendOptions.builder()
        .messageType(MessageType.DECISION_REQUEST).data(Map.of("question", "deploy?", "options", List.of("yes", "no")))
        .build());
    InboundMessage req = agent.next();
    assertThat(req.messageType()).isEqualTo(MessageType.DECISION_REQUEST);
    assertThat(req.data()).containsEntry("options", List.of("yes", "no"));
    assertThat(req.spanId()).isEqualTo(q.spanId());
    agent.client().sendDirect(owner.id(), "", SendOptions.builder().messageType(MessageType.DECISION_RESPONSE)
        .parentSpanId(req.spanId()).data(Map.of("choice", "yes")).build());
    InboundMessage resp = owner.next();
    assertThat(resp.parentSpanId()).isEqualTo(q.spanId());
    assertThat(resp.data()).containsEntry("choice", "yes");

    // an idempotent retry: the same client_message_id is stored once
    SendOptions fixed = SendOptions.builder().clientMessageId("retry-1").build();
    SendResult a = owner.client().sendDirect(agent.id(), "once", fixed);
    SendResult b = owner.client().sendDirect(agent.id(), "once", fixed);
    assertThat(b.duplicate()).isTrue();
    assertThat(b.messageId()).isEqualTo(a.messageId());
    assertThat(agent.next().text()).isEqualTo("once");
    assertThat(agent.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    agent.client().close();
    owner.client().close();
  }

  /** Sticky routing persisted across a restart, in a plaintext or an encrypted (MLS) room. */
  void stickyRouting(RoomOptions mode) throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    Room room = owner.client().createRoom("Project Alpha", mode.members(agent.id()));
    awaitJoined(owner, room.roomId(), agent.id());
    owner.client().sendToRoom(room.roomId(), "status?");
    InboundMessage m = agent.next();
    assertThat(m.roomId()).isEqualTo(room.roomId());
    assertThat(agent.client().stickyRoom()).contains(room.roomId());

    agent = Agents.restart(relay, agent, "analyst");
    assertThat(agent.client().stickyRoom()).contains(room.roomId());
    SendResult r = agent.client().send("all green");
    assertThat(r.room()).contains(room.roomId());
    InboundMessage got = owner.next();
    assertThat(got.roomId()).isEqualTo(room.roomId());
    assertThat(got.text()).isEqualTo("all green");
    assertThat(got.senderDeviceId()).isEqualTo(agent.id());

    // sendToRoom elsewhere does not move the sticky room unless asked
    Room other = owner.client().createRoom("Other", mode.members(agent.id()));
    awaitJoined(owner, other.roomId(), agent.id());
    agent.client().sendToRoom(other.roomId(), "fyi");
    assertThat(agent.client().stickyRoom()).contains(room.roomId());
    agent.client().sendToRoom(other.roomId(), "moving", SendOptions.builder().updateStickyRoom(true).build());
    assertThat(agent.client().stickyRoom()).contains(other.roomId());
    agent.client().close();
    owner.client().close();
  }

  @Test
  void stickyRoutingPersistsAcrossRestartInPlaintextRooms() throws Exception {
    stickyRouting(RoomOptions.plaintext());
  }

  @Test
  void stickyRoutingPersistsAcrossRestartInEncryptedRooms() throws Exception {
    stickyRouting(RoomOptions.encrypted());
  }

  static void awaitJoined(Agents.Handle owner, String roomId, String member) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      boolean joined = owner.client().rooms().stream().filter(r -> r.roomId().equals(roomId))
          .flatMap(r -> r.members().stream())
          .anyMatch(x -> x.deviceId().equals(member) && x.status().equals("joined"));
      if (joined) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(member + " did not join " + roomId);
  }

  @Test
  void offlineAgentReceivesAHundredMessagesInOrderOnce() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    owner.client().sendDirect(agent.id(), "first");
    assertThat(agent.next().text()).isEqualTo("first");
    agent.client().close(); // offline
    for (int i = 0; i < 100; i++) {
      assertThat(owner.client().sendDirect(agent.id(), "m" + i).stored()).isTrue();
    }
    Agents.Handle back = Agents.restart(relay, agent, "analyst");
    List<String> got = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      got.add(back.next().text());
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      expected.add("m" + i);
    }
    assertThat(got).containsExactlyElementsOf(expected);
    assertThat(back.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    back.client().close();
    owner.client().close();
  }

  @Test
  void messagesArriveByPollingWhileTheSocketIsCut() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    SocketHooks.cut(ClientHooks.socket(agent.client()), true);
    for (int i = 0; i < 5; i++) {
      owner.client().sendDirect(agent.id(), "while cut " + i);
    }
    for (int i = 0; i < 5; i++) {
      assertThat(agent.next().text()).isEqualTo("while cut " + i);
    }
    assertThat(agent.client().state()).isNotEqualTo(ClientState.ONLINE);
    SocketHooks.cut(ClientHooks.socket(agent.client()), false);
    SocketHooks.wake(ClientHooks.socket(agent.client()));
    owner.client().sendDirect(agent.id(), "after");
    assertThat(agent.next().text()).isEqualTo("after");
    assertThat(agent.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    agent.client().close();
    owner.client().close();
  }

  void crashBetweenDecryptAndAck(String point) throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    owner.client().sendDirect(agent.id(), "before");
    assertThat(agent.next().text()).isEqualTo("before");
    ClientHooks.flush(agent.client());
    ClientHooks.crashAt(agent.client(), point);
    owner.client().sendDirect(agent.id(), "during");
    owner.client().sendDirect(agent.id(), "later");
    Thread.sleep(1500); // the crash happens; nothing more is processed or acknowledged
    assertThat(agent.inbox()).isEmpty();
    Agents.Handle back = Agents.restart(relay, agent, "analyst");
    assertThat(back.next().text()).isEqualTo("during");
    assertThat(back.next().text()).isEqualTo("later");
    assertThat(back.inbox().poll(1, TimeUnit.SECONDS)).isNull();
    // the ratchet went on from the stored state: both directions still work
    owner.client().sendDirect(back.id(), "still");
    assertThat(back.next().text()).isEqualTo("still");
    back.client().send("fine");
    assertThat(owner.next().text()).isEqualTo("fine");
    back.client().close();
    owner.client().close();
  }

  @Test
  void crashAfterDecryptBeforeTheInboxWriteLosesNothingAndDuplicatesNothing() throws Exception {
    crashBetweenDecryptAndAck("AFTER_DECRYPT");
  }

  @Test
  void crashAfterTheInboxWriteBeforeDispatchLosesNothingAndDuplicatesNothing() throws Exception {
    crashBetweenDecryptAndAck("AFTER_INBOX");
  }

  @Test
  void revokedDeviceEndsRevoked() throws Exception {
    Agents.Handle owner = Agents.owner(relay, root);
    Agents.Handle agent = Agents.agent(relay, root, owner, "analyst");
    CountDownLatch revoked = new CountDownLatch(1);
    agent.client().onStateChange(s -> {
      if (s == ClientState.REVOKED) {
        revoked.countDown();
      }
    });
    owner.client().owner().revoke(agent.id());
    assertThat(revoked.await(20, TimeUnit.SECONDS)).isTrue();
    assertThat(agent.client().state()).isEqualTo(ClientState.REVOKED);
    assertThatThrownBy(() -> agent.client().send("x")).isInstanceOf(IllegalStateException.class);
    agent.client().close();
    owner.client().close();
  }
}
