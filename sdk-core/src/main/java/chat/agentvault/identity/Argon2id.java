package chat.agentvault.identity;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.internal.Sodium;
import com.sun.jna.NativeLong;

/** Argon2id through libsodium's {@code crypto_pwhash} (ARGON2ID13, one lane). */
final class Argon2id {
  static final int SALT_LENGTH = 16;
  static final int OUTPUT_LENGTH = 32;
  private static final int ALG_ARGON2ID13 = 2;

  private Argon2id() {}

  static SecretBytes derive(SecretBytes password, byte[] salt, long opsLimit, long memLimitBytes) {
    if (salt.length != SALT_LENGTH) {
      throw new IllegalArgumentException("salt must be 16 bytes");
    }
    byte[] pw = password.copyOfSecret();
    byte[] out = new byte[OUTPUT_LENGTH];
    try {
      int rc =
          Sodium.get()
              .crypto_pwhash(
                  out,
                  out.length,
                  pw,
                  pw.length,
                  salt,
                  opsLimit,
                  new NativeLong(memLimitBytes),
                  ALG_ARGON2ID13);
      if (rc != 0) {
        throw new KeyStoreException(
            KeyStoreException.Reason.IO,
            "Argon2id failed (could not allocate " + memLimitBytes + " bytes?)");
      }
      return SecretBytes.copyOf(out);
    } finally {
      SecretBytes.wipe(pw);
      SecretBytes.wipe(out);
    }
  }
}
