package chat.agentvault.mls;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import chat.agentvault.mls.message.MlsMessage;
import java.time.Duration;
import java.util.List;
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
    byte[] sigPriv;
    Bytes sigPub;
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate();
        SecretBytes seed = sk.seed()) {
      sigPriv = seed.copyOfSecret();
      sigPub = Bytes.wrap(sk.publicKey().toByteArray());
    }
    byte[][] enc = cs.deriveKeyPair(Csprng.randomBytes(cs.hashLength()));
    byte[][] init = cs.deriveKeyPair(Csprng.randomBytes(cs.hashLength()));
    long now = System.currentTimeMillis() / 1000;
    LeafNode unsigned =
        new LeafNode(
            Bytes.wrap(enc[1]),
            sigPub,
            Credential.basic(identity),
            new Capabilities(List.of(Codes.MLS10), List.of(cs.id()), List.of(), List.of(), List.of(Codes.CREDENTIAL_BASIC)),
            Codes.LEAF_SOURCE_KEY_PACKAGE,
            new Lifetime(now - 3600, now + VALIDITY.toSeconds()),
            null,
            List.of(),
            Bytes.EMPTY);
    byte[] leafSig = MlsCrypto.signWithLabel(cs, sigPriv, "LeafNodeTBS", unsigned.toBeSigned(Bytes.EMPTY, 0));
    LeafNode leaf = unsigned.withSignature(Bytes.wrap(leafSig));
    KeyPackage tbs = new KeyPackage(Codes.MLS10, cs.id(), Bytes.wrap(init[1]), leaf, List.of(), Bytes.EMPTY);
    byte[] sig = MlsCrypto.signWithLabel(cs, sigPriv, "KeyPackageTBS", tbs.toBeSigned());
    KeyPackage kp = new KeyPackage(Codes.MLS10, cs.id(), Bytes.wrap(init[1]), leaf, List.of(), Bytes.wrap(sig));
    return new MlsKeyPackage(cs, kp, sigPriv, enc[0], init[0]);
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
