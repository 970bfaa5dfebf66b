package chat.agentvault.mls.vectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.security.GeneralSecurityException;

/** crypto-basics.json: the labeled functions of RFC 9420 §5 and §8. */
final class CryptoBasicsVectors implements VectorFile {
  @Override
  public void run(JsonNode entries, Tally tally) {
    tally.perSuite(entries, CryptoBasicsVectors::check);
  }

  private static byte[] h(JsonNode n, String f) {
    return Vectors.hex(n.get(f));
  }

  private static void check(CipherSuite cs, JsonNode e) throws GeneralSecurityException {
    JsonNode rh = e.get("ref_hash");
    assertThat(MlsCrypto.refHash(cs, rh.get("label").asText(), h(rh, "value")))
        .isEqualTo(h(rh, "out"));

    JsonNode ewl = e.get("expand_with_label");
    assertThat(
            MlsCrypto.expandWithLabel(
                cs, h(ewl, "secret"), ewl.get("label").asText(), h(ewl, "context"), ewl.get("length").asInt()))
        .isEqualTo(h(ewl, "out"));

    JsonNode ds = e.get("derive_secret");
    assertThat(MlsCrypto.deriveSecret(cs, h(ds, "secret"), ds.get("label").asText()))
        .isEqualTo(h(ds, "out"));

    JsonNode dts = e.get("derive_tree_secret");
    assertThat(
            MlsCrypto.deriveTreeSecret(
                cs,
                h(dts, "secret"),
                dts.get("label").asText(),
                (int) dts.get("generation").asLong(),
                dts.get("length").asInt()))
        .isEqualTo(h(dts, "out"));

    JsonNode swl = e.get("sign_with_label");
    String label = swl.get("label").asText();
    byte[] content = h(swl, "content");
    MlsCrypto.verifyWithLabel(cs, h(swl, "pub"), label, content, h(swl, "signature"));
    byte[] ours = MlsCrypto.signWithLabel(cs, h(swl, "priv"), label, content);
    MlsCrypto.verifyWithLabel(cs, h(swl, "pub"), label, content, ours);
    byte[] forged = h(swl, "signature");
    forged[0] ^= 1;
    assertThatThrownBy(() -> MlsCrypto.verifyWithLabel(cs, h(swl, "pub"), label, content, forged))
        .isInstanceOf(GeneralSecurityException.class);

    JsonNode enc = e.get("encrypt_with_label");
    String elabel = enc.get("label").asText();
    byte[] ctx = h(enc, "context");
    byte[] pt = h(enc, "plaintext");
    assertThat(
            MlsCrypto.decryptWithLabel(
                cs, h(enc, "priv"), elabel, ctx, h(enc, "kem_output"), h(enc, "ciphertext")))
        .isEqualTo(pt);
    CipherSuite.HpkeSealed sealed = MlsCrypto.encryptWithLabel(cs, h(enc, "pub"), elabel, ctx, pt);
    assertThat(
            MlsCrypto.decryptWithLabel(cs, h(enc, "priv"), elabel, ctx, sealed.kemOutput(), sealed.ciphertext()))
        .isEqualTo(pt);
  }
}
