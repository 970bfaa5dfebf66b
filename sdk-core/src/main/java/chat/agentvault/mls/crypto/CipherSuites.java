package chat.agentvault.mls.crypto;

import chat.agentvault.crypto.Hpke;
import chat.agentvault.crypto.internal.InsecureNonceAead;
import java.util.List;

/** The cipher suites this engine implements, by IANA code point (RFC 9420 §17.1). */
public final class CipherSuites {
  public static final int MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519 = 0x0001;
  public static final int MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519 = 0x0003;

  private static final CipherSuite SUITE_1 =
      new X25519Ed25519Suite(
          MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
          InsecureNonceAead.Algorithm.AES_GCM,
          Hpke.AeadId.AES_128_GCM);
  private static final CipherSuite SUITE_3 =
      new X25519Ed25519Suite(
          MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519,
          InsecureNonceAead.Algorithm.CHACHA20_POLY1305,
          Hpke.AeadId.CHACHA20_POLY1305);

  private CipherSuites() {}

  public static boolean isSupported(int id) {
    return id == 1 || id == 3;
  }

  /** @throws UnsupportedCipherSuiteException for any other code point */
  public static CipherSuite forId(int id) {
    switch (id) {
      case MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519:
        return SUITE_1;
      case MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519:
        return SUITE_3;
      default:
        throw new UnsupportedCipherSuiteException(id);
    }
  }

  public static List<Integer> supported() {
    return List.of(1, 3);
  }
}
