package chat.agentvault.mls.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.crypto.Csprng;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link MlsCrypto#encryptorWithLabel} is EncryptWithLabel with its label and context fixed. */
class EncryptorWithLabelTest {
  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void decryptsWithDecryptWithLabelOfTheSameLabelAndContextOnly(int suite) throws Exception {
    CipherSuite cs = CipherSuites.forId(suite);
    byte[] context = Csprng.randomBytes(5000);
    MlsCrypto.Encryptor encryptor = MlsCrypto.encryptorWithLabel(cs, "Welcome", context);
    for (int i = 0; i < 3; i++) {
      byte[][] kp = cs.deriveKeyPair(Csprng.randomBytes(32));
      byte[] pt = ("secret " + i).getBytes(StandardCharsets.US_ASCII);
      CipherSuite.HpkeSealed sealed = encryptor.encrypt(kp[1], pt);
      assertThat(MlsCrypto.decryptWithLabel(cs, kp[0], "Welcome", context, sealed.kemOutput(), sealed.ciphertext()))
          .isEqualTo(pt);
      assertThatThrownBy(
              () -> MlsCrypto.decryptWithLabel(cs, kp[0], "UpdatePathNode", context, sealed.kemOutput(), sealed.ciphertext()))
          .isInstanceOf(GeneralSecurityException.class);
      byte[] otherContext = context.clone();
      otherContext[0] ^= 1;
      assertThatThrownBy(
              () -> MlsCrypto.decryptWithLabel(cs, kp[0], "Welcome", otherContext, sealed.kemOutput(), sealed.ciphertext()))
          .isInstanceOf(GeneralSecurityException.class);
      // And the one-shot form opens with the same decryption.
      CipherSuite.HpkeSealed single = MlsCrypto.encryptWithLabel(cs, kp[1], "Welcome", context, pt);
      assertThat(MlsCrypto.decryptWithLabel(cs, kp[0], "Welcome", context, single.kemOutput(), single.ciphertext()))
          .isEqualTo(pt);
    }
  }
}
