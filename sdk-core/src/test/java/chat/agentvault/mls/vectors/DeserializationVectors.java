package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;

/** deserialization.json: variable-length vector headers (RFC 9420 §2.1.2), decode and re-encode. */
final class DeserializationVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    for (JsonNode e : entries) {
      byte[] header = Vectors.hex(e.get("vlbytes_header"));
      long length = e.get("length").asLong();
      tally.entry(
          "header=" + e.get("vlbytes_header").asText(),
          () -> {
            TlsReader r = TlsReader.of(header);
            assertThat((long) r.varint()).isEqualTo(length);
            r.finish();
            assertThat(new TlsWriter().varint(length).toByteArray()).isEqualTo(header);
          });
    }
  }
}
