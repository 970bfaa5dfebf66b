package chat.agentvault.crypto.internal;

import com.goterl.lazysodium.SodiumJava;
import com.goterl.lazysodium.utils.LibraryLoader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Not API. The process-wide libsodium binding, loaded once.
 *
 * <p>Loading order: the system library first (Debian's {@code libsodium23} is on our machines);
 * otherwise the one {@code .so} for this platform that lazysodium bundles is unpacked once into
 * {@code ${java.io.tmpdir}/agentvault-native/<sha-256 prefix>/} and loaded by absolute path.
 * lazysodium's own {@code BUNDLED_ONLY} mode would unpack every platform's library into a fresh
 * temp folder on every JVM start (about 3.7 MB left behind each time), which we avoid.
 *
 * <p>Before first use a known-answer test runs (RFC 8032 §7.1 test 1), so a broken or
 * incompatible library fails at load, not in traffic.
 */
public final class Sodium {
  private static final Logger LOG = LoggerFactory.getLogger(Sodium.class);

  private Sodium() {}

  /** The loaded, self-tested binding. */
  public static SodiumJava get() {
    return Holder.SODIUM;
  }

  private static final class Holder {
    static final SodiumJava SODIUM = load();
  }

  private static SodiumJava load() {
    SodiumJava sodium;
    String forced = System.getProperty("agentvault.sodium.path");
    if (forced != null && !forced.isBlank()) {
      sodium = new SodiumJava(forced);
    } else {
      try {
        sodium = new SodiumJava(LibraryLoader.Mode.SYSTEM_ONLY);
        LOG.debug("loaded system libsodium");
      } catch (RuntimeException | LinkageError systemMissing) {
        Path unpacked = unpackBundled();
        sodium = new SodiumJava(unpacked.toString());
        LOG.debug("loaded bundled libsodium from {}", unpacked);
      }
    }
    if (sodium.sodium_init() < 0) {
      throw new IllegalStateException("sodium_init failed");
    }
    selfTest(sodium);
    return sodium;
  }

  private static Path unpackBundled() {
    String resource = bundledResource();
    try (InputStream in = Sodium.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(
            "no system libsodium and no bundled one for this platform (" + resource + ")");
      }
      byte[] lib = in.readAllBytes();
      String digest =
          HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(lib)).substring(0, 16);
      Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "agentvault-native", digest);
      Path target = dir.resolve("libsodium.so");
      if (Files.isRegularFile(target) && Files.size(target) == lib.length) {
        return target;
      }
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "libsodium", ".tmp");
      Files.write(tmp, lib);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      return target;
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot unpack bundled libsodium", e);
    }
  }

  private static String bundledResource() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (os.contains("linux")) {
      if (arch.equals("amd64") || arch.equals("x86_64")) {
        return "linux64/libsodium.so";
      }
      if (arch.equals("aarch64") || arch.equals("arm64")) {
        return "arm64/libsodium.so";
      }
      return "linux/libsodium.so";
    }
    if (os.contains("mac")) {
      return arch.contains("aarch64") ? "mac/aarch64/libsodium.dylib" : "mac/intel/libsodium.dylib";
    }
    if (os.contains("windows")) {
      return "windows64/libsodium.dll";
    }
    return "linux64/libsodium.so";
  }

  /** RFC 8032 §7.1, TEST 1: the empty message under a fixed seed. */
  private static void selfTest(SodiumJava s) {
    HexFormat hex = HexFormat.of();
    byte[] seed = hex.parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    byte[] expectedPk =
        hex.parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    byte[] expectedSig =
        hex.parseHex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    byte[] pk = new byte[32];
    byte[] sk = new byte[64];
    byte[] sig = new byte[64];
    s.crypto_sign_seed_keypair(pk, sk, seed);
    s.crypto_sign_detached(sig, null, new byte[0], 0, sk);
    boolean ok =
        MessageDigest.isEqual(pk, expectedPk)
            && MessageDigest.isEqual(sig, expectedSig)
            && s.crypto_sign_verify_detached(sig, new byte[0], 0, pk) == 0;
    java.util.Arrays.fill(sk, (byte) 0);
    if (!ok) {
      throw new IllegalStateException("libsodium failed its Ed25519 known-answer self-test");
    }
  }
}
