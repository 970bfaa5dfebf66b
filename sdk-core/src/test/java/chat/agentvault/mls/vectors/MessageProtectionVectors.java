package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.framing.MessageProtection;
import chat.agentvault.mls.message.AuthenticatedContent;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Commit;
import chat.agentvault.mls.message.FramedContent;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.PrivateMessage;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.mls.message.PublicMessage;
import chat.agentvault.mls.message.Sender;
import chat.agentvault.mls.schedule.SecretTree;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** message-protection.json: PublicMessage and PrivateMessage, both directions (§6). */
final class MessageProtectionVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    tally.perSuite(entries, MessageProtectionVectors::check);
  }

  private static byte[] h(JsonNode e, String f) {
    return Vectors.hex(e.get(f));
  }

  private static void check(CipherSuite cs, JsonNode e) {
    GroupContext ctx =
        new GroupContext(
            1,
            cs.id(),
            Bytes.wrap(h(e, "group_id")),
            e.get("epoch").asLong(),
            Bytes.wrap(h(e, "tree_hash")),
            Bytes.wrap(h(e, "confirmed_transcript_hash")),
            List.of());
    byte[] sigPriv = h(e, "signature_priv");
    byte[] sigPub = h(e, "signature_pub");
    byte[] membershipKey = h(e, "membership_key");
    byte[] senderDataSecret = h(e, "sender_data_secret");
    byte[] encryptionSecret = h(e, "encryption_secret");

    Proposal proposal = TlsReader.decodeAll(h(e, "proposal"), Proposal::decode);
    Commit commit = TlsReader.decodeAll(h(e, "commit"), Commit::decode);
    Bytes application = Bytes.wrap(h(e, "application"));
    Sender sender = Sender.member(1);
    Bytes tag = Bytes.wrap(cs.mac(new byte[32], new byte[0])); // any MAC-sized confirmation tag

    FramedContent[] contents = {
      new FramedContent(ctx.groupId(), ctx.epoch(), sender, Bytes.EMPTY, Codes.CONTENT_PROPOSAL, null, proposal, null),
      new FramedContent(ctx.groupId(), ctx.epoch(), sender, Bytes.EMPTY, Codes.CONTENT_COMMIT, null, null, commit),
      new FramedContent(ctx.groupId(), ctx.epoch(), sender, Bytes.EMPTY, Codes.CONTENT_APPLICATION, application, null, null)
    };
    String[] names = {"proposal", "commit", "application"};
    for (int i = 0; i < 3; i++) {
      FramedContent raw = contents[i];
      String name = names[i];
      Bytes confirmation = raw.contentType() == Codes.CONTENT_COMMIT ? tag : null;

      if (raw.contentType() != Codes.CONTENT_APPLICATION) {
        PublicMessage pub = (PublicMessage) MlsMessage.parse(h(e, name + "_pub")).body();
        AuthenticatedContent got = MessageProtection.unprotectPublic(cs, ctx, pub, sigPub, membershipKey);
        assertSameContent(got.content(), raw, name + "_pub");
        PublicMessage ours = MessageProtection.protectPublic(cs, ctx, raw, sigPriv, membershipKey, confirmation);
        assertSameContent(
            MessageProtection.unprotectPublic(cs, ctx, ours, sigPub, membershipKey).content(), raw, name + " own pub");
      } else {
        assertThatThrownBy(() -> MessageProtection.protectPublic(cs, ctx, raw, sigPriv, membershipKey, null))
            .isInstanceOf(IllegalArgumentException.class);
      }

      PrivateMessage priv = (PrivateMessage) MlsMessage.parse(h(e, name + "_priv")).body();
      try (SecretTree tree = new SecretTree(cs, encryptionSecret, 2, SecretTree.Limits.DEFAULT)) {
        AuthenticatedContent got =
            MessageProtection.unprotectPrivate(cs, ctx, priv, tree, senderDataSecret, leaf -> leaf == 1 ? sigPub : null);
        assertSameContent(got.content(), raw, name + "_priv");
      }
      PrivateMessage ours;
      try (SecretTree senderTree = new SecretTree(cs, encryptionSecret, 2, SecretTree.Limits.DEFAULT)) {
        ours = MessageProtection.protectPrivate(cs, ctx, raw, sigPriv, confirmation, senderTree, senderDataSecret, 7);
      }
      try (SecretTree tree = new SecretTree(cs, encryptionSecret, 2, SecretTree.Limits.DEFAULT)) {
        AuthenticatedContent got =
            MessageProtection.unprotectPrivate(cs, ctx, ours, tree, senderDataSecret, leaf -> leaf == 1 ? sigPub : null);
        assertSameContent(got.content(), raw, name + " own priv");
      }
    }
  }

  private static void assertSameContent(FramedContent got, FramedContent expected, String what) {
    assertThat(got.contentType()).as(what).isEqualTo(expected.contentType());
    assertThat(got.sender()).as(what).isEqualTo(expected.sender());
    assertThat(got.applicationData()).as(what).isEqualTo(expected.applicationData());
    assertThat(got.proposal()).as(what).isEqualTo(expected.proposal());
    assertThat(got.commit()).as(what).isEqualTo(expected.commit());
  }
}
