package chat.agentvault.identity;

import java.nio.file.Path;

/**
 * A device's encrypted on-disk key store: one directory ({@code dataDir}) per device holding its
 * {@link DeviceIdentity} and the {@link EncryptedFileStore}s other components keep their secrets
 * in.
 *
 * <p>Layout and format:
 *
 * <ul>
 *   <li>{@code keystore.header}: the store's random 32-byte data key, wrapped with
 *       XChaCha20-Poly1305 under a key-encryption key derived from the {@link KeyProtection}
 *       (Argon2id of a passphrase, or HKDF of a caller-supplied 32-byte key). Changing the
 *       protection rewrites this file only.
 *   <li>{@code identity.sealed}: the private identity, encrypted under a sub-key of the data key.
 *   <li>{@code files/<purpose>/<name>}: blobs of {@link #fileStore(String)}.
 * </ul>
 *
 * Every file is written atomically (temporary file, fsync, rename, directory fsync), files are
 * mode 0600 and directories 0700 where the file system is POSIX. Every file ends with a checksum,
 * so a modified or truncated file is reported as {@link KeyStoreException.Reason#CORRUPTED} and a
 * wrong passphrase as {@link KeyStoreException.Reason#WRONG_KEY}; neither ever yields keys.
 *
 * <p><b>Key loss.</b> There is no escrow: nobody, including the relay, can recover a device whose
 * passphrase or data directory is lost. The owner keeps an {@link #exportBackup identity backup}
 * (encrypted under its own passphrase) and restores it with {@link #importBackup}. Backups hold the
 * identity only: restoring old ratchet or group state could reuse message keys, so those are
 * re-established after a restore.
 *
 * <p>Thread-safe. One process per data directory (there is no inter-process lock yet). {@link
 * #close()} wipes the data key, the identity and the sub-keys of every file store handed out.
 */
public interface DeviceKeyStore extends AutoCloseable {

  /**
   * Creates a store with a freshly generated identity in {@code dataDir} (created if missing).
   *
   * @throws KeyStoreException {@code ALREADY_EXISTS} when {@code dataDir} holds a store; {@code IO}
   */
  static DeviceKeyStore create(Path dataDir, KeyProtection protection) {
    return RealDeviceKeyStore.create(dataDir, protection, DeviceIdentity.generate());
  }

  /**
   * Opens the store in {@code dataDir}. The Argon2id costs are those stored in the header; the
   * costs in {@code protection} are ignored here.
   *
   * @throws KeyStoreException {@code NOT_FOUND}, {@code WRONG_KEY}, {@code CORRUPTED}, {@code
   *     UNSUPPORTED_VERSION} or {@code IO}
   */
  static DeviceKeyStore open(Path dataDir, KeyProtection protection) {
    return RealDeviceKeyStore.open(dataDir, protection);
  }

  /**
   * Restores an identity backup into a new store in {@code dataDir}, protected by {@code
   * protection}.
   *
   * @throws KeyStoreException {@code WRONG_KEY} for a wrong backup passphrase, {@code CORRUPTED},
   *     {@code UNSUPPORTED_VERSION}, {@code ALREADY_EXISTS} or {@code IO}
   */
  static DeviceKeyStore importBackup(
      Path dataDir, byte[] backup, char[] backupPassphrase, KeyProtection protection) {
    return RealDeviceKeyStore.importBackup(dataDir, backup, backupPassphrase, protection);
  }

  /** The data directory. */
  Path dataDir();

  /**
   * The device identity. Owned by the store: valid until the store is closed; do not close it
   * yourself.
   */
  DeviceIdentity identity();

  /**
   * The encrypted blob store for {@code purpose} (1 to 64 characters from {@code [a-z0-9._-]},
   * starting with a letter or digit), kept under {@code files/<purpose>/}. Repeated calls return
   * the same instance.
   */
  EncryptedFileStore fileStore(String purpose);

  /**
   * Rewraps the data key under {@code newProtection} (a new salt, and new Argon2id costs if
   * given); afterwards only {@code newProtection} opens the store. Atomic: a crash leaves either
   * the old or the new header.
   *
   * @throws KeyStoreException with reason {@code IO}
   */
  void changeProtection(KeyProtection newProtection);

  /**
   * An encrypted backup of the identity under {@code backupPassphrase}, with {@link
   * Argon2Params#MODERATE} costs.
   */
  byte[] exportBackup(char[] backupPassphrase);

  /** As {@link #exportBackup(char[])}, with the given Argon2id costs. */
  byte[] exportBackup(char[] backupPassphrase, Argon2Params params);

  /** Wipes the data key, the identity and all file-store sub-keys. Idempotent. */
  @Override
  void close();
}
