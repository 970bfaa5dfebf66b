package chat.agentvault.identity;

import chat.agentvault.crypto.Hkdf;
import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.XChaCha20Poly1305;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;

/**
 * A file encrypted under a purpose-specific sub-key of the store's data key:
 *
 * <pre>
 * framed("AVSEALED", 1, nonce (24) || XChaCha20-Poly1305 ciphertext || tag (16))
 * sub-key = HKDF-Expand-SHA256(PRK = data key, info = "AgentVault keystore v1 sub-key\0" || purpose, 32)
 * associated data = "AVSEALED" || 0x01 || u16 len || purpose || u16 len || name   (UTF-8)
 * </pre>
 *
 * The data key is 32 uniform random bytes, so it serves as the HKDF pseudorandom key directly (RFC
 * 5869 §3.3). Binding purpose and name as associated data makes a file moved to another name or
 * another store fail authentication.
 */
final class SealedFile {
  static final byte[] MAGIC = "AVSEALED".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  private static final byte[] SUBKEY_INFO =
      "AgentVault keystore v1 sub-key\0".getBytes(StandardCharsets.US_ASCII);

  private SealedFile() {}

  /** The AEAD for {@code purpose}; the caller closes it. */
  static XChaCha20Poly1305 aeadFor(SecretBytes dataKey, String purpose) {
    byte[] p = purpose.getBytes(StandardCharsets.UTF_8);
    byte[] info = new byte[SUBKEY_INFO.length + p.length];
    System.arraycopy(SUBKEY_INFO, 0, info, 0, SUBKEY_INFO.length);
    System.arraycopy(p, 0, info, SUBKEY_INFO.length, p.length);
    byte[] prk = dataKey.copyOfSecret();
    byte[] sub = Hkdf.expand(prk, info, XChaCha20Poly1305.KEY_LENGTH);
    try (SecretBytes key = SecretBytes.copyOf(sub)) {
      return XChaCha20Poly1305.create(key);
    } catch (InvalidKeyException e) {
      throw new AssertionError(e);
    } finally {
      SecretBytes.wipe(prk);
      SecretBytes.wipe(sub);
    }
  }

  static byte[] associatedData(String purpose, String name) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(MAGIC);
    b.write(VERSION);
    writeString(b, purpose);
    writeString(b, name);
    return b.toByteArray();
  }

  private static void writeString(ByteArrayOutputStream b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    b.write(bytes.length >>> 8);
    b.write(bytes.length);
    b.writeBytes(bytes);
  }

  static byte[] seal(XChaCha20Poly1305 aead, String purpose, String name, byte[] plaintext) {
    return Framing.frame(MAGIC, VERSION, aead.seal(plaintext, associatedData(purpose, name)));
  }

  /**
   * The plaintext, which the caller wipes if secret.
   *
   * @throws KeyStoreException {@code CORRUPTED} when the file was modified, truncated, renamed or
   *     moved from another store, {@code UNSUPPORTED_VERSION} for an intact newer file
   */
  static byte[] open(
      XChaCha20Poly1305 aead, String purpose, String name, byte[] file, String what) {
    byte[] body = Framing.unframe(file, MAGIC, VERSION, what);
    try {
      return aead.open(body, associatedData(purpose, name));
    } catch (GeneralSecurityException e) {
      throw Framing.corrupted(
          what + " failed authentication (modified, renamed or from another store)", e);
    }
  }
}
