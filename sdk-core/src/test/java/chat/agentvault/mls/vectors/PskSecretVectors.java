package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.PreSharedKeyId;
import chat.agentvault.mls.schedule.PskSecret;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** psk_secret.json: psk_secret from 0 to 10 external PSKs (§8.4). */
final class PskSecretVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    int i = 0;
    for (JsonNode e : entries) {
      int suite = e.get("cipher_suite").asInt();
      if (!MlsTestVectorsTest.supportedSuite(suite)) {
        tally.skip("cipher suite not implemented");
        continue;
      }
      tally.entry(
          "entry " + i++ + " suite " + suite,
          () -> {
            List<PskSecret.Psk> psks = new ArrayList<>();
            for (JsonNode p : e.get("psks")) {
              psks.add(
                  new PskSecret.Psk(
                      PreSharedKeyId.external(
                          Bytes.wrap(Vectors.hex(p.get("psk_id"))), Bytes.wrap(Vectors.hex(p.get("psk_nonce")))),
                      Vectors.hex(p.get("psk"))));
            }
            assertThat(PskSecret.compute(CipherSuites.forId(suite), psks))
                .isEqualTo(Vectors.hex(e.get("psk_secret")));
          });
    }
  }
}
