package chat.agentvault.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.crypto.Ed25519PublicKey;
import java.util.HexFormat;
import java.util.Locale;
import org.bouncycastle.crypto.digests.Blake2bDigest;
import org.junit.jupiter.api.Test;

class FingerprintTest {
  // RFC 8032 §7.1 TEST 1 public key.
  private static final byte[] PK =
      HexFormat.of().parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  // Computed independently with Python: hashlib.blake2b(PK, digest_size=32).hexdigest()
  private static final String EXPECTED_HEX =
      "7849ac3049680be1ef762efe0d36e01733c3464eb0c7c558138acf24bb263bd3";

  private static Fingerprint fixed() throws Exception {
    return Fingerprint.of(Ed25519PublicKey.of(PK));
  }

  @Test
  void fixedKeyHasTheIndependentlyComputedFingerprint() throws Exception {
    Blake2bDigest digest = new Blake2bDigest(256);
    digest.update(PK, 0, PK.length);
    byte[] bc = new byte[32];
    digest.doFinal(bc, 0);
    assertThat(HexFormat.of().formatHex(bc)).isEqualTo(EXPECTED_HEX);

    Fingerprint fp = fixed();
    assertThat(fp.toByteArray()).isEqualTo(bc);
    assertThat(fp.full())
        .isEqualTo(
            "7849:ac30:4968:0be1:ef76:2efe:0d36:e017:33c3:464e:b0c7:c558:138a:cf24:bb26:3bd3");
    assertThat(fp.full().replace(":", "")).isEqualTo(EXPECTED_HEX);
    assertThat(fp.shortForm()).isEqualTo("7849:ac30:4968:0be1");
    assertThat(fp.toString()).isEqualTo(fp.full());
  }

  @Test
  void fullFormatIsSixteenGroupsOfFourLowercaseHex() {
    try (DeviceIdentity id = DeviceIdentity.generate()) {
      assertThat(id.fingerprint().full()).matches("[0-9a-f]{4}(:[0-9a-f]{4}){15}");
      assertThat(id.fingerprint().shortForm()).matches("[0-9a-f]{4}(:[0-9a-f]{4}){3}");
    }
  }

  @Test
  void parsesAndMatchesPresentedFormsCaseInsensitively() throws Exception {
    Fingerprint fp = fixed();
    assertThat(Fingerprint.parse(EXPECTED_HEX)).isEqualTo(fp);
    assertThat(Fingerprint.parse(EXPECTED_HEX.toUpperCase(Locale.ROOT))).isEqualTo(fp);
    assertThat(Fingerprint.parse("  " + fp.full().toUpperCase(Locale.ROOT) + "\n")).isEqualTo(fp);
    assertThat(fp.matches(fp.full())).isTrue();
    assertThat(fp.matches(EXPECTED_HEX.toUpperCase(Locale.ROOT))).isTrue();
    assertThat(fp.hashCode()).isEqualTo(Fingerprint.parse(EXPECTED_HEX).hashCode());
  }

  @Test
  void rejectsOtherFingerprintsShortFormsAndMalformedInput() throws Exception {
    Fingerprint fp = fixed();
    String other = EXPECTED_HEX.substring(0, 63) + "4";
    assertThat(fp.matches(other)).isFalse();
    assertThat(fp.matches(fp.shortForm())).isFalse();
    assertThat(fp.matches("")).isFalse();
    assertThat(fp.matches(EXPECTED_HEX + "00")).isFalse();
    assertThat(fp.matches(EXPECTED_HEX.substring(0, 62) + "zz")).isFalse();
    // Colons in the wrong places.
    assertThat(fp.matches(":" + fp.full().substring(0, fp.full().length() - 1))).isFalse();
    assertThat(fp.matches(fp.full().replace(':', '-'))).isFalse();
    assertThat(fp.equals(Fingerprint.parse(other))).isFalse();
    assertThatThrownBy(() -> Fingerprint.parse("7849:ac30"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("7849");
  }
}
