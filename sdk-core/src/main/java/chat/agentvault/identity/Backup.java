package chat.agentvault.identity;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.XChaCha20Poly1305;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.util.Arrays;

/**
 * An identity backup, a self-contained byte string the owner keeps:
 *
 * <pre>
 * framed("AVBACKUP", 1, KekSpec (25, Argon2id only) || nonce (24) || ciphertext (65) || tag (16))
 * ciphertext = XChaCha20-Poly1305(Argon2id(backup passphrase), IdentityRecord,
 *                                 associated data = magic || version || KekSpec)
 * </pre>
 */
final class Backup {
  static final byte[] MAGIC = "AVBACKUP".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  private static final String WHAT = "identity backup";

  private Backup() {}

  static byte[] export(DeviceIdentity identity, char[] passphrase, Argon2Params params) {
    byte[] record = IdentityRecord.serialize(identity);
    try (KeyProtection protection = KeyProtection.passphrase(passphrase, params)) {
      KekSpec spec = KekSpec.fresh(protection);
      try (SecretBytes kek = spec.derive(protection, WHAT);
          XChaCha20Poly1305 aead = XChaCha20Poly1305.create(kek)) {
        byte[] sealed = aead.seal(record, associatedData(spec));
        ByteBuffer body = ByteBuffer.allocate(KekSpec.LENGTH + sealed.length);
        spec.writeTo(body);
        body.put(sealed);
        return Framing.frame(MAGIC, VERSION, body.array());
      }
    } catch (InvalidKeyException e) {
      throw new AssertionError(e);
    } finally {
      SecretBytes.wipe(record);
    }
  }

  static DeviceIdentity read(byte[] backup, char[] passphrase) {
    byte[] body = Framing.unframe(backup, MAGIC, VERSION, WHAT);
    if (body.length < KekSpec.LENGTH + XChaCha20Poly1305.OVERHEAD) {
      throw Framing.corrupted(WHAT + " is too short");
    }
    KekSpec spec = KekSpec.read(ByteBuffer.wrap(body), WHAT);
    if (spec.kdf != KekSpec.KDF_ARGON2ID) {
      throw Framing.corrupted(WHAT + " must use Argon2id");
    }
    byte[] sealed = Arrays.copyOfRange(body, KekSpec.LENGTH, body.length);
    byte[] record = null;
    try (KeyProtection protection = KeyProtection.passphrase(passphrase);
        SecretBytes kek = spec.derive(protection, WHAT);
        XChaCha20Poly1305 aead = XChaCha20Poly1305.create(kek)) {
      record = aead.open(sealed, associatedData(spec));
      return IdentityRecord.parse(record, WHAT);
    } catch (InvalidKeyException e) {
      throw new AssertionError(e);
    } catch (GeneralSecurityException e) {
      throw new KeyStoreException(
          KeyStoreException.Reason.WRONG_KEY,
          "wrong backup passphrase: the backup does not decrypt (the file is intact)",
          e);
    } finally {
      SecretBytes.wipe(record);
    }
  }

  private static byte[] associatedData(KekSpec spec) {
    ByteBuffer b = ByteBuffer.allocate(Framing.PREFIX_LENGTH + KekSpec.LENGTH);
    b.put(MAGIC).put((byte) VERSION);
    spec.writeTo(b);
    return b.array();
  }
}
