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
import chat.agentvault.MessageRejectedException;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.keys.KeyPackageRef;
import chat.agentvault.mls.keys.KeyPackageValidator;
import chat.agentvault.mls.keys.KeyPackages;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;

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
    return generate(cipherSuite, identity, false);
  }

  /**
   * As {@link #generate(int, Bytes)}, with the {@code last_resort} extension when {@code lastResort}
   * (RFC 9420 §16.8: the directory hands it out more than once and never deletes it).
   */
  public static MlsKeyPackage generate(int cipherSuite, Bytes identity, boolean lastResort) {
    Objects.requireNonNull(identity, "identity");
    return generate(cipherSuite, signatureKey -> identity, lastResort);
  }

  /**
   * As {@link #generate(int, Bytes, boolean)}, with the credential identity computed from the fresh
   * signature key: {@code identityFor} gets the leaf's Ed25519 signature public key (32 bytes)
   * before the KeyPackage is signed, and returns the basic credential's identity. So an
   * application can bind the MLS key to a longer-term identity, e.g. put into the credential a
   * signature of its device key over the MLS key, and check it ({@link MlsGroup.Member#signatureKey()},
   * {@link #signatureKeyOf}) where members are added or received.
   *
   * @throws chat.agentvault.mls.crypto.UnsupportedCipherSuiteException for suites other than 1 and 3
   */
  public static MlsKeyPackage generate(int cipherSuite, Function<Bytes, Bytes> identityFor, boolean lastResort) {
    Objects.requireNonNull(identityFor, "identityFor");
    CipherSuite cs = CipherSuites.forId(cipherSuite);
    // One creation path for KeyPackages: mls.keys (capabilities with GREASE, §10 and §13.5).
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.generate();
        SecretBytes seed = sk.seed();
        KeyPackageBundle bundle =
            KeyPackageBundle.builder(
                    cipherSuite,
                    Credential.basic(Objects.requireNonNull(
                        identityFor.apply(Bytes.wrap(sk.publicKey().toByteArray())), "identity")),
                    sk)
                .validity(VALIDITY)
                .lastResort(lastResort)
                .build();
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

  /** Whether it carries the {@code last_resort} extension. */
  public boolean isLastResort() {
    return KeyPackages.isLastResort(keyPackage);
  }

  /** Its {@code KeyPackageRef} (RFC 9420 §5.2): how a Welcome names it ({@link MlsGroup#welcomeKeyPackageRefs}). */
  public Bytes ref() {
    return KeyPackageRef.compute(keyPackage).value();
  }

  /**
   * The credential identity of a published KeyPackage ({@link #toBytes()} of someone), without
   * validating it (adding it validates it).
   *
   * @throws MessageRejectedException MALFORMED when it is not an MLSMessage carrying a KeyPackage
   */
  public static Bytes identityOf(Bytes published) {
    return published(published).leafNode().credential().identity();
  }

  /**
   * The leaf signature public key (Ed25519, 32 bytes) of a published KeyPackage, without validating
   * it (adding it validates it, its signature by this key included).
   *
   * @throws MessageRejectedException MALFORMED when it is not an MLSMessage carrying a KeyPackage
   */
  public static Bytes signatureKeyOf(Bytes published) {
    return published(published).leafNode().signatureKey();
  }

  private static KeyPackage published(Bytes published) {
    Objects.requireNonNull(published, "published");
    try {
      if (MlsMessage.parse(published.unsafeArray()).body() instanceof KeyPackage kp) {
        return kp;
      }
    } catch (DecodeException e) {
      throw new MessageRejectedException(MessageRejectedException.Reason.MALFORMED, "not an MLSMessage", e);
    }
    throw new MessageRejectedException(MessageRejectedException.Reason.MALFORMED, "not a KeyPackage");
  }

  /**
   * The storage record of this KeyPackage <em>with its private keys</em>, so that a Welcome arriving
   * after a restart can still be joined; store it only encrypted (e.g. an {@code
   * identity.EncryptedFileStore}) and wipe the array. Layout: {@code uint8 version = 1; opaque
   * key_package<V>; opaque signature_private_key<V>; opaque encryption_private_key<V>; opaque
   * init_private_key<V>}.
   */
  public byte[] toPrivateRecord() {
    TlsWriter w = new TlsWriter(1024);
    w.u8(RECORD_VERSION)
        .opaque(keyPackage.toByteArray())
        .opaque(signaturePriv)
        .opaque(encryptionPriv)
        .opaque(initPriv);
    return w.toByteArray();
  }

  /**
   * Reads a record of {@link #toPrivateRecord()}; checks that the KeyPackage verifies and that every
   * private key matches its public key.
   *
   * @throws IllegalArgumentException the record is malformed, of another version, or inconsistent
   */
  public static MlsKeyPackage fromPrivateRecord(byte[] record) {
    Objects.requireNonNull(record, "record");
    KeyPackage kp;
    byte[] sig;
    byte[] enc;
    byte[] init;
    try {
      TlsReader r = TlsReader.of(record);
      if (r.u8() != RECORD_VERSION) {
        throw new IllegalArgumentException("unsupported KeyPackage record version");
      }
      kp = TlsReader.decodeAll(r.opaque(), KeyPackage::decode);
      sig = r.opaque().toByteArray();
      enc = r.opaque().toByteArray();
      init = r.opaque().toByteArray();
      r.finish();
    } catch (RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && iae.getMessage() != null
          && iae.getMessage().startsWith("unsupported")) {
        throw iae;
      }
      throw new IllegalArgumentException("KeyPackage record does not decode", e);
    }
    CipherSuite cs = CipherSuites.forId(kp.cipherSuite());
    KeyPackageValidator.create().validateIgnoringLifetime(kp);
    try (Ed25519PrivateKey sk = Ed25519PrivateKey.fromSeed(sig)) {
      if (!Bytes.wrap(sk.publicKey().toByteArray()).equals(kp.leafNode().signatureKey())) {
        throw new IllegalArgumentException("KeyPackage record: signature key does not match");
      }
    }
    checkX25519(enc, kp.leafNode().encryptionKey(), "encryption");
    checkX25519(init, kp.initKey(), "init");
    return new MlsKeyPackage(cs, kp, sig, enc, init);
  }

  private static void checkX25519(byte[] priv, Bytes pub, String what) {
    try (X25519PrivateKey k = X25519PrivateKey.of(priv)) {
      if (!Bytes.wrap(k.publicKey().toByteArray()).equals(pub)) {
        throw new IllegalArgumentException("KeyPackage record: " + what + " key does not match");
      }
    }
  }

  private static final int RECORD_VERSION = 1;

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
