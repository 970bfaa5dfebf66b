package chat.agentvault.crypto.internal;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Not API. An AEAD whose caller supplies the nonce: only for protocols that derive a unique nonce per
 * key (MLS §9: reuse guard XORed into per-generation nonces; HPKE §5.2: base nonce XOR sequence
 * number). Reusing a (key, nonce) pair destroys confidentiality and authenticity; application code
 * uses {@link chat.agentvault.crypto.XChaCha20Poly1305}, which draws nonces itself.
 *
 * <p>Output of {@link #seal} is {@code ciphertext || tag}, 16-byte tag, as RFC 5116 and MLS expect.
 * Instances are immutable and thread-safe; {@link #destroy()} wipes the key copy.
 */
public final class InsecureNonceAead {
  /**
   * The AEADs of MLS cipher suites 0x0001 and 0x0003 (and HPKE AEAD ids 0x0001, 0x0003), and the
   * ratchet's XChaCha20-Poly1305.
   */
  public enum Algorithm {
    /**
     * AES-128-GCM (HPKE id 0x0001). Backend: the JDK's {@code AES/GCM/NoPadding}, whose AES-NI and
     * CLMUL intrinsics seal 1 KiB 4 to 17x faster than Bouncy Castle here, {@code AesGcmBench} (libsodium has
     * AES-256-GCM only). Also takes 32-byte keys (AES-256-GCM, id 0x0002) for Wycheproof coverage.
     */
    AES_GCM(16, 12, 16),
    /**
     * ChaCha20-Poly1305, RFC 8439 (HPKE id 0x0003). Backend: libsodium's {@code
     * crypto_aead_chacha20poly1305_ietf}, about twice the JDK's and Bouncy Castle's throughput.
     */
    CHACHA20_POLY1305(32, 12, 16),
    /**
     * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03), 24-byte nonce: the Double Ratchet's message
     * AEAD, whose key and nonce are both derived from a single-use message key. Backend: libsodium's
     * {@code crypto_aead_xchacha20poly1305_ietf}, as {@link chat.agentvault.crypto.XChaCha20Poly1305}.
     */
    XCHACHA20_POLY1305(32, 24, 16);

    private final int keyLength;
    private final int nonceLength;
    private final int tagLength;

    Algorithm(int keyLength, int nonceLength, int tagLength) {
      this.keyLength = keyLength;
      this.nonceLength = nonceLength;
      this.tagLength = tagLength;
    }

    /** Nk in RFC 9180 terms (AES-GCM: the MLS size, 16). */
    public int keyLength() {
      return keyLength;
    }

    /** Nn: 12 for AES-GCM and ChaCha20-Poly1305, 24 for XChaCha20-Poly1305. */
    public int nonceLength() {
      return nonceLength;
    }

    /** Nt: 16 for both. */
    public int tagLength() {
      return tagLength;
    }
  }

  private final Algorithm algorithm;
  private final byte[] key;

  private InsecureNonceAead(Algorithm algorithm, byte[] key) {
    this.algorithm = algorithm;
    this.key = key;
  }

  /**
   * @param key copied; AES-GCM accepts 16 or 32 bytes, ChaCha20-Poly1305 exactly 32
   */
  public static InsecureNonceAead create(Algorithm algorithm, byte[] key) throws InvalidKeyException {
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(key, "key");
    boolean ok =
        algorithm == Algorithm.AES_GCM
            ? key.length == 16 || key.length == 32
            : key.length == algorithm.keyLength;
    if (!ok) {
      throw new InvalidKeyException(algorithm + " key must not be " + key.length + " bytes");
    }
    return new InsecureNonceAead(algorithm, key.clone());
  }

  public Algorithm algorithm() {
    return algorithm;
  }

  public byte[] seal(byte[] nonce, byte[] associatedData, byte[] plaintext)
      throws GeneralSecurityException {
    checkNonce(nonce);
    byte[] aad = associatedData == null ? new byte[0] : associatedData;
    if (algorithm == Algorithm.AES_GCM) {
      Cipher cipher = gcm(Cipher.ENCRYPT_MODE, nonce);
      cipher.updateAAD(aad);
      return cipher.doFinal(plaintext);
    }
    byte[] out = new byte[plaintext.length + 16];
    int rc =
        algorithm == Algorithm.XCHACHA20_POLY1305
            ? Sodium.get()
                .crypto_aead_xchacha20poly1305_ietf_encrypt(
                    out, null, plaintext, plaintext.length, aad, aad.length, null, nonce, key)
            : Sodium.get()
                .crypto_aead_chacha20poly1305_ietf_encrypt(
                    out, null, plaintext, plaintext.length, aad, aad.length, null, nonce, key);
    if (rc != 0) {
      throw new GeneralSecurityException(algorithm + " encryption failed");
    }
    return out;
  }

  /**
   * @throws AEADBadTagException when authentication fails (the only failure on well-formed input)
   */
  public byte[] open(byte[] nonce, byte[] associatedData, byte[] ciphertext)
      throws GeneralSecurityException {
    checkNonce(nonce);
    if (ciphertext.length < algorithm.tagLength) {
      throw new AEADBadTagException("ciphertext shorter than the tag");
    }
    byte[] aad = associatedData == null ? new byte[0] : associatedData;
    if (algorithm == Algorithm.AES_GCM) {
      Cipher cipher = gcm(Cipher.DECRYPT_MODE, nonce);
      cipher.updateAAD(aad);
      return cipher.doFinal(ciphertext); // throws AEADBadTagException
    }
    byte[] out = new byte[ciphertext.length - 16];
    int rc =
        algorithm == Algorithm.XCHACHA20_POLY1305
            ? Sodium.get()
                .crypto_aead_xchacha20poly1305_ietf_decrypt(
                    out, null, null, ciphertext, ciphertext.length, aad, aad.length, nonce, key)
            : Sodium.get()
                .crypto_aead_chacha20poly1305_ietf_decrypt(
                    out, null, null, ciphertext, ciphertext.length, aad, aad.length, nonce, key);
    if (rc != 0) {
      throw new AEADBadTagException(algorithm + " authentication failed");
    }
    return out;
  }

  /** Wipes the key; the instance is unusable afterwards. */
  public void destroy() {
    Arrays.fill(key, (byte) 0);
  }

  private void checkNonce(byte[] nonce) throws GeneralSecurityException {
    if (nonce == null || nonce.length != algorithm.nonceLength) {
      throw new GeneralSecurityException(
          algorithm + " nonce must be " + algorithm.nonceLength + " bytes");
    }
  }

  // One GCM Cipher per thread, re-initialised for every call: Cipher.getInstance costs about 3 µs,
  // three times a whole 1 KiB seal (measured in benchmarks/AesGcmBench). The JDK refuses to re-init
  // a GCM Cipher for encryption with the key and IV it last encrypted with (a guard against IV
  // reuse); that only happens when a caller really repeats a (key, nonce) pair, e.g. a known-answer
  // test, and then a fresh Cipher is used.
  private static final ThreadLocal<Cipher> GCM =
      ThreadLocal.withInitial(
          () -> {
            try {
              return Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
              throw new IllegalStateException("the JDK must provide AES/GCM/NoPadding", e);
            }
          });

  private Cipher gcm(int mode, byte[] nonce) throws GeneralSecurityException {
    SecretKeySpec k = new SecretKeySpec(key, "AES");
    GCMParameterSpec spec = new GCMParameterSpec(128, nonce);
    Cipher cipher = GCM.get();
    try {
      cipher.init(mode, k, spec);
    } catch (java.security.InvalidAlgorithmParameterException sameKeyAndIv) {
      cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(mode, k, spec);
    }
    return cipher;
  }

  @Override
  public String toString() {
    return "InsecureNonceAead[" + algorithm + "]";
  }
}
