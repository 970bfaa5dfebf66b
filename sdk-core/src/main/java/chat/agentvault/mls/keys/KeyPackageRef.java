package chat.agentvault.mls.keys;

import chat.agentvault.Bytes;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.crypto.MlsCrypto;
import chat.agentvault.mls.message.KeyPackage;
import java.util.Objects;

/**
 * {@code KeyPackageRef} (RFC 9420 §5.2): {@code RefHash("MLS 1.0 KeyPackage Reference",
 * KeyPackage)} with the hash of the KeyPackage's own cipher suite. It names a KeyPackage in a
 * Welcome ({@code EncryptedGroupSecrets.new_member}) and keys the {@link KeyPackageStore}.
 */
public record KeyPackageRef(Bytes value) {

  public KeyPackageRef {
    Objects.requireNonNull(value, "value");
    if (value.isEmpty()) {
      throw new IllegalArgumentException("KeyPackageRef must not be empty");
    }
  }

  /**
   * The reference of {@code keyPackage}, over its encoding as a bare KeyPackage (not MLSMessage).
   *
   * @throws chat.agentvault.mls.crypto.UnsupportedCipherSuiteException for a suite other than
   *     0x0001 or 0x0003 (its hash is unknown)
   */
  public static KeyPackageRef compute(KeyPackage keyPackage) {
    Objects.requireNonNull(keyPackage, "keyPackage");
    return new KeyPackageRef(
        Bytes.wrap(
            MlsCrypto.keyPackageRef(
                CipherSuites.forId(keyPackage.cipherSuite()), keyPackage.toByteArray())));
  }

  @Override
  public String toString() {
    return "KeyPackageRef[" + value.hex() + "]";
  }
}
