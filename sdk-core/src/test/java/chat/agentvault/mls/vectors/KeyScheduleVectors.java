package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.schedule.EpochSecrets;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** key-schedule.json: GroupContext and every epoch secret over successive epochs (§8). */
final class KeyScheduleVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    tally.perSuite(entries, KeyScheduleVectors::check);
  }

  private static byte[] h(JsonNode n, String f) {
    return Vectors.hex(n.get(f));
  }

  private static void check(CipherSuite cs, JsonNode e) {
    Bytes groupId = Bytes.wrap(h(e, "group_id"));
    byte[] init = h(e, "initial_init_secret");
    int epochIndex = 0;
    for (JsonNode ep : e.get("epochs")) {
      GroupContext gc =
          new GroupContext(
              1,
              cs.id(),
              groupId,
              epochIndex,
              Bytes.wrap(h(ep, "tree_hash")),
              Bytes.wrap(h(ep, "confirmed_transcript_hash")),
              List.of());
      byte[] gcBytes = gc.toByteArray();
      String at = "epoch " + epochIndex;
      assertThat(gcBytes).as(at + " group_context").isEqualTo(h(ep, "group_context"));
      try (EpochSecrets s =
          EpochSecrets.derive(cs, init, h(ep, "commit_secret"), h(ep, "psk_secret"), gcBytes)) {
        assertThat(s.joinerSecret()).as(at + " joiner").isEqualTo(h(ep, "joiner_secret"));
        assertThat(s.welcomeSecret()).as(at + " welcome").isEqualTo(h(ep, "welcome_secret"));
        assertThat(EpochSecrets.welcomeSecret(cs, s.joinerSecret(), h(ep, "psk_secret")))
            .isEqualTo(h(ep, "welcome_secret"));
        assertThat(s.initSecret()).as(at + " init").isEqualTo(h(ep, "init_secret"));
        assertThat(s.senderDataSecret()).as(at + " sender data").isEqualTo(h(ep, "sender_data_secret"));
        assertThat(s.encryptionSecret()).as(at + " encryption").isEqualTo(h(ep, "encryption_secret"));
        assertThat(s.exporterSecret()).as(at + " exporter").isEqualTo(h(ep, "exporter_secret"));
        assertThat(s.epochAuthenticator()).as(at + " authenticator").isEqualTo(h(ep, "epoch_authenticator"));
        assertThat(s.externalSecret()).as(at + " external").isEqualTo(h(ep, "external_secret"));
        assertThat(s.confirmationKey()).as(at + " confirm").isEqualTo(h(ep, "confirmation_key"));
        assertThat(s.membershipKey()).as(at + " membership").isEqualTo(h(ep, "membership_key"));
        assertThat(s.resumptionPsk()).as(at + " resumption").isEqualTo(h(ep, "resumption_psk"));
        assertThat(s.externalPub()).as(at + " external_pub").isEqualTo(h(ep, "external_pub"));
        JsonNode ex = ep.get("exporter");
        assertThat(s.export(ex.get("label").asText(), h(ex, "context"), ex.get("length").asInt()))
            .as(at + " exporter output")
            .isEqualTo(h(ex, "secret"));
        try (EpochSecrets joined =
            EpochSecrets.fromJoinerSecret(cs, s.joinerSecret(), h(ep, "psk_secret"), gcBytes)) {
          assertThat(joined.epochAuthenticator()).isEqualTo(s.epochAuthenticator());
        }
        init = s.initSecret();
      }
      epochIndex++;
    }
    assertThat(epochIndex).isGreaterThan(0);
  }
}
