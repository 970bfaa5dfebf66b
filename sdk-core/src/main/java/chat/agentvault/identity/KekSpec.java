package chat.agentvault.identity;

import chat.agentvault.crypto.Csprng;
import chat.agentvault.crypto.Hkdf;
import chat.agentvault.crypto.SecretBytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * How a key-encryption key is derived, as stored in a store header or a backup (25 bytes):
 *
 * <pre>
 * kdf id (1) || opsLimit (u32 BE) || memLimit in KiB (u32 BE) || salt (16)
 * kdf 1 = Argon2id13 (libsodium crypto_pwhash, 1 lane) over the UTF-8 passphrase
 * kdf 2 = HKDF-SHA256(salt, caller key, "AgentVault keystore v1 KEK"), ops = mem = 0
 * </pre>
 */
final class KekSpec {
  static final int KDF_ARGON2ID = 1;
  static final int KDF_RAW_KEY = 2;
  static final int LENGTH = 1 + 4 + 4 + Argon2id.SALT_LENGTH;
  private static final byte[] RAW_KEY_INFO =
      "AgentVault keystore v1 KEK".getBytes(StandardCharsets.US_ASCII);

  final int kdf;
  final long opsLimit;
  final long memLimitKib;
  private final byte[] salt;

  private KekSpec(int kdf, long opsLimit, long memLimitKib, byte[] salt) {
    this.kdf = kdf;
    this.opsLimit = opsLimit;
    this.memLimitKib = memLimitKib;
    this.salt = salt;
  }

  /** A fresh spec (new random salt) for {@code protection}. */
  static KekSpec fresh(KeyProtection protection) {
    byte[] salt = Csprng.randomBytes(Argon2id.SALT_LENGTH);
    if (protection.kind() == KeyProtection.Kind.PASSPHRASE) {
      Argon2Params p = protection.params();
      return new KekSpec(KDF_ARGON2ID, p.opsLimit(), p.memLimitKib(), salt);
    }
    return new KekSpec(KDF_RAW_KEY, 0, 0, salt);
  }

  void writeTo(ByteBuffer out) {
    out.put((byte) kdf).putInt((int) opsLimit).putInt((int) memLimitKib).put(salt);
  }

  /**
   * Reads and bounds-checks a spec; absurd Argon2id costs are refused here, before any memory is
   * allocated.
   */
  static KekSpec read(ByteBuffer in, String what) {
    int kdf = in.get() & 0xff;
    long ops = in.getInt() & 0xffffffffL;
    long memKib = in.getInt() & 0xffffffffL;
    byte[] salt = new byte[Argon2id.SALT_LENGTH];
    in.get(salt);
    if (kdf == KDF_ARGON2ID) {
      if (!Argon2Params.withinBounds(ops, memKib)) {
        throw Framing.corrupted(
            what
                + " asks for Argon2id costs out of bounds (opsLimit="
                + ops
                + ", memLimit="
                + memKib
                + " KiB; at most "
                + Argon2Params.MAX_OPS
                + " and 1 GiB)");
      }
    } else if (kdf == KDF_RAW_KEY) {
      if (ops != 0 || memKib != 0) {
        throw Framing.corrupted(what + " has costs for a raw-key header");
      }
    } else {
      throw Framing.corrupted(what + " names an unknown KDF " + kdf);
    }
    return new KekSpec(kdf, ops, memKib, salt);
  }

  /**
   * The key-encryption key for {@code protection}.
   *
   * @throws KeyStoreException {@code WRONG_KEY} when the protection is of the other kind
   */
  SecretBytes derive(KeyProtection protection, String what) {
    KeyProtection.Kind expected =
        kdf == KDF_ARGON2ID ? KeyProtection.Kind.PASSPHRASE : KeyProtection.Kind.RAW_KEY;
    if (protection.kind() != expected) {
      throw new KeyStoreException(
          KeyStoreException.Reason.WRONG_KEY,
          what
              + " is protected by a "
              + (expected == KeyProtection.Kind.PASSPHRASE ? "passphrase" : "32-byte key")
              + ", not a "
              + (expected == KeyProtection.Kind.PASSPHRASE ? "32-byte key" : "passphrase"));
    }
    if (kdf == KDF_ARGON2ID) {
      return Argon2id.derive(protection.secret(), salt, opsLimit, memLimitKib * 1024);
    }
    byte[] key = protection.secret().copyOfSecret();
    byte[] kek = Hkdf.derive(salt, key, RAW_KEY_INFO, 32);
    try {
      return SecretBytes.copyOf(kek);
    } finally {
      SecretBytes.wipe(key);
      SecretBytes.wipe(kek);
    }
  }
}
