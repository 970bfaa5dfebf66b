package chat.agentvault.identity;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.XChaCha20Poly1305;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.util.Arrays;

/**
 * The key store header ({@code keystore.header}, 138 bytes): how to derive the key-encryption key
 * (KEK), and the store's random 32-byte data key wrapped under it.
 *
 * <pre>
 * framed("AVKSTORE", 1, KekSpec (25) || wrapped data key (72 = nonce 24 || ciphertext 32 || tag 16))
 * wrapped = XChaCha20-Poly1305(KEK, data key, associated data = bytes 0..33: magic, version, KekSpec)
 * </pre>
 *
 * With the checksum of {@link Framing} intact, a failing unwrap can only mean a wrong passphrase
 * or key.
 */
final class StoreHeader {
  static final byte[] MAGIC = "AVKSTORE".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int DATA_KEY_LENGTH = 32;
  private static final int WRAPPED_LENGTH = DATA_KEY_LENGTH + XChaCha20Poly1305.OVERHEAD;
  static final int LENGTH =
      Framing.PREFIX_LENGTH + KekSpec.LENGTH + WRAPPED_LENGTH + Framing.CHECKSUM_LENGTH;
  private static final String WHAT = "key store header";

  private final KekSpec spec;
  private final byte[] wrapped;

  private StoreHeader(KekSpec spec, byte[] wrapped) {
    this.spec = spec;
    this.wrapped = wrapped;
  }

  /** A new header wrapping {@code dataKey} under a fresh salt for {@code protection}. */
  static StoreHeader wrap(KeyProtection protection, SecretBytes dataKey) {
    KekSpec spec = KekSpec.fresh(protection);
    byte[] key = dataKey.copyOfSecret();
    try (SecretBytes kek = spec.derive(protection, WHAT);
        XChaCha20Poly1305 aead = XChaCha20Poly1305.create(kek)) {
      return new StoreHeader(spec, aead.seal(key, associatedData(spec)));
    } catch (InvalidKeyException e) {
      throw new AssertionError(e);
    } finally {
      SecretBytes.wipe(key);
    }
  }

  private static byte[] associatedData(KekSpec spec) {
    ByteBuffer b = ByteBuffer.allocate(Framing.PREFIX_LENGTH + KekSpec.LENGTH);
    b.put(MAGIC).put((byte) VERSION);
    spec.writeTo(b);
    return b.array();
  }

  byte[] encode() {
    ByteBuffer body = ByteBuffer.allocate(KekSpec.LENGTH + WRAPPED_LENGTH);
    spec.writeTo(body);
    body.put(wrapped);
    return Framing.frame(MAGIC, VERSION, body.array());
  }

  /**
   * Parses and checks a header file.
   *
   * @throws KeyStoreException {@code CORRUPTED} (including absurd KDF costs) or {@code
   *     UNSUPPORTED_VERSION}
   */
  static StoreHeader parse(byte[] file) {
    byte[] body = Framing.unframe(file, MAGIC, VERSION, WHAT);
    if (body.length != KekSpec.LENGTH + WRAPPED_LENGTH) {
      throw Framing.corrupted(WHAT + " has the wrong length");
    }
    ByteBuffer in = ByteBuffer.wrap(body);
    KekSpec spec = KekSpec.read(in, WHAT);
    byte[] wrapped = Arrays.copyOfRange(body, KekSpec.LENGTH, body.length);
    return new StoreHeader(spec, wrapped);
  }

  /**
   * The data key.
   *
   * @throws KeyStoreException {@code WRONG_KEY} when {@code protection} does not unwrap it
   */
  SecretBytes unwrap(KeyProtection protection) {
    byte[] key = null;
    try (SecretBytes kek = spec.derive(protection, WHAT);
        XChaCha20Poly1305 aead = XChaCha20Poly1305.create(kek)) {
      key = aead.open(wrapped, associatedData(spec));
      if (key.length != DATA_KEY_LENGTH) {
        throw Framing.corrupted(WHAT + " wraps a key of the wrong length");
      }
      return SecretBytes.copyOf(key);
    } catch (InvalidKeyException e) {
      throw new AssertionError(e);
    } catch (GeneralSecurityException e) {
      throw new KeyStoreException(
          KeyStoreException.Reason.WRONG_KEY,
          "wrong passphrase or key: the data key does not unwrap (the header is intact)",
          e);
    } finally {
      SecretBytes.wipe(key);
    }
  }
}
