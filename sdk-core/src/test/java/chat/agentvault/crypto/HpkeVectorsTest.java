package chat.agentvault.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * RFC 9180 test vectors ({@code hpke/test-vectors.json}, the CFRG JSON set): every entry of the
 * suites {@link Hpke} supports, checked end to end, every intermediate value included.
 */
class HpkeVectorsTest {
  private static final String FILE = "test-vectors.json";

  /** 0x0020/0x0001 with AEAD 0x0001, 0x0003 and 0xFFFF, in each of the four modes. */
  private static final int EXPECTED_ENTRIES = 12;

  /** Totals over those 12 entries, as counted in the file: 8 entries x 257 encryptions. */
  private static final int EXPECTED_ENCRYPTIONS = 2056;

  /** 12 entries x 3 exports. */
  private static final int EXPECTED_EXPORTS = 36;

  private int encryptionsChecked;
  private int exportsChecked;

  @Test
  void everySupportedEntryMatches() {
    Path file = Vectors.file("hpke", FILE);
    JsonNode entries = Vectors.json(file);
    int executed = 0;
    int passed = 0;
    int skipped = 0;
    int encryptionsInFile = 0;
    int exportsInFile = 0;
    List<String> failures = new ArrayList<>();

    for (JsonNode v : entries) {
      Hpke suite = suiteOf(v);
      if (suite == null) {
        skipped++;
        continue;
      }
      executed++;
      encryptionsInFile += v.get("encryptions").size();
      exportsInFile += v.get("exports").size();
      String name = "mode=" + v.get("mode").asInt() + " " + suite;
      try {
        checkEntry(suite, v);
        passed++;
      } catch (AssertionError | Exception e) {
        failures.add(name + ": " + e);
      }
    }

    Vectors.report("hpke/" + FILE, executed, passed, skipped);
    System.out.printf(
        "[vectors] %-40s encryptions=%d/%d exports=%d/%d (each export on sender and recipient)%n",
        "hpke/" + FILE, encryptionsChecked, encryptionsInFile, exportsChecked, exportsInFile);

    assertThat(failures).isEmpty();
    assertThat(executed).isEqualTo(EXPECTED_ENTRIES);
    assertThat(passed).isEqualTo(EXPECTED_ENTRIES);
    assertThat(skipped).isEqualTo(entries.size() - EXPECTED_ENTRIES);
    assertThat(encryptionsInFile).isPositive().isEqualTo(EXPECTED_ENCRYPTIONS);
    assertThat(exportsInFile).isPositive().isEqualTo(EXPECTED_EXPORTS);
    assertThat(encryptionsChecked).isEqualTo(encryptionsInFile);
    assertThat(exportsChecked).isEqualTo(exportsInFile);
  }

  private void checkEntry(Hpke hpke, JsonNode v) throws Exception {
    Hpke.Mode mode = Hpke.Mode.values()[v.get("mode").asInt()];
    byte[] info = hex(v, "info");
    byte[] psk = hex(v, "psk");
    byte[] pskId = hex(v, "psk_id");

    // DeriveKeyPair (§7.1.3) for every key pair of the entry.
    X25519PrivateKey skR = derived(hpke, v, "ikmR", "skRm", "pkRm");
    X25519PrivateKey skE = derived(hpke, v, "ikmE", "skEm", "pkEm");
    X25519PrivateKey skS = mode.usesAuth() ? derived(hpke, v, "ikmS", "skSm", "pkSm") : null;
    X25519PublicKey pkS = skS == null ? null : skS.publicKey();

    // KEM (§4.1): Encap/AuthEncap with the vector's ephemeral key, Decap/AuthDecap.
    Hpke.Encapsulation encapsulation = hpke.encap(skR.publicKey(), skS, skE);
    assertThat(encapsulation.enc).as("enc").isEqualTo(hex(v, "enc"));
    assertThat(encapsulation.sharedSecret).as("shared_secret").isEqualTo(hex(v, "shared_secret"));
    assertThat(hpke.decap(hex(v, "enc"), skR, pkS))
        .as("shared_secret (decap)")
        .isEqualTo(hex(v, "shared_secret"));

    // Key schedule intermediates (§5.1).
    assertThat(hpke.keyScheduleContext(mode, info, pskId))
        .as("key_schedule_context")
        .isEqualTo(hex(v, "key_schedule_context"));
    assertThat(hpke.secret(hex(v, "shared_secret"), psk)).as("secret").isEqualTo(hex(v, "secret"));

    // Sender through the deterministic path; recipient through the public API.
    try (Hpke.Sender sender = hpke.setupSender(mode, skR.publicKey(), info, psk, pskId, skS, skE);
        Hpke.Recipient recipient = publicRecipient(hpke, mode, v, skR, pkS)) {
      assertThat(sender.enc()).as("enc (sender)").isEqualTo(hex(v, "enc"));
      for (String role : new String[] {"sender", "recipient"}) {
        byte[] key = role.equals("sender") ? sender.key() : recipient.key();
        byte[] baseNonce = role.equals("sender") ? sender.baseNonce() : recipient.baseNonce();
        byte[] exporterSecret =
            role.equals("sender") ? sender.exporterSecret() : recipient.exporterSecret();
        assertThat(key).as("key (" + role + ")").isEqualTo(hex(v, "key"));
        assertThat(baseNonce).as("base_nonce (" + role + ")").isEqualTo(hex(v, "base_nonce"));
        assertThat(exporterSecret)
            .as("exporter_secret (" + role + ")")
            .isEqualTo(hex(v, "exporter_secret"));
      }

      // Encryptions, in order (§5.2): seq i uses base_nonce XOR I2OSP(i, Nn).
      int i = 0;
      for (JsonNode e : v.get("encryptions")) {
        byte[] aad = hex(e, "aad");
        byte[] pt = hex(e, "pt");
        byte[] ct = hex(e, "ct");
        assertThat(sender.nextNonce()).as("nonce %d (sender)", i).isEqualTo(hex(e, "nonce"));
        assertThat(recipient.nextNonce()).as("nonce %d (recipient)", i).isEqualTo(hex(e, "nonce"));
        assertThat(sender.seal(aad, pt)).as("ct %d", i).isEqualTo(ct);
        assertThat(recipient.open(aad, ct)).as("pt %d", i).isEqualTo(pt);
        encryptionsChecked++;
        i++;
      }
      assertThat(sender.sequenceNumber()).isEqualTo(i);
      assertThat(recipient.sequenceNumber()).isEqualTo(i);

      if (hpke.aead() == Hpke.AeadId.EXPORT_ONLY) {
        assertThat(v.get("encryptions").size()).isZero();
        assertThatThrownBy(() -> sender.seal(new byte[0], new byte[0]))
            .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> recipient.open(new byte[0], new byte[16]))
            .isInstanceOf(IllegalStateException.class);
      }

      // Exports (§5.3), on both sides.
      for (JsonNode x : v.get("exports")) {
        byte[] context = hex(x, "exporter_context");
        int length = x.get("L").asInt();
        byte[] expected = hex(x, "exported_value");
        try (SecretBytes s = sender.export(context, length);
            SecretBytes r = recipient.export(context, length)) {
          assertThat(s.copyOfSecret()).as("export (sender)").isEqualTo(expected);
          assertThat(r.copyOfSecret()).as("export (recipient)").isEqualTo(expected);
        }
        exportsChecked++;
      }
    }
  }

  private static Hpke.Recipient publicRecipient(
      Hpke hpke, Hpke.Mode mode, JsonNode v, X25519PrivateKey skR, X25519PublicKey pkS)
      throws Exception {
    byte[] enc = hex(v, "enc");
    byte[] info = hex(v, "info");
    switch (mode) {
      case BASE:
        return hpke.setupBaseRecipient(enc, skR, info);
      case PSK:
        return hpke.setupPskRecipient(
            enc, skR, info, SecretBytes.copyOf(hex(v, "psk")), hex(v, "psk_id"));
      case AUTH:
        return hpke.setupAuthRecipient(enc, skR, info, pkS);
      case AUTH_PSK:
        return hpke.setupAuthPskRecipient(
            enc, skR, info, SecretBytes.copyOf(hex(v, "psk")), hex(v, "psk_id"), pkS);
      default:
        throw new AssertionError(mode);
    }
  }

  private static X25519PrivateKey derived(Hpke hpke, JsonNode v, String ikm, String sk, String pk) {
    X25519PrivateKey key = hpke.deriveKeyPair(hex(v, ikm));
    try (SecretBytes s = key.secret()) {
      assertThat(s.copyOfSecret()).as(sk).isEqualTo(hex(v, sk));
    }
    assertThat(key.publicKey().toByteArray()).as(pk).isEqualTo(hex(v, pk));
    return key;
  }

  /** The suite of an entry, or null when it is not one {@link Hpke} implements. */
  private static Hpke suiteOf(JsonNode v) {
    if (v.get("kem_id").asInt() != Hpke.Kem.DHKEM_X25519_HKDF_SHA256.id()
        || v.get("kdf_id").asInt() != Hpke.Kdf.HKDF_SHA256.id()) {
      return null;
    }
    int aeadId = v.get("aead_id").asInt();
    for (Hpke.AeadId aead : Hpke.AeadId.values()) {
      if (aead.id() == aeadId) {
        return Hpke.of(Hpke.Kem.DHKEM_X25519_HKDF_SHA256, Hpke.Kdf.HKDF_SHA256, aead);
      }
    }
    return null;
  }

  private static byte[] hex(JsonNode node, String field) {
    return Vectors.hex(node.get(field));
  }
}
