package chat.agentvault.mls.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Real KeyPackages from the official MLS test vectors pass our validation. (The {@code
 * mls_key_package} entries of messages.json have random content and are not used.)
 */
class KeyPackageVectorsTest {
  private static final KeyPackageValidator V = KeyPackageValidator.create();

  private static boolean ours(JsonNode e) {
    int suite = e.get("cipher_suite").asInt();
    return suite == 1 || suite == 3;
  }

  /** passive-client-welcome.json: every suite-1/3 key_package validates, and its private keys fit. */
  @Test
  void passiveClientWelcomeKeyPackagesValidate() {
    JsonNode all = Vectors.json(Vectors.file("mls", "passive-client-welcome.json"));
    int checked = 0;
    for (JsonNode e : all) {
      if (!ours(e)) {
        continue;
      }
      KeyPackage kp = KeyPackageValidator.decode(Vectors.hex(e.get("key_package")));
      assertThat(kp.cipherSuite()).isEqualTo(e.get("cipher_suite").asInt());
      assertThatCode(() -> V.validateIgnoringLifetime(kp)).as("entry %s", checked).doesNotThrowAnyException();
      try (X25519PrivateKey init = X25519PrivateKey.of(Vectors.hex(e.get("init_priv")));
          X25519PrivateKey enc = X25519PrivateKey.of(Vectors.hex(e.get("encryption_priv")));
          Ed25519PrivateKey sig = Ed25519PrivateKey.fromSeed(Vectors.hex(e.get("signature_priv")))) {
        assertThat(init.publicKey().toByteArray()).isEqualTo(kp.initKey().toByteArray());
        assertThat(enc.publicKey().toByteArray()).isEqualTo(kp.leafNode().encryptionKey().toByteArray());
        assertThat(sig.publicKey().toByteArray()).isEqualTo(kp.leafNode().signatureKey().toByteArray());
      }
      checked++;
    }
    Vectors.report("keys/passive-client-welcome.json", checked, checked, all.size() - checked);
    assertThat(checked).isEqualTo(16);
  }

  /** welcome.json: our KeyPackageRef of key_package is the new_member the Welcome names (§5.2). */
  @Test
  void keyPackageRefMatchesTheWelcomesNewMember() {
    JsonNode all = Vectors.json(Vectors.file("mls", "welcome.json"));
    int checked = 0;
    for (JsonNode e : all) {
      if (!ours(e)) {
        continue;
      }
      KeyPackage kp = KeyPackageValidator.decode(Vectors.hex(e.get("key_package")));
      assertThatCode(() -> V.validateIgnoringLifetime(kp)).doesNotThrowAnyException();
      Welcome w = (Welcome) MlsMessage.parse(Vectors.hex(e.get("welcome"))).body();
      assertThat(w.secrets().stream().map(s -> new KeyPackageRef(s.newMember())).collect(Collectors.toList()))
          .contains(KeyPackageRef.compute(kp));
      checked++;
    }
    Vectors.report("keys/welcome.json", checked, checked, all.size() - checked);
    assertThat(checked).isEqualTo(2);
  }

  /** Tampering with a real KeyPackage is caught: the vectors are not accepted by a validator that accepts anything. */
  @Test
  void tamperedVectorKeyPackageRefused() {
    JsonNode e = Vectors.json(Vectors.file("mls", "passive-client-welcome.json")).get(0);
    byte[] enc = Vectors.hex(e.get("key_package"));
    enc[10] ^= 1; // inside init_key
    assertThat(Bytes.wrap(enc).length()).isGreaterThan(10);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> V.validateIgnoringLifetime(KeyPackageValidator.decode(enc)))
        .isInstanceOf(chat.agentvault.MessageRejectedException.class);
  }
}
