package chat.agentvault.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.crypto.SecretBytes;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PublicIdentityTest {

  @Test
  void encodeParseRoundTripAndVerify() throws Exception {
    try (DeviceIdentity id = DeviceIdentity.generate()) {
      PublicIdentity pub = id.publicIdentity();
      byte[] enc = pub.encode();
      assertThat(enc).hasSize(PublicIdentity.ENCODED_LENGTH).startsWith((byte) 1);
      PublicIdentity parsed = PublicIdentity.parse(enc);
      assertThat(parsed).isEqualTo(pub).hasSameHashCodeAs(pub);
      assertThat(parsed.fingerprint()).isEqualTo(id.fingerprint());
      parsed.verify();
      byte[] msg = "hello".getBytes(StandardCharsets.UTF_8);
      parsed.signingKey().verify(msg, id.sign(msg));
      assertThat(parsed.toString()).contains(id.fingerprint().shortForm());
    }
  }

  @Test
  void everyModifiedByteIsRefused() {
    try (DeviceIdentity id = DeviceIdentity.generate()) {
      byte[] enc = id.publicIdentity().encode();
      for (int i = 0; i < enc.length; i++) {
        byte[] bad = enc.clone();
        bad[i] ^= (byte) (1 << (i % 8));
        InvalidIdentityException.Reason expected =
            i == 0
                ? InvalidIdentityException.Reason.UNSUPPORTED_VERSION
                : InvalidIdentityException.Reason.BAD_BINDING;
        assertThatThrownBy(() -> PublicIdentity.parse(bad))
            .as("byte %d", i)
            .isInstanceOfSatisfying(
                InvalidIdentityException.class, e -> assertThat(e.reason()).isEqualTo(expected));
      }
    }
  }

  @Test
  void wrongLengthsAreMalformed() {
    try (DeviceIdentity id = DeviceIdentity.generate()) {
      byte[] enc = id.publicIdentity().encode();
      for (byte[] bad :
          new byte[][] {
            new byte[0], Arrays.copyOf(enc, 1), Arrays.copyOf(enc, enc.length - 1),
            Arrays.copyOf(enc, enc.length + 1)
          }) {
        assertThatThrownBy(() -> PublicIdentity.parse(bad))
            .isInstanceOfSatisfying(
                InvalidIdentityException.class,
                e -> assertThat(e.reason()).isEqualTo(InvalidIdentityException.Reason.MALFORMED));
      }
    }
  }

  @Test
  void aForeignAgreementKeyIsNotBound() {
    try (DeviceIdentity a = DeviceIdentity.generate();
        DeviceIdentity b = DeviceIdentity.generate()) {
      byte[] enc = a.publicIdentity().encode();
      System.arraycopy(b.publicIdentity().agreementKey().toByteArray(), 0, enc, 33, 32);
      assertThatThrownBy(() -> PublicIdentity.parse(enc))
          .isInstanceOfSatisfying(
              InvalidIdentityException.class,
              e -> assertThat(e.reason()).isEqualTo(InvalidIdentityException.Reason.BAD_BINDING));
    }
  }

  @Test
  void signRefusesTheReservedBindingLabel() {
    try (DeviceIdentity a = DeviceIdentity.generate();
        DeviceIdentity b = DeviceIdentity.generate()) {
      byte[] forged =
          PublicIdentity.bindingMessage(
              a.publicIdentity().signingKey(), b.publicIdentity().agreementKey());
      assertThatThrownBy(() -> a.sign(forged)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void agreementWorksAndKeysAreIndependent() throws Exception {
    try (DeviceIdentity a = DeviceIdentity.generate();
        DeviceIdentity b = DeviceIdentity.generate();
        SecretBytes ab = a.agree(b.publicIdentity().agreementKey());
        SecretBytes ba = b.agree(a.publicIdentity().agreementKey())) {
      assertThat(ab.equalsConstantTime(ba)).isTrue();
      // Separate keys: the X25519 scalar is not the Ed25519 seed.
      assertThat(a.agreementKey().secret().copyOfSecret())
          .isNotEqualTo(a.signingKey().seed().copyOfSecret());
    }
  }

  @Test
  void closedIdentityRefusesUse() {
    DeviceIdentity id = DeviceIdentity.generate();
    id.close();
    assertThat(id.isClosed()).isTrue();
    assertThat(id.toString()).contains("closed");
    assertThatThrownBy(() -> id.sign(new byte[1])).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> id.agree(id.publicIdentity().agreementKey()))
        .isInstanceOf(IllegalStateException.class);
  }
}
