package chat.agentvault.mls.crypto;

import chat.agentvault.mls.codec.TlsWriter;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;

/** The labeled functions of RFC 9420 §5, over a {@link CipherSuite}. */
public final class MlsCrypto {
  private static final byte[] PREFIX = "MLS 1.0 ".getBytes(StandardCharsets.US_ASCII);

  private MlsCrypto() {}

  private static byte[] mlsLabel(String label) {
    byte[] l = label.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[PREFIX.length + l.length];
    System.arraycopy(PREFIX, 0, out, 0, PREFIX.length);
    System.arraycopy(l, 0, out, PREFIX.length, l.length);
    return out;
  }

  /**
   * RefHash(label, value) = Hash(RefHashInput) (§5.2). The label is used as given, without the
   * "MLS 1.0 " prefix: callers pass e.g. "MLS 1.0 KeyPackage Reference".
   */
  public static byte[] refHash(CipherSuite cs, String label, byte[] value) {
    TlsWriter w = new TlsWriter(value.length + label.length() + 8);
    w.opaque(label.getBytes(StandardCharsets.US_ASCII)).opaque(value);
    return cs.hash(w.toByteArray());
  }

  /** KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage) (§5.2). */
  public static byte[] keyPackageRef(CipherSuite cs, byte[] encodedKeyPackage) {
    return refHash(cs, "MLS 1.0 KeyPackage Reference", encodedKeyPackage);
  }

  /** ProposalRef = RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent) (§5.2). */
  public static byte[] proposalRef(CipherSuite cs, byte[] encodedAuthenticatedContent) {
    return refHash(cs, "MLS 1.0 Proposal Reference", encodedAuthenticatedContent);
  }

  /** ExpandWithLabel(Secret, Label, Context, Length) = KDF.Expand(Secret, KDFLabel, Length) (§8). */
  public static byte[] expandWithLabel(
      CipherSuite cs, byte[] secret, String label, byte[] context, int length) {
    if (length < 0 || length > 0xffff) {
      throw new IllegalArgumentException("ExpandWithLabel length must fit uint16: " + length);
    }
    TlsWriter w = new TlsWriter(context.length + label.length() + 16);
    w.u16(length).opaque(mlsLabel(label)).opaque(context);
    return cs.expand(secret, w.toByteArray(), length);
  }

  /** DeriveSecret(Secret, Label) = ExpandWithLabel(Secret, Label, "", Nh) (§8). */
  public static byte[] deriveSecret(CipherSuite cs, byte[] secret, String label) {
    return expandWithLabel(cs, secret, label, new byte[0], cs.hashLength());
  }

  /**
   * DeriveTreeSecret(Secret, Label, Generation, Length) = ExpandWithLabel(Secret, Label,
   * uint32(Generation), Length) (§9). {@code generation} is a uint32 bit pattern.
   */
  public static byte[] deriveTreeSecret(
      CipherSuite cs, byte[] secret, String label, int generation, int length) {
    byte[] ctx = new TlsWriter(4).u32(Integer.toUnsignedLong(generation)).toByteArray();
    return expandWithLabel(cs, secret, label, ctx, length);
  }

  private static byte[] signContent(String label, byte[] content) {
    TlsWriter w = new TlsWriter(content.length + label.length() + 16);
    w.opaque(mlsLabel(label)).opaque(content);
    return w.toByteArray();
  }

  /** SignWithLabel(SignatureKey, Label, Content) (§5.1.2). */
  public static byte[] signWithLabel(
      CipherSuite cs, byte[] privateKey, String label, byte[] content) {
    return cs.sign(privateKey, signContent(label, content));
  }

  /** VerifyWithLabel: returns normally only for a valid signature (§5.1.2). */
  public static void verifyWithLabel(
      CipherSuite cs, byte[] publicKey, String label, byte[] content, byte[] signature)
      throws GeneralSecurityException {
    cs.verify(publicKey, signContent(label, content), signature);
  }

  private static byte[] encryptContext(String label, byte[] context) {
    TlsWriter w = new TlsWriter(context.length + label.length() + 16);
    w.opaque(mlsLabel(label)).opaque(context);
    return w.toByteArray();
  }

  /** EncryptWithLabel(PublicKey, Label, Context, Plaintext) = SealBase(pk, EncryptContext, "", pt) (§5.1.3). */
  public static CipherSuite.HpkeSealed encryptWithLabel(
      CipherSuite cs, byte[] publicKey, String label, byte[] context, byte[] plaintext)
      throws GeneralSecurityException {
    return cs.hpkeSeal(publicKey, encryptContext(label, context), new byte[0], plaintext);
  }

  /**
   * EncryptWithLabel(PublicKey, Label, Context, Plaintext) (§5.1.3) for many public keys with one
   * label and context: the HPKE info (EncryptContext) is built and hashed once. Thread-safe.
   */
  public static Encryptor encryptorWithLabel(CipherSuite cs, String label, byte[] context) {
    CipherSuite.HpkeSealer sealer = cs.hpkeSealer(encryptContext(label, context));
    return (publicKey, plaintext) -> sealer.seal(publicKey, new byte[0], plaintext);
  }

  /** EncryptWithLabel with a fixed label and context, from {@link #encryptorWithLabel}. */
  @FunctionalInterface
  public interface Encryptor {
    CipherSuite.HpkeSealed encrypt(byte[] publicKey, byte[] plaintext) throws GeneralSecurityException;
  }

  /** DecryptWithLabel (§5.1.3). */
  public static byte[] decryptWithLabel(
      CipherSuite cs,
      byte[] privateKey,
      String label,
      byte[] context,
      byte[] kemOutput,
      byte[] ciphertext)
      throws GeneralSecurityException {
    return cs.hpkeOpen(privateKey, kemOutput, encryptContext(label, context), new byte[0], ciphertext);
  }
}
