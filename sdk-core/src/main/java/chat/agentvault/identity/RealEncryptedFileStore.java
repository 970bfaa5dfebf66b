package chat.agentvault.identity;

import chat.agentvault.crypto.XChaCha20Poly1305;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/** {@link EncryptedFileStore} over one directory, each blob a {@link SealedFile}. */
final class RealEncryptedFileStore implements EncryptedFileStore {
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
  static final Pattern PURPOSE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  /** Largest blob read back, so a planted huge file cannot exhaust memory. */
  static final long MAX_FILE = 64L * 1024 * 1024;

  private final Path dir;
  private final String purpose;
  private final String aadPurpose;
  private final XChaCha20Poly1305 aead;

  /**
   * @param aadPurpose the purpose string bound into the sub-key and associated data ({@code
   *     files/<purpose>}), distinct from the identity's
   */
  RealEncryptedFileStore(Path dir, String purpose, String aadPurpose, XChaCha20Poly1305 aead) {
    this.dir = dir;
    this.purpose = purpose;
    this.aadPurpose = aadPurpose;
    this.aead = aead;
  }

  static String checkPurpose(String purpose) {
    Objects.requireNonNull(purpose, "purpose");
    if (!PURPOSE.matcher(purpose).matches()) {
      throw new IllegalArgumentException(
          "purpose must be 1 to 64 characters from [a-z0-9._-], starting with a letter or digit");
    }
    return purpose;
  }

  private static String checkName(String name) {
    Objects.requireNonNull(name, "name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "name must be 1 to 128 characters from [A-Za-z0-9._-], not starting with '.'");
    }
    return name;
  }

  @Override
  public String purpose() {
    return purpose;
  }

  @Override
  public synchronized void put(String name, byte[] plaintext) {
    checkName(name);
    Objects.requireNonNull(plaintext, "plaintext");
    byte[] file = SealedFile.seal(aead, aadPurpose, name, plaintext);
    try {
      AtomicFiles.write(dir.resolve(name), file);
    } catch (IOException e) {
      throw new KeyStoreException(
          KeyStoreException.Reason.IO, "cannot write blob " + name + " of " + purpose, e);
    }
  }

  @Override
  public synchronized Optional<byte[]> get(String name) {
    checkName(name);
    String what = "blob " + name + " of " + purpose;
    byte[] file;
    try {
      file = AtomicFiles.read(dir.resolve(name), MAX_FILE, what);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new KeyStoreException(KeyStoreException.Reason.IO, "cannot read " + what, e);
    }
    return Optional.of(SealedFile.open(aead, aadPurpose, name, file, what));
  }

  @Override
  public synchronized boolean delete(String name) {
    checkName(name);
    try {
      return AtomicFiles.delete(dir.resolve(name));
    } catch (IOException e) {
      throw new KeyStoreException(
          KeyStoreException.Reason.IO, "cannot delete blob " + name + " of " + purpose, e);
    }
  }

  @Override
  public synchronized List<String> list() {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String n = p.getFileName().toString();
        if (NAME.matcher(n).matches() && Files.isRegularFile(p)) {
          names.add(n);
        }
      }
    } catch (IOException e) {
      throw new KeyStoreException(KeyStoreException.Reason.IO, "cannot list " + purpose, e);
    }
    Collections.sort(names);
    return Collections.unmodifiableList(names);
  }

  void close() {
    aead.close();
  }

  @Override
  public String toString() {
    return "EncryptedFileStore[" + purpose + "]";
  }
}
