package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Commit;
import chat.agentvault.mls.message.GroupSecrets;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Node;
import chat.agentvault.mls.message.Proposal;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.function.Function;

/**
 * messages.json: every struct decodes and re-encodes to the same bytes. Proposal fields hold the
 * body without the proposal_type, as the vector format says ("Serialized Add", ...).
 */
final class MessagesVectors implements VectorFile {
  private static final Map<String, Integer> MLS_MESSAGES =
      Map.of(
          "mls_welcome", Codes.WIRE_WELCOME,
          "mls_group_info", Codes.WIRE_GROUP_INFO,
          "mls_key_package", Codes.WIRE_KEY_PACKAGE,
          "public_message_application", Codes.WIRE_PUBLIC_MESSAGE,
          "public_message_proposal", Codes.WIRE_PUBLIC_MESSAGE,
          "public_message_commit", Codes.WIRE_PUBLIC_MESSAGE,
          "private_message", Codes.WIRE_PRIVATE_MESSAGE);

  private static final Map<String, Integer> PROPOSALS =
      Map.of(
          "add_proposal", Codes.PROPOSAL_ADD,
          "update_proposal", Codes.PROPOSAL_UPDATE,
          "remove_proposal", Codes.PROPOSAL_REMOVE,
          "pre_shared_key_proposal", Codes.PROPOSAL_PSK,
          "re_init_proposal", Codes.PROPOSAL_REINIT,
          "external_init_proposal", Codes.PROPOSAL_EXTERNAL_INIT,
          "group_context_extensions_proposal", Codes.PROPOSAL_GROUP_CONTEXT_EXTENSIONS);

  @Override
  public void run(JsonNode entries, Tally tally) {
    int i = 0;
    for (JsonNode e : entries) {
      int index = i++;
      tally.entry(
          "entry " + index,
          () -> {
            int checked = 0;
            for (Map.Entry<String, Integer> m : MLS_MESSAGES.entrySet()) {
              byte[] in = Vectors.hex(e.get(m.getKey()));
              MlsMessage msg = MlsMessage.parse(in);
              assertThat(msg.wireFormat()).as(m.getKey()).isEqualTo(m.getValue());
              assertThat(msg.toByteArray()).as(m.getKey()).isEqualTo(in);
              checked++;
            }
            for (Map.Entry<String, Integer> p : PROPOSALS.entrySet()) {
              byte[] in = Vectors.hex(e.get(p.getKey()));
              Proposal prop = Proposal.decodeBody(p.getValue(), TlsReader.of(in));
              assertThat(TlsWriter.encode(prop, (w, x) -> x.encodeBody(w))).as(p.getKey()).isEqualTo(in);
              checked++;
            }
            checked += roundTrip(e, "commit", b -> TlsReader.decodeAll(b, Commit::decode).toByteArray());
            checked +=
                roundTrip(
                    e,
                    "group_secrets",
                    b -> TlsWriter.encode(TlsReader.decodeAll(b, GroupSecrets::decode), (w, g) -> g.encode(w)));
            checked +=
                roundTrip(
                    e,
                    "ratchet_tree",
                    b -> TlsWriter.encode(TlsReader.decodeAll(b, Node::decodeTree), Node::encodeTree));
            assertThat(checked).isEqualTo(e.size());
          });
    }
  }

  private static int roundTrip(JsonNode e, String field, Function<byte[], byte[]> codec) {
    byte[] in = Vectors.hex(e.get(field));
    assertThat(codec.apply(in)).as(field).isEqualTo(in);
    return 1;
  }
}
