package chat.agentvault.mls.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.Bytes;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.UnsupportedCipherSuiteException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** GREASE values (RFC 9420 §13.5) pass through; unknown extensions are kept; other suites are refused. */
class GreaseAndSuitesTest {
  /** §13.5: GREASE values are 0x0A0A, 0x1A1A, ... 0xEAEA. */
  private static final List<Integer> GREASE = List.of(0x0A0A, 0x2A2A, 0xEAEA);

  private static LeafNode leafWithGrease() {
    Capabilities caps =
        new Capabilities(
            List.of(1, 0x1A1A), List.of(1, 3, 0x3A3A), GREASE, List.of(0x4A4A), List.of(1, 0x5A5A));
    return new LeafNode(
        Bytes.wrap(new byte[32]),
        Bytes.wrap(new byte[32]),
        Credential.basic(Bytes.of((byte) 'a')),
        caps,
        Codes.LEAF_SOURCE_KEY_PACKAGE,
        new Lifetime(1, 2),
        null,
        List.of(new Extension(0x0A0A, Bytes.of((byte) 1, (byte) 2)), new Extension(0xFF00, Bytes.EMPTY)),
        Bytes.wrap(new byte[64]));
  }

  @Test
  void greaseInCapabilitiesAndExtensionsRoundTrips() {
    KeyPackage kp =
        new KeyPackage(
            1, 3, Bytes.wrap(new byte[32]), leafWithGrease(), List.of(new Extension(0xDADA, Bytes.of((byte) 9))), Bytes.wrap(new byte[64]));
    byte[] wire = new MlsMessage(kp).toByteArray();
    MlsMessage back = MlsMessage.parse(wire);
    assertThat(back.body()).isEqualTo(kp);
    assertThat(back.toByteArray()).isEqualTo(wire);
    KeyPackage decoded = (KeyPackage) back.body();
    assertThat(decoded.leafNode().capabilities().extensions()).containsExactlyElementsOf(GREASE);
    assertThat(decoded.leafNode().extensions()).extracting(Extension::type).containsExactly(0x0A0A, 0xFF00);
    assertThat(decoded.extensions().get(0).data()).isEqualTo(Bytes.of((byte) 9));
  }

  @Test
  void unknownGroupContextExtensionsArePreserved() {
    GroupContext gc =
        new GroupContext(1, 1, Bytes.of((byte) 7), 3, Bytes.wrap(new byte[32]), Bytes.wrap(new byte[32]),
            List.of(new Extension(0x8888, Bytes.of((byte) 1, (byte) 2, (byte) 3))));
    assertThat(TlsReader.decodeAll(gc.toByteArray(), GroupContext::decode)).isEqualTo(gc);
  }

  @Test
  void onlySuitesOneAndThreeAreImplemented() {
    assertThat(CipherSuites.forId(1).id()).isEqualTo(1);
    assertThat(CipherSuites.forId(3).id()).isEqualTo(3);
    for (int other : new int[] {0, 2, 4, 5, 6, 7, 0x0A0A, 0xFFFF}) {
      assertThatThrownBy(() -> CipherSuites.forId(other))
          .isInstanceOf(UnsupportedCipherSuiteException.class)
          .hasMessageContaining(String.format("0x%04x", other))
          .satisfies(e -> assertThat(((UnsupportedCipherSuiteException) e).suite()).isEqualTo(other));
    }
  }
}
