package chat.agentvault.identity;

import chat.agentvault.crypto.SecretBytes;
import chat.agentvault.crypto.XChaCha20Poly1305;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** {@link DeviceKeyStore} over a directory; see there for the layout. */
final class RealDeviceKeyStore implements DeviceKeyStore {
  static final String HEADER_FILE = "keystore.header";
  static final String IDENTITY_FILE = "identity.sealed";
  static final String FILES_DIR = "files";
  /** Sub-key purpose of the identity; file stores use {@code files/<purpose>}, so never clash. */
  static final String IDENTITY_PURPOSE = "identity";
  static final String IDENTITY_NAME = "device";
  private static final long MAX_SMALL_FILE = 64 * 1024;

  private final Path dataDir;
  private final SecretBytes dataKey;
  private final DeviceIdentity identity;
  private final Map<String, RealEncryptedFileStore> fileStores = new LinkedHashMap<>();
  private boolean closed;

  private RealDeviceKeyStore(Path dataDir, SecretBytes dataKey, DeviceIdentity identity) {
    this.dataDir = dataDir;
    this.dataKey = dataKey;
    this.identity = identity;
  }

  static RealDeviceKeyStore create(Path dataDir, KeyProtection protection, DeviceIdentity identity) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(protection, "protection");
    Path header = dataDir.resolve(HEADER_FILE);
    if (Files.exists(header, LinkOption.NOFOLLOW_LINKS)) {
      identity.close();
      throw new KeyStoreException(
          KeyStoreException.Reason.ALREADY_EXISTS, "a key store already exists in " + dataDir);
    }
    SecretBytes dataKey = SecretBytes.random(StoreHeader.DATA_KEY_LENGTH);
    try {
      AtomicFiles.createPrivateDirectory(dataDir);
      byte[] record = IdentityRecord.serialize(identity);
      try (XChaCha20Poly1305 aead = SealedFile.aeadFor(dataKey, IDENTITY_PURPOSE)) {
        AtomicFiles.write(
            dataDir.resolve(IDENTITY_FILE),
            SealedFile.seal(aead, IDENTITY_PURPOSE, IDENTITY_NAME, record));
      } finally {
        SecretBytes.wipe(record);
      }
      // The header goes last: it is the commit point of a new store.
      AtomicFiles.write(header, StoreHeader.wrap(protection, dataKey).encode());
      return new RealDeviceKeyStore(dataDir, dataKey, identity);
    } catch (IOException e) {
      dataKey.close();
      identity.close();
      throw new KeyStoreException(
          KeyStoreException.Reason.IO, "cannot create a key store in " + dataDir, e);
    } catch (RuntimeException e) {
      dataKey.close();
      identity.close();
      throw e;
    }
  }

  static RealDeviceKeyStore open(Path dataDir, KeyProtection protection) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(protection, "protection");
    StoreHeader header = StoreHeader.parse(readFile(dataDir, HEADER_FILE, "key store header"));
    SecretBytes dataKey = header.unwrap(protection);
    try {
      String what = "identity file";
      byte[] file = readFile(dataDir, IDENTITY_FILE, what);
      byte[] record;
      try (XChaCha20Poly1305 aead = SealedFile.aeadFor(dataKey, IDENTITY_PURPOSE)) {
        record = SealedFile.open(aead, IDENTITY_PURPOSE, IDENTITY_NAME, file, what);
      }
      try {
        return new RealDeviceKeyStore(dataDir, dataKey, IdentityRecord.parse(record, what));
      } finally {
        SecretBytes.wipe(record);
      }
    } catch (RuntimeException e) {
      dataKey.close();
      throw e;
    }
  }

  static RealDeviceKeyStore importBackup(
      Path dataDir, byte[] backup, char[] backupPassphrase, KeyProtection protection) {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(backup, "backup");
    Objects.requireNonNull(protection, "protection");
    if (Files.exists(dataDir.resolve(HEADER_FILE), LinkOption.NOFOLLOW_LINKS)) {
      throw new KeyStoreException(
          KeyStoreException.Reason.ALREADY_EXISTS, "a key store already exists in " + dataDir);
    }
    return create(dataDir, protection, Backup.read(backup, backupPassphrase));
  }

  private static byte[] readFile(Path dataDir, String name, String what) {
    try {
      return AtomicFiles.read(dataDir.resolve(name), MAX_SMALL_FILE, what);
    } catch (NoSuchFileException e) {
      throw new KeyStoreException(
          KeyStoreException.Reason.NOT_FOUND, "no " + what + " in " + dataDir, e);
    } catch (IOException e) {
      throw new KeyStoreException(
          KeyStoreException.Reason.IO, "cannot read the " + what + " in " + dataDir, e);
    }
  }

  @Override
  public Path dataDir() {
    return dataDir;
  }

  @Override
  public synchronized DeviceIdentity identity() {
    checkLive();
    return identity;
  }

  @Override
  public synchronized EncryptedFileStore fileStore(String purpose) {
    RealEncryptedFileStore.checkPurpose(purpose);
    checkLive();
    RealEncryptedFileStore store = fileStores.get(purpose);
    if (store == null) {
      Path dir = dataDir.resolve(FILES_DIR).resolve(purpose);
      try {
        AtomicFiles.createPrivateDirectory(dataDir.resolve(FILES_DIR));
        AtomicFiles.createPrivateDirectory(dir);
      } catch (IOException e) {
        throw new KeyStoreException(
            KeyStoreException.Reason.IO, "cannot create the directory of " + purpose, e);
      }
      String aadPurpose = FILES_DIR + "/" + purpose;
      store =
          new RealEncryptedFileStore(
              dir, purpose, aadPurpose, SealedFile.aeadFor(dataKey, aadPurpose));
      fileStores.put(purpose, store);
    }
    return store;
  }

  @Override
  public synchronized void changeProtection(KeyProtection newProtection) {
    Objects.requireNonNull(newProtection, "newProtection");
    checkLive();
    byte[] header = StoreHeader.wrap(newProtection, dataKey).encode();
    try {
      AtomicFiles.write(dataDir.resolve(HEADER_FILE), header);
    } catch (IOException e) {
      throw new KeyStoreException(
          KeyStoreException.Reason.IO, "cannot write the key store header in " + dataDir, e);
    }
  }

  @Override
  public byte[] exportBackup(char[] backupPassphrase) {
    return exportBackup(backupPassphrase, Argon2Params.MODERATE);
  }

  @Override
  public synchronized byte[] exportBackup(char[] backupPassphrase, Argon2Params params) {
    Objects.requireNonNull(backupPassphrase, "backupPassphrase");
    Objects.requireNonNull(params, "params");
    checkLive();
    return Backup.export(identity, backupPassphrase, params);
  }

  /** The data key, for tests that scan files for it. */
  synchronized SecretBytes dataKeyForTesting() {
    checkLive();
    return dataKey;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (RealEncryptedFileStore s : fileStores.values()) {
      s.close();
    }
    identity.close();
    dataKey.close();
  }

  private void checkLive() {
    if (closed) {
      throw new IllegalStateException("key store was closed");
    }
  }

  @Override
  public String toString() {
    return "DeviceKeyStore[dataDir="
        + dataDir
        + ", fingerprint="
        + identity.publicIdentity().fingerprint().shortForm()
        + (closed ? ", closed" : "")
        + "]";
  }
}
