package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.AuthenticatedContent;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.schedule.TranscriptHashes;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;

/** transcript-hashes.json: confirmed and interim transcript hashes and the confirmation tag (§8.2). */
final class TranscriptHashVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    for (JsonNode e : entries) {
      int suite = e.get("cipher_suite").asInt();
      if (!MlsTestVectorsTest.supportedSuite(suite)) {
        tally.skip("cipher suite not implemented");
        continue;
      }
      tally.entry(
          "suite " + suite,
          () -> {
            CipherSuite cs = CipherSuites.forId(suite);
            AuthenticatedContent ac =
                TlsReader.decodeAll(Vectors.hex(e.get("authenticated_content")), AuthenticatedContent::decode);
            assertThat(ac.content().contentType()).isEqualTo(Codes.CONTENT_COMMIT);
            byte[] confirmed =
                TranscriptHashes.confirmed(
                    cs,
                    Vectors.hex(e.get("interim_transcript_hash_before")),
                    ac.wireFormat(),
                    ac.content(),
                    ac.auth().signature());
            assertThat(confirmed).isEqualTo(Vectors.hex(e.get("confirmed_transcript_hash_after")));
            assertThat(TranscriptHashes.confirmationTag(cs, Vectors.hex(e.get("confirmation_key")), confirmed))
                .isEqualTo(ac.auth().confirmationTag().toByteArray());
            assertThat(TranscriptHashes.interim(cs, confirmed, ac.auth().confirmationTag()))
                .isEqualTo(Vectors.hex(e.get("interim_transcript_hash_after")));
          });
    }
  }
}
