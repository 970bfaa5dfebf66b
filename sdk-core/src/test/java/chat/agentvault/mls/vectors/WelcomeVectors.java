package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.framing.Welcomes;
import chat.agentvault.mls.message.GroupInfo;
import chat.agentvault.mls.message.GroupSecrets;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.mls.schedule.EpochSecrets;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;

/** welcome.json: GroupSecrets and GroupInfo decryption, GroupInfo signature and confirmation tag (§12.4.3.1). */
final class WelcomeVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    tally.perSuite(entries, WelcomeVectors::check);
  }

  private static void check(CipherSuite cs, JsonNode e) {
    KeyPackage kp = (KeyPackage) MlsMessage.parse(Vectors.hex(e.get("key_package"))).body();
    Welcome welcome = (Welcome) MlsMessage.parse(Vectors.hex(e.get("welcome"))).body();
    byte[] initPriv = Vectors.hex(e.get("init_priv"));
    byte[] signerPub = Vectors.hex(e.get("signer_pub"));

    GroupSecrets secrets = Welcomes.decryptGroupSecrets(cs, welcome, kp, initPriv);
    assertThat(secrets.psks()).isEmpty();
    byte[] joiner = secrets.joinerSecret().toByteArray();
    GroupInfo info = Welcomes.decryptGroupInfo(cs, welcome, joiner, null);
    assertThat(info.groupContext().cipherSuite()).isEqualTo(cs.id());
    Welcomes.verifyGroupInfoSignature(cs, info, signerPub);
    try (EpochSecrets epoch = Welcomes.verifyConfirmationTag(cs, info, joiner, null)) {
      assertThat(epoch.epochAuthenticator()).hasSize(cs.hashLength());
    }
    // Negative checks on the same data: a wrong signer key, a wrong joiner secret.
    byte[] otherKey = signerPub.clone();
    otherKey[0] ^= 1;
    assertThatThrownBy(() -> Welcomes.verifyGroupInfoSignature(cs, info, otherKey))
        .isInstanceOf(MessageRejectedException.class);
    byte[] wrongJoiner = joiner.clone();
    wrongJoiner[0] ^= 1;
    assertThatThrownBy(() -> Welcomes.decryptGroupInfo(cs, welcome, wrongJoiner, null))
        .isInstanceOf(MessageRejectedException.class);
    GroupInfo badTag =
        new GroupInfo(info.groupContext(), info.extensions(), Bytes.wrap(new byte[cs.hashLength()]), info.signer(), info.signature());
    assertThatThrownBy(() -> Welcomes.verifyConfirmationTag(cs, badTag, joiner, null))
        .isInstanceOf(MessageRejectedException.class);
  }
}
