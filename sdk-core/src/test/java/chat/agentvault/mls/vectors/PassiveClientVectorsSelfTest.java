package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The passive-client handler fails an entry whose data was corrupted: it really checks. */
class PassiveClientVectorsSelfTest {
  private static ObjectNode firstEntryWithEpochs() {
    JsonNode all = Vectors.json(Vectors.file("mls", "passive-client-handling-commit.json"));
    for (JsonNode e : all) {
      if (MlsTestVectorsTest.supportedSuite(e.get("cipher_suite").asInt()) && e.get("epochs").size() > 1) {
        return (ObjectNode) e.deepCopy();
      }
    }
    throw new AssertionError("no suitable entry");
  }

  private static Tally run(Consumer<ObjectNode> corrupt) {
    ObjectNode e = firstEntryWithEpochs();
    corrupt.accept(e);
    ArrayNode arr = new ObjectMapper().createArrayNode().add(e);
    Tally t = new Tally();
    new PassiveClientVectors().run(arr, t);
    return t;
  }

  private static String flip(String hex, int at) {
    char[] c = hex.toCharArray();
    c[at] = c[at] == '0' ? '1' : '0';
    return new String(c);
  }

  @Test
  void unmodifiedEntryPasses() {
    assertThat(run(e -> {}).passed).isEqualTo(1);
  }

  @Test
  void wrongInitialEpochAuthenticatorFails() {
    Tally t = run(e -> e.put("initial_epoch_authenticator", flip(e.get("initial_epoch_authenticator").asText(), 0)));
    assertThat(t.failures).hasSize(1);
  }

  @Test
  void wrongEpochAuthenticatorFails() {
    Tally t =
        run(e -> {
          ObjectNode ep = (ObjectNode) e.get("epochs").get(1);
          ep.put("epoch_authenticator", flip(ep.get("epoch_authenticator").asText(), 3));
        });
    assertThat(t.failures).hasSize(1);
  }

  @Test
  void corruptedCommitFails() {
    Tally t =
        run(e -> {
          ObjectNode ep = (ObjectNode) e.get("epochs").get(0);
          String c = ep.get("commit").asText();
          ep.put("commit", flip(c, c.length() - 10));
        });
    assertThat(t.failures).hasSize(1);
  }

  @Test
  void missingExternalPskFails() {
    Tally t = run(e -> e.putArray("external_psks"));
    JsonNode any = firstEntryWithEpochs().get("external_psks");
    assertThat(t.failures).hasSize(any.size() > 0 ? 1 : 0);
  }
}
