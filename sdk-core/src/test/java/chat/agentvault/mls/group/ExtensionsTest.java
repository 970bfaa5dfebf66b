package chat.agentvault.mls.group;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.framing.MessageProtection;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.FramedContent;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.Sender;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** GroupContextExtensions (§12.1.7): external senders (§12.1.8.1) and required capabilities. */
class ExtensionsTest {
  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> setups() {
    return GroupTest.setups();
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void anExternalSenderAddedByGceCanProposeARemove(int suite, boolean priv) {
    GroupTest.World w = new GroupTest.World(suite, priv);
    Client b = w.newClient();
    Client c = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b), w.addOf(c)), false, List.of(b, c));

    byte[] extPriv;
    Bytes extPub;
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate();
        SecretBytes seed = sk.seed()) {
      extPriv = seed.copyOfSecret();
      extPub = Bytes.wrap(sk.publicKey().toByteArray());
    }
    TlsWriter one = new TlsWriter(64).opaque(extPub);
    Credential.basic(Bytes.of((byte) 's')).encode(one);
    Bytes data = new TlsWriter(80).opaque(one.toByteArray()).toBytes(); // ExternalSender external_senders<V>
    Extension senders = new Extension(Codes.EXT_EXTERNAL_SENDERS, data);
    w.commit(b, List.of(new Proposal.GroupContextExtensions(List.of(senders))), false, List.of());
    assertThat(w.members.get(0).group.context().extensions()).containsExactly(senders);

    // The external sender (e.g. the delivery service) proposes removing c; a member commits it.
    GroupState s = w.members.get(0).group.stateForTest();
    FramedContent content =
        new FramedContent(
            s.groupId(), s.epoch(), new Sender(Codes.SENDER_EXTERNAL, 0), Bytes.EMPTY, Codes.CONTENT_PROPOSAL, null,
            new Proposal.Remove(c.group.ownLeaf()), null);
    MlsMessage proposal =
        new MlsMessage(MessageProtection.protectPublic(s.cs, s.context, content, extPriv, s.membershipKey, null));
    for (Client m : w.members) {
      assertThat(m.group.process(proposal)).isInstanceOf(Processed.ProposalStored.class);
    }
    w.commit(b, List.of(), false, List.of());
    assertThat(w.members).hasSize(2).doesNotContain(c);
    w.everyoneTalks();

    // Sender index 1 does not exist: rejected.
    GroupState s2 = w.members.get(0).group.stateForTest();
    FramedContent bad =
        new FramedContent(
            s2.groupId(), s2.epoch(), new Sender(Codes.SENDER_EXTERNAL, 1), Bytes.EMPTY, Codes.CONTENT_PROPOSAL, null,
            new Proposal.Remove(1), null);
    MlsMessage badMsg =
        new MlsMessage(MessageProtection.protectPublic(s2.cs, s2.context, bad, extPriv, s2.membershipKey, null));
    assertThatThrownBy(() -> w.members.get(0).group.process(badMsg)).isInstanceOf(MessageRejectedException.class);
  }

  @ParameterizedTest(name = "suite {0} private handshakes {1}")
  @MethodSource("setups")
  void requiredCapabilitiesNobodyHasAreRefused(int suite, boolean priv) {
    GroupTest.World w = new GroupTest.World(suite, priv);
    Client b = w.newClient();
    w.commit(w.members.get(0), List.of(w.addOf(b)), false, List.of(b));
    // required_capabilities: extension 0x0a0a that no member lists.
    TlsWriter rc = new TlsWriter(16);
    rc.vector(List.of(0x0a0a), (ww, v) -> ww.u16(v)).vector(List.<Integer>of(), (ww, v) -> ww.u16(v))
        .vector(List.<Integer>of(), (ww, v) -> ww.u16(v));
    Extension req = new Extension(Codes.EXT_REQUIRED_CAPABILITIES, rc.toBytes());
    assertThatThrownBy(
            () -> w.members.get(0).group.commit(List.of(new Proposal.GroupContextExtensions(List.of(req))), false))
        .isInstanceOf(MessageRejectedException.class);
    // An unknown GroupContext extension no member supports.
    Extension unknown = new Extension(0x0b0b, Bytes.of((byte) 1));
    assertThatThrownBy(
            () -> w.members.get(0).group.commit(List.of(new Proposal.GroupContextExtensions(List.of(unknown))), false))
        .isInstanceOf(MessageRejectedException.class);
    assertThat(w.members.get(0).group.epoch()).isEqualTo(1);
  }
}
