package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.Bytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.group.Group;
import chat.agentvault.mls.message.GroupInfo;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.message.Welcome;
import chat.agentvault.mls.schedule.EpochSecrets;
import chat.agentvault.mls.schedule.TranscriptHashes;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * welcome.json (test-vectors.md "Welcome"): decrypt the group secrets for the KeyPackage and the
 * GroupInfo, verify the GroupInfo signature with {@code signer_pub} and its confirmation tag from the
 * joiner secret with no PSKs.
 */
final class WelcomeVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    int i = 0;
    for (JsonNode e : entries) {
      int suite = e.get("cipher_suite").asInt();
      int index = i++;
      if (!MlsTestVectorsTest.supportedSuite(suite)) {
        tally.skip("cipher suite not implemented");
        continue;
      }
      tally.entry("entry " + index + " suite " + suite, () -> check(CipherSuites.forId(suite), e));
    }
  }

  private static void check(CipherSuite cs, JsonNode e) throws Exception {
    KeyPackage kp = (KeyPackage) MlsMessage.parse(Vectors.hex(e.get("key_package"))).body();
    Welcome w = (Welcome) MlsMessage.parse(Vectors.hex(e.get("welcome"))).body();
    Group.OpenedWelcome o = Group.openWelcome(w, kp, Vectors.hex(e.get("init_priv")), id -> null);
    GroupInfo gi = o.groupInfo();
    MlsCrypto.verifyWithLabel(
        cs, Vectors.hex(e.get("signer_pub")), "GroupInfoTBS", gi.toBeSigned(), gi.signature().unsafeArray());
    try (EpochSecrets es =
        EpochSecrets.fromJoinerSecret(
            cs, o.secrets().joinerSecret().toByteArray(), null, gi.groupContext().toByteArray())) {
      byte[] tag =
          TranscriptHashes.confirmationTag(
              cs, es.confirmationKey(), gi.groupContext().confirmedTranscriptHash().unsafeArray());
      assertThat(Bytes.wrap(tag)).as("confirmation tag").isEqualTo(gi.confirmationTag());
    }
  }
}
