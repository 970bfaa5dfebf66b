package chat.agentvault.mls.keys;

import chat.agentvault.Bytes;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Ed25519PrivateKey;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.Sha256;
import chat.agentvault.crypto.X25519PrivateKey;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.codec.TlsWriter;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.crypto.UnsupportedCipherSuiteException;
import chat.agentvault.mls.message.Capabilities;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Credential;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A KeyPackage this client created (RFC 9420 §10) together with its two private keys: the HPKE
 * init key (opens the Welcome's group secrets) and the leaf encryption key (the new member's leaf
 * in the tree). A later join finds it by {@link #ref()}.
 *
 * <p>Create with {@link #builder}; store with {@link #serialize()} and load with {@link
 * #parse(byte[])}. {@link #toString()} prints the suite, the reference and the last-resort flag,
 * never a private key; there is no {@code equals}/{@code hashCode}. {@link #close()} wipes this
 * object's private keys.
 */
public final class KeyPackageBundle implements AutoCloseable {
  /** Format version of {@link #serialize()}. */
  static final int RECORD_VERSION = 1;

  private static final int CHECKSUM_LENGTH = 32;

  /** Default validity: {@code not_after = now + 90 days}. */
  public static final Duration DEFAULT_VALIDITY = Duration.ofDays(90);

  /** Default back-dating of {@code not_before}, for peers whose clocks run behind ours. */
  public static final Duration DEFAULT_NOT_BEFORE_SKEW = Duration.ofHours(1);

  private final KeyPackage keyPackage;
  private final KeyPackageRef ref;
  private final SecretBytes initPrivateKey;
  private final SecretBytes encryptionPrivateKey;

  private KeyPackageBundle(KeyPackage keyPackage, SecretBytes initPrivateKey, SecretBytes encryptionPrivateKey) {
    this.keyPackage = keyPackage;
    this.ref = KeyPackageRef.compute(keyPackage);
    this.initPrivateKey = initPrivateKey;
    this.encryptionPrivateKey = encryptionPrivateKey;
  }

  /**
   * A builder of KeyPackages for {@code cipherSuite} (0x0001 or 0x0003), {@code credential} (basic
   * or x509) and the client's {@code signatureKey}, which the builder keeps (not copies) to sign
   * every KeyPackage it builds.
   *
   * @throws UnsupportedCipherSuiteException for another suite
   * @throws IllegalArgumentException for another credential type
   */
  public static Builder builder(int cipherSuite, Credential credential, Ed25519PrivateKey signatureKey) {
    return new Builder(CipherSuites.forId(cipherSuite), credential, signatureKey);
  }

  /** The public, signed KeyPackage, to publish (e.g. wrapped in an {@code MlsMessage}). */
  public KeyPackage keyPackage() {
    return keyPackage;
  }

  public KeyPackageRef ref() {
    return ref;
  }

  public int cipherSuite() {
    return keyPackage.cipherSuite();
  }

  public boolean isLastResort() {
    return KeyPackages.isLastResort(keyPackage);
  }

  /** Whether {@code now} is after {@code not_after}. */
  public boolean isExpiredAt(Instant now) {
    Objects.requireNonNull(now, "now");
    return Long.compareUnsigned(Math.max(0, now.getEpochSecond()), keyPackage.leafNode().lifetime().notAfter()) > 0;
  }

  /** A copy of the HPKE private key for {@code init_key}; the caller closes it. */
  public SecretBytes initPrivateKey() {
    return copy(initPrivateKey);
  }

  /** A copy of the HPKE private key for {@code leaf_node.encryption_key}; the caller closes it. */
  public SecretBytes encryptionPrivateKey() {
    return copy(encryptionPrivateKey);
  }

  private static SecretBytes copy(SecretBytes s) {
    byte[] raw = s.copyOfSecret();
    try {
      return SecretBytes.copyOf(raw);
    } finally {
      SecretBytes.wipe(raw);
    }
  }

  /**
   * The storage record, <em>private keys included</em> (store it only where secrets may go; the
   * caller wipes the array):
   *
   * <pre>
   * uint8 record_version = 1;
   * opaque key_package&lt;V&gt;;       // the bare KeyPackage encoding
   * opaque init_private_key&lt;V&gt;;
   * opaque encryption_private_key&lt;V&gt;;
   * opaque checksum[32];             // SHA-256 of everything before it
   * </pre>
   *
   * The checksum catches corruption that the semantic checks of {@link #parse} would miss (X25519
   * ignores the clamped bits of a private key, so some flipped bits still give the same public key).
   */
  public byte[] serialize() {
    byte[] init = initPrivateKey.copyOfSecret();
    byte[] enc = encryptionPrivateKey.copyOfSecret();
    try {
      TlsWriter w = new TlsWriter(1024);
      w.u8(RECORD_VERSION).opaque(keyPackage.toByteArray()).opaque(init).opaque(enc);
      byte[] body = w.toByteArray();
      byte[] out = Arrays.copyOf(body, body.length + CHECKSUM_LENGTH);
      System.arraycopy(Sha256.hash(body), 0, out, body.length, CHECKSUM_LENGTH);
      SecretBytes.wipe(body);
      return out;
    } finally {
      SecretBytes.wipe(init);
      SecretBytes.wipe(enc);
    }
  }

  /**
   * Loads a record of {@link #serialize()}. Every byte is checked: the checksum matches, the framing
   * decodes exactly, the KeyPackage signature verifies, and both private keys give the
   * KeyPackage's public keys.
   *
   * @throws KeyPackageRecordException UNSUPPORTED_VERSION for another record version, CORRUPTED
   *     for anything else wrong
   */
  public static KeyPackageBundle parse(byte[] record) {
    Objects.requireNonNull(record, "record");
    if (record.length == 0) {
      throw corrupted("empty KeyPackage record", null);
    }
    if ((record[0] & 0xff) != RECORD_VERSION) {
      throw new KeyPackageRecordException(
          KeyPackageRecordException.Reason.UNSUPPORTED_VERSION,
          "KeyPackage record version " + (record[0] & 0xff) + " (this SDK reads " + RECORD_VERSION + ")");
    }
    int bodyLength = record.length - CHECKSUM_LENGTH;
    if (bodyLength < 1) {
      throw corrupted("KeyPackage record too short", null);
    }
    byte[] body = Arrays.copyOf(record, bodyLength);
    Bytes init = null;
    Bytes enc = null;
    try {
      if (!MessageDigest.isEqual(Sha256.hash(body), Arrays.copyOfRange(record, bodyLength, record.length))) {
        throw corrupted("KeyPackage record checksum mismatch", null);
      }
      KeyPackage kp;
      try {
        TlsReader r = TlsReader.of(body);
        r.u8();
        Bytes kpBytes = r.opaque();
        init = r.opaque();
        enc = r.opaque();
        r.finish();
        kp = TlsReader.decodeAll(kpBytes, KeyPackage::decode);
      } catch (DecodeException | IllegalArgumentException | NullPointerException e) {
        throw corrupted("KeyPackage record does not decode", e);
      }
      CipherSuite cs;
      try {
        cs = CipherSuites.forId(kp.cipherSuite());
      } catch (UnsupportedCipherSuiteException e) {
        throw corrupted("KeyPackage record names an unsupported cipher suite", e);
      }
      if (kp.leafNode().source() != Codes.LEAF_SOURCE_KEY_PACKAGE) {
        throw corrupted("KeyPackage record holds a leaf node of another source", null);
      }
      try {
        MlsCrypto.verifyWithLabel(
            cs,
            kp.leafNode().signatureKey().unsafeArray(),
            "KeyPackageTBS",
            kp.toBeSigned(),
            kp.signature().unsafeArray());
      } catch (GeneralSecurityException e) {
        throw corrupted("KeyPackage record signature does not verify", e);
      }
      checkKeyPair(cs, init, kp.initKey(), "init");
      checkKeyPair(cs, enc, kp.leafNode().encryptionKey(), "encryption");
      return new KeyPackageBundle(kp, SecretBytes.copyOf(init.unsafeArray()), SecretBytes.copyOf(enc.unsafeArray()));
    } finally {
      // The body copy and the two decoded private keys exist for this method alone: wipe them.
      SecretBytes.wipe(body);
      if (init != null) {
        SecretBytes.wipe(init.unsafeArray());
      }
      if (enc != null) {
        SecretBytes.wipe(enc.unsafeArray());
      }
    }
  }

  /** Both suites of this engine use DHKEM(X25519): the public key is the scalar times the base point. */
  private static void checkKeyPair(CipherSuite cs, Bytes privateKey, Bytes publicKey, String what) {
    if (privateKey.length() != 32 || KeyPackageValidator.hpkePublicKeyLength(cs) != 32) {
      throw corrupted("KeyPackage record " + what + " private key has the wrong length", null);
    }
    try (X25519PrivateKey sk = X25519PrivateKey.of(privateKey.unsafeArray())) {
      if (!Bytes.wrap(sk.publicKey().toByteArray()).equalsConstantTime(publicKey)) {
        throw corrupted("KeyPackage record " + what + " private key does not match its public key", null);
      }
    }
  }

  private static KeyPackageRecordException corrupted(String message, Throwable cause) {
    return new KeyPackageRecordException(KeyPackageRecordException.Reason.CORRUPTED, message, cause);
  }

  /** Wipes this object's private keys; later use of them throws {@link IllegalStateException}. */
  @Override
  public void close() {
    initPrivateKey.close();
    encryptionPrivateKey.close();
  }

  @Override
  public String toString() {
    return String.format(
        "KeyPackageBundle[suite=0x%04x, ref=%s, lastResort=%s]", cipherSuite(), ref.value().hex(), isLastResort());
  }

  /**
   * Builds KeyPackages; each {@link #build()} draws fresh keys. Not thread-safe; setters check
   * their argument at once.
   */
  public static final class Builder {
    private final CipherSuite suite;
    private final Credential credential;
    private final Ed25519PrivateKey signatureKey;
    private Duration validity = DEFAULT_VALIDITY;
    private Duration notBeforeSkew = DEFAULT_NOT_BEFORE_SKEW;
    private boolean lastResort;
    private Clock clock = Clock.systemUTC();

    private Builder(CipherSuite suite, Credential credential, Ed25519PrivateKey signatureKey) {
      this.suite = suite;
      this.credential = Objects.requireNonNull(credential, "credential");
      this.signatureKey = Objects.requireNonNull(signatureKey, "signatureKey");
      if (credential.type() != Codes.CREDENTIAL_BASIC && credential.type() != Codes.CREDENTIAL_X509) {
        throw new IllegalArgumentException("credential type must be basic or x509, not " + credential.type());
      }
    }

    /** A builder with the same settings. */
    Builder copy() {
      Builder b = new Builder(suite, credential, signatureKey);
      b.validity = validity;
      b.notBeforeSkew = notBeforeSkew;
      b.lastResort = lastResort;
      b.clock = clock;
      return b;
    }

    /**
     * {@code not_after - now}: positive and, with the skew, at most {@link
     * KeyPackageValidator#DEFAULT_MAX_LIFETIME} so that default validators accept it.
     */
    public Builder validity(Duration validity) {
      Objects.requireNonNull(validity, "validity");
      if (validity.isNegative() || validity.isZero() || validity.getNano() != 0) {
        throw new IllegalArgumentException("validity must be a positive whole number of seconds: " + validity);
      }
      checkTotal(validity, notBeforeSkew);
      this.validity = validity;
      return this;
    }

    /** {@code now - not_before}: zero to one day. */
    public Builder notBeforeSkew(Duration skew) {
      Objects.requireNonNull(skew, "skew");
      if (skew.isNegative() || skew.compareTo(Duration.ofDays(1)) > 0 || skew.getNano() != 0) {
        throw new IllegalArgumentException("notBeforeSkew must be whole seconds from 0 to 1 day: " + skew);
      }
      checkTotal(validity, skew);
      this.notBeforeSkew = skew;
      return this;
    }

    private static void checkTotal(Duration validity, Duration skew) {
      if (validity.plus(skew).compareTo(KeyPackageValidator.DEFAULT_MAX_LIFETIME) > 0) {
        throw new IllegalArgumentException(
            "validity plus notBeforeSkew must not exceed " + KeyPackageValidator.DEFAULT_MAX_LIFETIME.toDays() + " days");
      }
    }

    /** Adds the {@code last_resort} extension: the KeyPackage may be used for several joins. */
    public Builder lastResort(boolean lastResort) {
      this.lastResort = lastResort;
      return this;
    }

    /** The clock for the lifetime (default: system UTC). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** A new KeyPackage with fresh init and encryption keys, signed with the signature key. */
    public KeyPackageBundle build() {
      byte[][] init = newKeyPair();
      byte[][] enc = newKeyPair();
      while (Bytes.wrap(enc[1]).equals(Bytes.wrap(init[1]))) { // never in practice (§10.1 requires it)
        SecretBytes.wipe(enc[0]);
        enc = newKeyPair();
      }
      long now = clock.instant().getEpochSecond();
      Lifetime lifetime = new Lifetime(Math.max(0, now - notBeforeSkew.getSeconds()), now + validity.getSeconds());

      // §13.5 GREASE: one unknown extension in the LeafNode and one in the KeyPackage, both listed
      // in the capabilities, plus a GREASE value in every other list that allows one.
      int[] greaseExt = KeyPackages.twoRandomGrease();
      Capabilities caps = KeyPackages.greasedCapabilities(List.of(greaseExt[0], greaseExt[1]));
      List<Extension> leafExtensions = List.of(new Extension(greaseExt[0], Bytes.EMPTY));
      List<Extension> kpExtensions = new ArrayList<>();
      if (lastResort) {
        kpExtensions.add(new Extension(KeyPackages.EXT_LAST_RESORT, Bytes.EMPTY));
      }
      kpExtensions.add(
          new Extension(greaseExt[1], Bytes.wrap(Csprng.randomBytes(Csprng.secureRandom().nextInt(17)))));

      byte[] seed;
      try (SecretBytes s = signatureKey.seed()) {
        seed = s.copyOfSecret();
      }
      try {
        LeafNode unsigned =
            new LeafNode(
                Bytes.wrap(enc[1]),
                Bytes.wrap(signatureKey.publicKey().toByteArray()),
                credential,
                caps,
                Codes.LEAF_SOURCE_KEY_PACKAGE,
                lifetime,
                null,
                leafExtensions,
                Bytes.EMPTY);
        LeafNode leaf =
            unsigned.withSignature(
                Bytes.wrap(MlsCrypto.signWithLabel(suite, seed, "LeafNodeTBS", unsigned.toBeSigned(Bytes.EMPTY, 0))));
        KeyPackage tbs = new KeyPackage(Codes.MLS10, suite.id(), Bytes.wrap(init[1]), leaf, kpExtensions, Bytes.EMPTY);
        KeyPackage kp =
            new KeyPackage(
                tbs.version(),
                tbs.cipherSuite(),
                tbs.initKey(),
                leaf,
                tbs.extensions(),
                Bytes.wrap(MlsCrypto.signWithLabel(suite, seed, "KeyPackageTBS", tbs.toBeSigned())));
        return new KeyPackageBundle(kp, SecretBytes.copyOf(init[0]), SecretBytes.copyOf(enc[0]));
      } finally {
        SecretBytes.wipe(seed);
        SecretBytes.wipe(init[0]);
        SecretBytes.wipe(enc[0]);
      }
    }

    /** {private, public} from the suite's DeriveKeyPair over Nsk (32) bytes of the CSPRNG. */
    private byte[][] newKeyPair() {
      byte[] ikm = Csprng.randomBytes(32);
      try {
        return suite.deriveKeyPair(ikm);
      } finally {
        SecretBytes.wipe(ikm);
      }
    }

    @Override
    public String toString() {
      return String.format(
          "KeyPackageBundle.Builder[suite=0x%04x, credentialType=%d, validity=%s, lastResort=%s]",
          suite.id(), credential.type(), validity, lastResort);
    }
  }
}
