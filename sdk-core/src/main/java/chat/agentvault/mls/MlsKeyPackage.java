package chat.agentvault.mls;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.mls.keys.KeyPackageBundle;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.MlsMessage;
import java.time.Duration;
import java.util.Objects;

/**
 * A KeyPackage (RFC 9420 §10) with its three private keys (signature, leaf encryption, init). The
 * public part, {@link #toBytes()}, is published so that members can add this client; the object is
 * kept to join from the resulting Welcome. Holds secrets: {@link #toString()} shows the identity only,
 * {@link #close()} wipes the keys.
 */
public final class MlsKeyPackage implements AutoCloseable {
  /** Cipher suite 0x0001: MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519. */
  public static final int SUITE_X25519_AES128GCM_ED25519 = 1;
  /** Cipher suite 0x0003: MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519. */
  public static final int SUITE_X25519_CHACHA20POLY1305_ED25519 = 3;

  private static final Duration VALIDITY = Duration.ofDays(90);

  final CipherSuite suite;
  final KeyPackage keyPackage;
  final byte[] signaturePriv;
  final byte[] encryptionPriv;
  final byte[] initPriv;

  private MlsKeyPackage(CipherSuite suite, KeyPackage kp, byte[] sig, byte[] enc, byte[] init) {
    this.suite = suite;
    this.keyPackage = kp;
    this.signaturePriv = sig;
    this.encryptionPriv = enc;
    this.initPriv = init;
  }

  /**
   * Fresh keys and a signed KeyPackage with a basic credential for {@code identity}, valid from an
   * hour ago for 90 days.
   *
   * @throws chat.agentvault.mls.crypto.UnsupportedCipherSuiteException for suites other than 1 and 3
   */
  public static MlsKeyPackage generate(int cipherSuite, Bytes identity) {
    Objects.requireNonNull(identity, "identity");
    CipherSuite cs = CipherSuites.forId(cipherSuite);
    // One creation path for KeyPackages: mls.keys (capabilities with GREASE, §10 and §13.5).
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate();
        SecretBytes seed = sk.seed();
        KeyPackageBundle bundle =
            KeyPackageBundle.builder(cipherSuite, Credential.basic(identity), sk).validity(VALIDITY).build();
        SecretBytes enc = bundle.encryptionPrivateKey();
        SecretBytes init = bundle.initPrivateKey()) {
      return new MlsKeyPackage(
          cs, bundle.keyPackage(), seed.copyOfSecret(), enc.copyOfSecret(), init.copyOfSecret());
    }
  }

  /** The serialized {@code MLSMessage} carrying the KeyPackage: public, to be published. */
  public Bytes toBytes() {
    return Bytes.wrap(new MlsMessage(keyPackage).toByteArray());
  }

  public int cipherSuite() {
    return suite.id();
  }

  public Bytes identity() {
    return keyPackage.leafNode().credential().identity();
  }

  @Override
  public void close() {
    SecretBytes.wipe(signaturePriv);
    SecretBytes.wipe(encryptionPriv);
    SecretBytes.wipe(initPriv);
  }

  @Override
  public String toString() {
    return "MlsKeyPackage[suite " + suite.id() + ", identity " + identity() + ", keys redacted]";
  }
}
