package chat.agentvault.identity;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.crypto.SecretBytes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Shared helpers: fast Argon2 costs, secret scanning. */
final class TestSupport {
  static final Argon2Params FAST = Argon2Params.insecureForTesting();
  /** Every window of this many secret bytes is searched for. */
  static final int WINDOW = 8;

  private TestSupport() {}

  static KeyProtection passphrase(String p) {
    return KeyProtection.passphrase(p.toCharArray(), FAST);
  }

  static byte[] bytes(SecretBytes s) {
    return s.copyOfSecret();
  }

  /** The secrets of an open store: seed, expanded key, X25519 scalar, data key. */
  static List<byte[]> secretsOf(DeviceKeyStore store) {
    List<byte[]> out = new ArrayList<>(secretsOf(store.identity()));
    out.add(((RealDeviceKeyStore) store).dataKeyForTesting().copyOfSecret());
    return out;
  }

  static List<byte[]> secretsOf(DeviceIdentity identity) {
    byte[] seed = identity.signingKey().seed().copyOfSecret();
    byte[] pk = identity.publicIdentity().signingKey().toByteArray();
    byte[] expanded = new byte[64]; // libsodium's secret key: seed || public key
    System.arraycopy(seed, 0, expanded, 0, 32);
    System.arraycopy(pk, 0, expanded, 32, 32);
    byte[] scalar = identity.agreementKey().secret().copyOfSecret();
    return List.of(seed, expanded, scalar);
  }

  /** Asserts that no 8-byte window of any secret occurs in {@code haystack}. */
  static void assertNoSecretBytes(String where, byte[] haystack, List<byte[]> secrets) {
    for (byte[] secret : secrets) {
      assertThat(indexOf(haystack, secret)).as(where + " contains a whole secret").isEqualTo(-1);
      for (int i = 0; i + WINDOW <= Math.min(secret.length, 32); i++) {
        byte[] window = java.util.Arrays.copyOfRange(secret, i, i + WINDOW);
        assertThat(indexOf(haystack, window))
            .as(where + " contains 8 bytes of a secret at offset " + i)
            .isEqualTo(-1);
      }
    }
  }

  /** Asserts that no secret shows in {@code text} as hex (either case) or Base64. */
  static void assertNoSecretText(String text, List<byte[]> secrets) {
    String lower = text.toLowerCase(java.util.Locale.ROOT);
    for (byte[] secret : secrets) {
      String hex = HexFormat.of().formatHex(secret);
      for (int i = 0; i + 2 * WINDOW <= Math.min(hex.length(), 64); i += 2) {
        assertThat(lower).as("text shows secret hex").doesNotContain(hex.substring(i, i + 2 * WINDOW));
      }
      assertThat(text).doesNotContain(Base64.getEncoder().encodeToString(secret).substring(0, 16));
      assertThat(text)
          .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(secret).substring(0, 16));
    }
  }

  /** The message, toString and causes of {@code t}, joined. */
  static String describe(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c).append('\n').append(c.getMessage()).append('\n');
    }
    return b.toString();
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  static List<Path> allFiles(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Path> allEntries(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
