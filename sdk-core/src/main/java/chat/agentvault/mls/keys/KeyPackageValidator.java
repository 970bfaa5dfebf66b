package chat.agentvault.mls.keys;

import chat.agentvault.Bytes;
import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.mls.codec.DecodeException;
import chat.agentvault.mls.codec.TlsReader;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.crypto.UnsupportedCipherSuiteException;
import chat.agentvault.mls.message.Codes;
import chat.agentvault.mls.message.Extension;
import chat.agentvault.mls.message.GroupContext;
import chat.agentvault.mls.message.KeyPackage;
import chat.agentvault.mls.message.LeafNode;
import chat.agentvault.mls.message.Lifetime;
import chat.agentvault.mls.message.MlsMessage;
import chat.agentvault.mls.tree.RatchetTree;
import chat.agentvault.mls.tree.TreeValidation;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Validation of a received KeyPackage (RFC 9420 §10.1). Every failure is a {@link
 * MessageRejectedException}:
 *
 * <ul>
 *   <li>{@link Reason#OVERSIZED}: the encoding is longer than {@link #MAX_ENCODED_LENGTH};
 *   <li>{@link Reason#MALFORMED}: it does not decode, a version other than mls10, an unsupported
 *       cipher suite, a suite or version other than the group's, a leaf node source other than
 *       key_package, an init or encryption key of the wrong length, {@code init_key} equal to
 *       {@code leaf_node.encryption_key}, an extension not listed in the capabilities, a lifetime
 *       range that is inverted or longer than the maximum, a credential type or required
 *       capability the group cannot use;
 *   <li>{@link Reason#BAD_SIGNATURE}: the KeyPackage or LeafNode signature does not verify with
 *       {@code leaf_node.signature_key};
 *   <li>{@link Reason#EXPIRED}: the given time is outside the lifetime (expired or not yet valid).
 * </ul>
 *
 * Credential validation (§5.3.1) is the application's policy and not done here. Immutable and
 * thread-safe.
 */
public final class KeyPackageValidator {
  /** The longest encoding {@link #decode} accepts (x509 chains included). */
  public static final int MAX_ENCODED_LENGTH = 64 * 1024;

  /**
   * The longest total lifetime ({@code not_after - not_before}) accepted by default: the
   * application-defined maximum that §7.2 requires. A year, well above what {@link
   * KeyPackageBundle} creates by default (90 days plus the not-before skew).
   */
  public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofDays(365);

  private static final Set<Integer> DEFAULT_EXTENSIONS = Set.of(1, 2, 3, 4, 5);
  private static final KeyPackageValidator DEFAULT = new KeyPackageValidator(DEFAULT_MAX_LIFETIME);

  private final Duration maxLifetime;

  private KeyPackageValidator(Duration maxLifetime) {
    this.maxLifetime = maxLifetime;
  }

  /** A validator with {@link #DEFAULT_MAX_LIFETIME}. */
  public static KeyPackageValidator create() {
    return DEFAULT;
  }

  /** A validator refusing total lifetimes longer than {@code maxLifetime} (positive). */
  public KeyPackageValidator withMaxLifetime(Duration maxLifetime) {
    Objects.requireNonNull(maxLifetime, "maxLifetime");
    if (maxLifetime.isNegative() || maxLifetime.isZero()) {
      throw new IllegalArgumentException("maxLifetime must be positive: " + maxLifetime);
    }
    return new KeyPackageValidator(maxLifetime);
  }

  public Duration maxLifetime() {
    return maxLifetime;
  }

  /**
   * Decodes a KeyPackage framed as {@code MLSMessage} (wire format mls_key_package) or bare. Only
   * decodes: call a {@code validate} method next.
   *
   * @throws MessageRejectedException OVERSIZED or MALFORMED (including an MLSMessage of another
   *     wire format or protocol version)
   */
  public static KeyPackage decode(byte[] encoded) {
    Objects.requireNonNull(encoded, "encoded");
    if (encoded.length > MAX_ENCODED_LENGTH) {
      throw new MessageRejectedException(
          Reason.OVERSIZED, "KeyPackage of " + encoded.length + " bytes exceeds " + MAX_ENCODED_LENGTH);
    }
    RuntimeException framed = null;
    if (encoded.length >= 4
        && u16(encoded, 0) == Codes.MLS10
        && u16(encoded, 2) == Codes.WIRE_KEY_PACKAGE) {
      // The same four bytes also start a bare KeyPackage of suite 0x0005: try both.
      // MLSMessage.decode accepts only mls10, and validate() requires KeyPackage.version mls10,
      // so the two versions agree as §10 requires.
      try {
        return (KeyPackage) MlsMessage.parse(encoded).body();
      } catch (DecodeException | IllegalArgumentException | NullPointerException e) {
        framed = e;
      }
    }
    try {
      return TlsReader.decodeAll(encoded, KeyPackage::decode);
    } catch (DecodeException | IllegalArgumentException | NullPointerException e) {
      MessageRejectedException rejected =
          new MessageRejectedException(Reason.MALFORMED, "not a KeyPackage or MLSMessage(KeyPackage)", e);
      if (framed != null) {
        rejected.addSuppressed(framed);
      }
      throw rejected;
    }
  }

  /** {@link #decode} then {@link #validate(KeyPackage, Instant)}. */
  public KeyPackage decodeAndValidate(byte[] encoded, Instant now) {
    KeyPackage kp = decode(encoded);
    validate(kp, now);
    return kp;
  }

  /**
   * Validates a KeyPackage on its own (§10.1 without a group: downloaded, before use), checking the
   * lifetime against {@code now} (MUST for a KeyPackage about to be sent in an Add, §7.3).
   */
  public void validate(KeyPackage keyPackage, Instant now) {
    Objects.requireNonNull(now, "now");
    check(keyPackage, null, null, nowSeconds(now));
  }

  /**
   * As {@link #validate(KeyPackage, Instant)} but ignores the {@code lifetime} field entirely,
   * for received leaves where §7.3 makes the check only RECOMMENDED (the KeyPackage may have
   * expired in transit), and for test vectors.
   */
  public void validateIgnoringLifetime(KeyPackage keyPackage) {
    check(keyPackage, null, null, -1);
  }

  /**
   * Validates a KeyPackage for a group (§10.1, §7.3): as {@link #validate(KeyPackage, Instant)},
   * plus the group's version and cipher suite, the {@code required_capabilities} of {@code
   * context}, credential-type support both ways with every member of {@code tree}, and uniqueness
   * of the signature and encryption keys among them.
   */
  public void validateForGroup(KeyPackage keyPackage, GroupContext context, RatchetTree tree, Instant now) {
    Objects.requireNonNull(now, "now");
    check(keyPackage, Objects.requireNonNull(context, "context"), Objects.requireNonNull(tree, "tree"), nowSeconds(now));
  }

  /** As {@link #validateForGroup} without the lifetime (an Add received from another member). */
  public void validateForGroupIgnoringLifetime(KeyPackage keyPackage, GroupContext context, RatchetTree tree) {
    check(keyPackage, Objects.requireNonNull(context, "context"), Objects.requireNonNull(tree, "tree"), -1);
  }

  private static long nowSeconds(Instant now) {
    long s = now.getEpochSecond();
    if (s < 0) {
      throw new IllegalArgumentException("now is before 1970: " + now);
    }
    return s;
  }

  private void check(KeyPackage kp, GroupContext context, RatchetTree tree, long now) {
    Objects.requireNonNull(kp, "keyPackage");
    if (kp.version() != Codes.MLS10) {
      throw new MessageRejectedException(Reason.MALFORMED, "KeyPackage version " + kp.version() + " is not mls10");
    }
    CipherSuite cs;
    try {
      cs = CipherSuites.forId(kp.cipherSuite());
    } catch (UnsupportedCipherSuiteException e) {
      throw new MessageRejectedException(Reason.MALFORMED, "KeyPackage cipher suite not supported", e);
    }
    if (context != null && (context.version() != kp.version() || context.cipherSuite() != kp.cipherSuite())) {
      throw new MessageRejectedException(Reason.MALFORMED, "KeyPackage version or cipher suite differs from the group's (§10.1)");
    }
    if (tree != null && tree.suite().id() != kp.cipherSuite()) {
      throw new MessageRejectedException(Reason.MALFORMED, "KeyPackage cipher suite differs from the tree's");
    }
    LeafNode leaf = kp.leafNode();
    try {
      MlsCrypto.verifyWithLabel(
          cs, leaf.signatureKey().unsafeArray(), "KeyPackageTBS", kp.toBeSigned(), kp.signature().unsafeArray());
    } catch (GeneralSecurityException e) {
      throw new MessageRejectedException(Reason.BAD_SIGNATURE, "KeyPackage signature invalid", e);
    }
    if (leaf.source() != Codes.LEAF_SOURCE_KEY_PACKAGE) {
      throw new MessageRejectedException(Reason.MALFORMED, "KeyPackage leaf node source is not key_package (§10)");
    }
    if (now >= 0) {
      checkLifetimeRange(leaf.lifetime()); // before the time check, so an inverted range is MALFORMED
    }
    // Alone, the KeyPackage is checked against a one-leaf tree of itself (leaf 0, skipped in the
    // uniqueness and credential comparisons); for a group, against every member (no index skipped).
    RatchetTree against = tree != null ? tree : RatchetTree.create(cs, leaf);
    int ownIndex = tree != null ? -1 : 0;
    List<Extension> groupExtensions = context != null ? context.extensions() : List.of();
    TreeValidation.validateLeafNode(
        cs, leaf, TreeValidation.Role.KEY_PACKAGE, against, Bytes.EMPTY, ownIndex, groupExtensions, now);
    int npk = hpkePublicKeyLength(cs);
    if (kp.initKey().length() != npk || leaf.encryptionKey().length() != npk) {
      throw new MessageRejectedException(Reason.MALFORMED, "init or encryption key has the wrong length for the suite");
    }
    if (kp.initKey().equals(leaf.encryptionKey())) {
      throw new MessageRejectedException(Reason.MALFORMED, "init_key equals leaf_node.encryption_key (§10.1)");
    }
    for (Extension e : kp.extensions()) {
      if (!DEFAULT_EXTENSIONS.contains(e.type()) && !leaf.capabilities().extensions().contains(e.type())) {
        throw new MessageRejectedException(
            Reason.MALFORMED, "KeyPackage extension not listed in leaf_node.capabilities (§10)");
      }
    }
  }

  private void checkLifetimeRange(Lifetime lifetime) {
    long nb = lifetime.notBefore();
    long na = lifetime.notAfter();
    if (Long.compareUnsigned(nb, na) > 0) {
      throw new MessageRejectedException(Reason.MALFORMED, "lifetime not_before is after not_after");
    }
    long span = na - nb; // unsigned difference, non-negative as unsigned
    if (Long.compareUnsigned(span, maxLifetime.getSeconds()) > 0) {
      throw new MessageRejectedException(
          Reason.MALFORMED, "lifetime longer than the maximum of " + maxLifetime.toDays() + " days (§7.2)");
    }
  }

  /** Npk of the suite's KEM: DHKEM(X25519) for both suites this engine implements. */
  static int hpkePublicKeyLength(CipherSuite cs) {
    switch (cs.id()) {
      case CipherSuites.MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519:
      case CipherSuites.MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519:
        return 32;
      default:
        throw new IllegalStateException("no HPKE public key length for " + cs);
    }
  }

  private static int u16(byte[] b, int off) {
    return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
  }

  @Override
  public String toString() {
    return "KeyPackageValidator[maxLifetime=" + maxLifetime + "]";
  }
}
