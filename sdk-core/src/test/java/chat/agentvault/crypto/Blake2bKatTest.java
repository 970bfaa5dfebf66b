package chat.agentvault.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * BLAKE2b (RFC 7693) against the official BLAKE2 known-answer tests ({@code
 * shared/vectors/blake2/blake2-kat.json}, read at test time), through both package-private backends
 * and the public size-dispatching entry points, plus backend-agreement checks for the output and
 * key lengths the KAT file does not cover.
 */
class Blake2bKatTest {
  private static final String FILE = "blake2-kat.json";

  /**
   * Every {@code blake2b} entry (256 unkeyed, 256 keyed with key 00..3f; inputs 00 01 02 .. of 0 to
   * 255 bytes, so both sides of the {@value Blake2b#SMALL_INPUT}-byte dispatch threshold; 64-byte
   * output) through {@link Blake2b#sodium}, {@link Blake2b#bouncy}, {@link Blake2b#keyedHash} and,
   * when unkeyed, {@link Blake2b#hash}. The other hash kinds in the file (blake2s, blake2sp,
   * blake2bp, blake2xs, blake2xb) are counted as skipped.
   */
  @Test
  void officialKnownAnswers() {
    JsonNode all = Vectors.json(Vectors.file("blake2", FILE));
    int executed = 0;
    int passed = 0;
    int skipped = 0;
    int keyed = 0;
    int aboveThreshold = 0;
    List<String> failures = new ArrayList<>();
    for (JsonNode e : all) {
      if (!e.get("hash").asText().equals("blake2b")) {
        skipped++;
        continue;
      }
      executed++;
      byte[] in = Vectors.hex(e.get("in"));
      byte[] key = Vectors.hex(e.get("key"));
      byte[] out = Vectors.hex(e.get("out"));
      keyed += key.length > 0 ? 1 : 0;
      aboveThreshold += in.length > Blake2b.SMALL_INPUT ? 1 : 0;
      List<String> bad = new ArrayList<>();
      if (out.length != 64) {
        bad.add("expected 64-byte output, file has " + out.length);
      }
      if (!Arrays.equals(Blake2b.sodium(key, in, out.length), out)) {
        bad.add("sodium");
      }
      if (!Arrays.equals(Blake2b.bouncy(key, in, out.length), out)) {
        bad.add("bouncy");
      }
      if (!Arrays.equals(Blake2b.keyedHash(key, in, out.length), out)) {
        bad.add("keyedHash");
      }
      if (key.length == 0 && !Arrays.equals(Blake2b.hash(in, out.length), out)) {
        bad.add("hash");
      }
      if (bad.isEmpty()) {
        passed++;
      } else {
        failures.add(
            "blake2b in.length=" + in.length + " key.length=" + key.length + ": mismatch in " + bad);
      }
    }
    Vectors.report(FILE, executed, passed, skipped);
    assertThat(failures).as("%d failure(s)", failures.size()).isEmpty();
    assertThat(executed + skipped).isEqualTo(all.size()).isEqualTo(3072);
    assertThat(executed).isEqualTo(512);
    assertThat(passed).isEqualTo(executed);
    assertThat(keyed).isEqualTo(256);
    // inputs of 129..255 bytes, unkeyed and keyed: the public API sent these to libsodium
    assertThat(aboveThreshold).isEqualTo(2 * 127);
  }

  /** RFC 7693 Appendix A: BLAKE2b-512("abc"). */
  @Test
  void rfc7693AppendixA() {
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    String expected =
        "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
    assertThat(Vectors.hex(Blake2b.hash(abc, 64))).isEqualTo(expected);
    assertThat(Vectors.hex(Blake2b.sodium(new byte[0], abc, 64))).isEqualTo(expected);
    assertThat(Vectors.hex(Blake2b.bouncy(new byte[0], abc, 64))).isEqualTo(expected);
  }

  /**
   * Exhaustive grid, deterministic data: every output length 16..64 × key length 0 or 16..64 ×
   * input sizes around the dispatch threshold. Both backends and the public entry point must agree.
   * The output length is a parameter of BLAKE2b (RFC 7693 §2.5, parameter block byte 0), not a
   * truncation, so each length is a distinct function and is checked separately.
   */
  @Test
  void backendsAgreeOnGrid() {
    SplittableRandom rnd = new SplittableRandom(0x7693_2b2bL);
    int[] sizes = {0, 1, 63, 64, 65, 127, 128, 129, 130, 255, 256, 257, 1000};
    int checked = 0;
    for (int outLen = 16; outLen <= 64; outLen++) {
      for (int keyLen = 0; keyLen <= 64; keyLen = keyLen == 0 ? 16 : keyLen + 1) {
        for (int size : sizes) {
          byte[] key = bytes(rnd, keyLen);
          byte[] in = bytes(rnd, size);
          byte[] viaSodium = Blake2b.sodium(key, in, outLen);
          byte[] viaBouncy = Blake2b.bouncy(key, in, outLen);
          String where = "out=" + outLen + " key=" + keyLen + " in=" + size;
          assertThat(viaSodium).as(where).hasSize(outLen).isEqualTo(viaBouncy);
          assertThat(Blake2b.keyedHash(key, in, outLen)).as(where).isEqualTo(viaSodium);
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(49 * 50 * sizes.length);
  }

  /**
   * Outputs of 1..15 bytes and keys of 1..15 bytes always go to Bouncy Castle. libsodium's one-shot
   * {@code crypto_generichash} (1.0.18) only enforces {@code 1 <= outlen <= 64} and {@code keylen <=
   * 64}; its 16-byte minimums are recommendations. That makes libsodium an independent check of the
   * Bouncy-only ranges too.
   */
  @Test
  void bouncyOnlyRangesMatchLibsodium() {
    SplittableRandom rnd = new SplittableRandom(0x2b2b_7693L);
    int[] sizes = {0, 1, 128, 129, 300};
    for (int outLen = 1; outLen <= 64; outLen++) {
      for (int keyLen = 0; keyLen <= 15; keyLen++) {
        if (outLen >= 16 && keyLen == 0) {
          continue; // covered by the grid above
        }
        for (int size : sizes) {
          byte[] key = bytes(rnd, keyLen);
          byte[] in = bytes(rnd, size);
          String where = "out=" + outLen + " key=" + keyLen + " in=" + size;
          byte[] viaBouncy = Blake2b.bouncy(key, in, outLen);
          assertThat(Blake2b.keyedHash(key, in, outLen)).as(where).isEqualTo(viaBouncy);
          assertThat(Blake2b.sodium(key, in, outLen)).as(where).isEqualTo(viaBouncy);
        }
      }
    }
  }

  /** Random inputs, lengths biased to the dispatch threshold; keys empty or 16..64 bytes. */
  @Property(tries = 500)
  void backendsAgreeOnRandomInputs(
      @ForAll @IntRange(min = 16, max = 64) int outLen,
      @ForAll("keys") byte[] key,
      @ForAll("inputs") byte[] in) {
    byte[] viaSodium = Blake2b.sodium(key, in, outLen);
    assertThat(viaSodium).hasSize(outLen).isEqualTo(Blake2b.bouncy(key, in, outLen));
    assertThat(Blake2b.keyedHash(key, in, outLen)).isEqualTo(viaSodium);
  }

  @Provide
  Arbitrary<byte[]> keys() {
    return Arbitraries.oneOf(
        Arbitraries.just(new byte[0]),
        Arbitraries.bytes().array(byte[].class).ofMinSize(16).ofMaxSize(64));
  }

  @Provide
  Arbitrary<byte[]> inputs() {
    return Arbitraries.oneOf(
        Arbitraries.bytes()
            .array(byte[].class)
            .ofMinSize(Blake2b.SMALL_INPUT - 8)
            .ofMaxSize(Blake2b.SMALL_INPUT + 8),
        Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(1024));
  }

  private static byte[] bytes(SplittableRandom rnd, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) rnd.nextInt(256);
    }
    return b;
  }
}
