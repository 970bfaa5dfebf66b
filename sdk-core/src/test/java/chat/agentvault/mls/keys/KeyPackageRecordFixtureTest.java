package chat.agentvault.mls.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import chat.agentvault.MessageRejectedException;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.mls.message.KeyPackage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Records written by format version 1 (committed under {@code src/test/resources/keys/}, created
 * 2026-11-23 with an all-zero Ed25519 seed, test-only keys) still load, with the same reference.
 */
class KeyPackageRecordFixtureTest {
  private static byte[] fixture(String name) throws IOException {
    try (InputStream in = KeyPackageRecordFixtureTest.class.getResourceAsStream("/keys/" + name)) {
      assertThat(in).as(name).isNotNull();
      return HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
    }
  }

  @ParameterizedTest
  @CsvSource({
    "1, false, 584b26899834c07f1202c6ba0ec1af46be89eca5d1dfb3cc097c84063ff511ad",
    "3, true, e04d0746b27c8a84932552f63c38ff679958501e7a775d1b4f3a16391f89a09f"
  })
  void version1RecordsStillLoad(int suite, boolean lastResort, String ref) throws IOException {
    byte[] record = fixture("keypackage-record-v1-suite" + suite + ".hex");
    try (KeyPackageBundle b = KeyPackageBundle.parse(record)) {
      KeyPackage kp = b.keyPackage();
      assertThat(b.cipherSuite()).isEqualTo(suite);
      assertThat(b.isLastResort()).isEqualTo(lastResort);
      assertThat(b.ref().value().hex()).isEqualTo(ref);
      assertThat(kp.leafNode().signatureKey().toByteArray())
          .isEqualTo(Ed25519PrivateKey.fromSeed(new byte[32]).publicKey().toByteArray());
      assertThat(b.serialize()).isEqualTo(record);
      KeyPackageValidator v = KeyPackageValidator.create();
      assertThatCode(() -> v.validate(kp, Instant.parse("2026-12-01T00:00:00Z"))).doesNotThrowAnyException();
      Assertions.assertThatThrownBy(() -> v.validate(kp, Instant.parse("2027-03-01T00:00:00Z")))
          .isInstanceOf(MessageRejectedException.class);
    }
  }
}
