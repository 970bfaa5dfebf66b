package chat.agentvault.bench;

import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Deterministic inputs and JDK key conversions shared by the benchmarks. Not measured. */
final class Fixtures {
  private static final HexFormat HEX = HexFormat.of();
  // RFC 8410 DER prefixes: SubjectPublicKeyInfo and PKCS#8 (v1) around a raw 32-byte key.
  private static final byte[] ED25519_SPKI = HEX.parseHex("302a300506032b6570032100");
  private static final byte[] ED25519_PKCS8 = HEX.parseHex("302e020100300506032b657004220420");
  private static final byte[] X25519_SPKI = HEX.parseHex("302a300506032b656e032100");
  private static final byte[] X25519_PKCS8 = HEX.parseHex("302e020100300506032b656e04220420");

  private Fixtures() {}

  /** {@code length} pseudo-random bytes, the same for every run with the same seed. */
  static byte[] bytes(int length, long seed) {
    byte[] out = new byte[length];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < length; i++) {
      out[i] = (byte) r.nextInt(256);
    }
    return out;
  }

  /** Writes {@code counter} little-endian into the first 8 bytes of {@code nonce}. */
  static void setCounter(byte[] nonce, long counter) {
    for (int i = 0; i < 8; i++) {
      nonce[i] = (byte) (counter >>> (8 * i));
    }
  }

  static PrivateKey jdkEd25519Private(byte[] seed) throws Exception {
    return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(concat(ED25519_PKCS8, seed)));
  }

  static PublicKey jdkEd25519Public(byte[] raw) throws Exception {
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(concat(ED25519_SPKI, raw)));
  }

  static PrivateKey jdkX25519Private(byte[] scalar) throws Exception {
    return KeyFactory.getInstance("X25519").generatePrivate(new PKCS8EncodedKeySpec(concat(X25519_PKCS8, scalar)));
  }

  static PublicKey jdkX25519Public(byte[] raw) throws Exception {
    return KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(concat(X25519_SPKI, raw)));
  }

  /** Fails the trial in {@code @Setup} when two backends disagree, so a benchmark never times a wrong result. */
  static void check(boolean condition, String what) {
    if (!condition) {
      throw new IllegalStateException("benchmark self-check failed: " + what);
    }
  }

  static void checkEqual(byte[] a, byte[] b, String what) {
    check(Arrays.equals(a, b), what + ": " + HEX.formatHex(a) + " != " + HEX.formatHex(b));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
