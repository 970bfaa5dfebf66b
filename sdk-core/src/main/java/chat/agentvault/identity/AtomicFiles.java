package chat.agentvault.identity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Crash-safe, private file writes: a temporary file in the same directory (mode 0600 from
 * creation), write, fsync, atomic rename over the target, fsync of the directory. A reader sees
 * either the old or the new content, never a mix. Temporary files start with {@code .tmp-}.
 */
final class AtomicFiles {
  static final String TEMP_PREFIX = ".tmp-";
  static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
  static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");

  private AtomicFiles() {}

  static boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }

  /** Creates {@code dir} and missing parents; sets 0700 on {@code dir} itself where POSIX. */
  static void createPrivateDirectory(Path dir) throws IOException {
    if (posix()) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
      Files.setPosixFilePermissions(dir, DIR_MODE); // umask or a pre-existing directory
    } else {
      Files.createDirectories(dir);
    }
  }

  static void write(Path target, byte[] content) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp =
        posix()
            ? Files.createTempFile(
                dir, TEMP_PREFIX, ".part", PosixFilePermissions.asFileAttribute(FILE_MODE))
            : Files.createTempFile(dir, TEMP_PREFIX, ".part", new FileAttribute<?>[0]);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    fsyncDirectory(dir);
  }

  /** Deletes {@code file} if present and makes the deletion durable; true if it existed. */
  static boolean delete(Path file) throws IOException {
    boolean existed = Files.deleteIfExists(file);
    if (existed) {
      fsyncDirectory(file.toAbsolutePath().getParent());
    }
    return existed;
  }

  /**
   * The content of {@code file}, refusing anything longer than {@code maxLength}.
   *
   * @throws NoSuchFileException when absent
   */
  static byte[] read(Path file, long maxLength, String what) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
        throw Framing.corrupted(what + " is not a regular file");
      }
      throw new NoSuchFileException(file.toString());
    }
    if (Files.size(file) > maxLength) {
      throw Framing.corrupted(what + " is larger than " + maxLength + " bytes");
    }
    return Files.readAllBytes(file);
  }

  /**
   * fsync of a directory, so a rename or unlink survives a crash. Only on POSIX systems: Windows
   * cannot open a directory, and its rename is durable once it returns.
   */
  static void fsyncDirectory(Path dir) throws IOException {
    if (!posix()) {
      return;
    }
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
