package chat.agentvault.identity;

import chat.agentvault.crypto.SecretBytes;
import java.util.Arrays;

/**
 * The private identity as stored inside an AEAD (never in clear):
 *
 * <pre>
 * record version (1) = 0x01 || Ed25519 seed (32) || X25519 scalar (32)
 * </pre>
 *
 * The public keys and the (deterministic) binding signature are recomputed on load.
 */
final class IdentityRecord {
  static final int VERSION = 1;
  static final int LENGTH = 1 + 32 + 32;

  private IdentityRecord() {}

  /** The record; the caller wipes it. */
  static byte[] serialize(DeviceIdentity identity) {
    byte[] out = new byte[LENGTH];
    out[0] = VERSION;
    try (SecretBytes seed = identity.signingKey().seed();
        SecretBytes scalar = identity.agreementKey().secret()) {
      byte[] s = seed.copyOfSecret();
      byte[] x = scalar.copyOfSecret();
      System.arraycopy(s, 0, out, 1, 32);
      System.arraycopy(x, 0, out, 33, 32);
      SecretBytes.wipe(s);
      SecretBytes.wipe(x);
    }
    return out;
  }

  /** Parses an authenticated record; {@code what} names its file in errors. */
  static DeviceIdentity parse(byte[] record, String what) {
    if (record.length < 1) {
      throw Framing.corrupted(what + " holds an empty identity record");
    }
    if ((record[0] & 0xff) != VERSION) {
      throw new KeyStoreException(
          KeyStoreException.Reason.UNSUPPORTED_VERSION,
          what + " holds identity record version " + (record[0] & 0xff));
    }
    if (record.length != LENGTH) {
      throw Framing.corrupted(what + " holds an identity record of the wrong length");
    }
    byte[] seed = Arrays.copyOfRange(record, 1, 33);
    byte[] scalar = Arrays.copyOfRange(record, 33, 65);
    try {
      return DeviceIdentity.fromSecrets(seed, scalar);
    } finally {
      SecretBytes.wipe(seed);
      SecretBytes.wipe(scalar);
    }
  }
}
