package chat.agentvault.identity;

import chat.agentvault.crypto.SecretBytes;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/** {@code char[]} passphrases to UTF-8 bytes without an intermediate {@code String}. */
final class Passphrases {
  private Passphrases() {}

  /**
   * The UTF-8 encoding of {@code passphrase} in a fresh array the caller must wipe. The working
   * buffer is wiped; {@code passphrase} itself is left alone.
   *
   * @throws IllegalArgumentException when empty or containing an unpaired surrogate
   */
  static byte[] toUtf8(char[] passphrase) {
    Objects.requireNonNull(passphrase, "passphrase");
    if (passphrase.length == 0) {
      throw new IllegalArgumentException("passphrase must not be empty");
    }
    CharsetEncoder encoder =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    // One UTF-16 unit never takes more than 3 UTF-8 bytes (a surrogate pair takes 4 for 2 units).
    byte[] buffer = new byte[passphrase.length * 3];
    try {
      ByteBuffer out = ByteBuffer.wrap(buffer);
      CoderResult result = encoder.encode(CharBuffer.wrap(passphrase), out, true);
      if (!result.isUnderflow()) {
        throw new IllegalArgumentException("passphrase is not valid UTF-16 (unpaired surrogate)");
      }
      result = encoder.flush(out);
      if (!result.isUnderflow()) {
        throw new IllegalArgumentException("passphrase is not valid UTF-16 (unpaired surrogate)");
      }
      return Arrays.copyOf(buffer, out.position());
    } finally {
      SecretBytes.wipe(buffer);
    }
  }
}
