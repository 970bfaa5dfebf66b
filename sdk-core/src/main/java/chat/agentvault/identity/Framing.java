package chat.agentvault.identity;

import chat.agentvault.crypto.Blake2b;
import chat.agentvault.crypto.ConstantTime;
import java.util.Arrays;

/**
 * The envelope every file of the key store and every backup shares:
 *
 * <pre>
 * magic (8, ASCII) || version (1) || body || checksum (32) = BLAKE2b-256(magic || version || body)
 * </pre>
 *
 * The checksum is unkeyed: it is not what protects the data (the AEAD inside the body is), it lets
 * a reader tell "this file was modified or truncated" ({@code CORRUPTED}) from "this is the wrong
 * passphrase" ({@code WRONG_KEY}) and refuse a damaged file before trusting any field in it. It
 * is checked before the version, so a flipped version byte reads as corruption and only an intact
 * file of a newer version reads as {@code UNSUPPORTED_VERSION}.
 */
final class Framing {
  static final int MAGIC_LENGTH = 8;
  static final int PREFIX_LENGTH = MAGIC_LENGTH + 1;
  static final int CHECKSUM_LENGTH = 32;

  private Framing() {}

  static byte[] frame(byte[] magic, int version, byte[] body) {
    byte[] out = new byte[PREFIX_LENGTH + body.length + CHECKSUM_LENGTH];
    System.arraycopy(magic, 0, out, 0, MAGIC_LENGTH);
    out[MAGIC_LENGTH] = (byte) version;
    System.arraycopy(body, 0, out, PREFIX_LENGTH, body.length);
    byte[] sum = Blake2b.hash(Arrays.copyOf(out, PREFIX_LENGTH + body.length), CHECKSUM_LENGTH);
    System.arraycopy(sum, 0, out, PREFIX_LENGTH + body.length, CHECKSUM_LENGTH);
    return out;
  }

  /**
   * The body of a framed file, after checking magic, checksum and version in that order.
   *
   * @param what names the file in error messages
   */
  static byte[] unframe(byte[] file, byte[] magic, int version, String what) {
    if (file.length < PREFIX_LENGTH + CHECKSUM_LENGTH) {
      throw corrupted(what + " is truncated");
    }
    if (!Arrays.equals(file, 0, MAGIC_LENGTH, magic, 0, MAGIC_LENGTH)) {
      throw corrupted(what + " does not start with the expected magic");
    }
    int end = file.length - CHECKSUM_LENGTH;
    byte[] expected = Blake2b.hash(Arrays.copyOf(file, end), CHECKSUM_LENGTH);
    if (!ConstantTime.equals(expected, Arrays.copyOfRange(file, end, file.length))) {
      throw corrupted(what + " failed its checksum (modified or truncated)");
    }
    int found = file[MAGIC_LENGTH] & 0xff;
    if (found != version) {
      throw new KeyStoreException(
          KeyStoreException.Reason.UNSUPPORTED_VERSION,
          what + " has format version " + found + "; this SDK reads version " + version);
    }
    return Arrays.copyOfRange(file, PREFIX_LENGTH, end);
  }

  static KeyStoreException corrupted(String message) {
    return new KeyStoreException(KeyStoreException.Reason.CORRUPTED, message);
  }

  static KeyStoreException corrupted(String message, Throwable cause) {
    return new KeyStoreException(KeyStoreException.Reason.CORRUPTED, message, cause);
  }
}
