package chat.agentvault.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.crypto.internal.InsecureNonceAead;
import chat.agentvault.testing.Vectors;
import com.fasterxml.jackson.databind.JsonNode;
import java.security.GeneralSecurityException;
import java.security.SignatureException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Project Wycheproof known-answer tests (C2SP/wycheproof {@code testvectors_v1}, read at test time
 * from {@code shared/vectors/wycheproof}; see {@code doc/formats.md} there).
 *
 * <p>Result semantics: {@code valid} must produce exactly the expected output; {@code invalid} must
 * be rejected, i.e. our API throws one of the exception types it documents for bad input ({@link
 * GeneralSecurityException} and its subtypes, or {@link IllegalArgumentException}); returning a
 * value, or failing with any other exception type, is a failure. {@code acceptable} only occurs in
 * {@code x25519_test.json}; see {@link #x25519()} for the policy.
 *
 * <p>Every file is checked for: no failures, {@code executed + skipped == numberOfTests}, and the
 * exact executed/skipped counts we expect, so that a parser slip or an empty file cannot pass.
 */
class WycheproofTest {

  /** One test's verdict. {@code null} from a runner means "passed". */
  private interface Case {
    String run(JsonNode group, JsonNode test) throws Exception;
  }

  /** Thrown by a runner to count the test as skipped (unsupported parameters). */
  private static final class Skip extends Exception {
    Skip(String why) {
      super(why, null, false, false);
    }
  }

  /** Per-file bookkeeping: counts, and every failure with its tcId and comment. */
  private static final class Tally {
    final String file;
    final JsonNode root;
    int seen;
    int executed;
    int passed;
    int skipped;
    final List<String> failures = new ArrayList<>();
    final Map<String, Integer> notes = new TreeMap<>();

    Tally(String file) {
      this.file = file;
      this.root = Vectors.json(Vectors.file("wycheproof", file));
    }

    Tally run(Case c) {
      for (JsonNode group : root.get("testGroups")) {
        for (JsonNode test : group.get("tests")) {
          seen++;
          String verdict;
          try {
            verdict = c.run(group, test);
          } catch (Skip s) {
            skipped++;
            note("skipped: " + s.getMessage());
            continue;
          } catch (Exception e) {
            verdict = "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage();
          }
          executed++;
          if (verdict == null) {
            passed++;
          } else {
            failures.add(
                "tcId "
                    + test.get("tcId").asInt()
                    + " ["
                    + test.get("result").asText()
                    + " "
                    + test.get("flags")
                    + "] "
                    + test.get("comment").asText()
                    + ": "
                    + verdict);
          }
        }
      }
      return this;
    }

    void note(String what) {
      notes.merge(what, 1, Integer::sum);
    }

    void check(int expectedExecuted, int expectedSkipped) {
      Vectors.report(file, executed, passed, skipped);
      notes.forEach((k, v) -> System.out.printf("[vectors]   %s: %s x%d%n", file, k, v));
      int numberOfTests = root.get("numberOfTests").asInt();
      assertThat(failures).as("%s: %d failure(s)", file, failures.size()).isEmpty();
      assertThat(seen).as("%s: tests found vs numberOfTests", file).isEqualTo(numberOfTests);
      assertThat(executed + skipped).as("%s: executed + skipped", file).isEqualTo(numberOfTests);
      assertThat(passed).as("%s: passed", file).isEqualTo(executed);
      assertThat(executed).as("%s: executed", file).isPositive().isEqualTo(expectedExecuted);
      assertThat(skipped).as("%s: skipped", file).isEqualTo(expectedSkipped);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private static byte[] hex(JsonNode test, String field) {
    return Vectors.hex(test.get(field));
  }

  private static String result(JsonNode test) {
    return test.get("result").asText();
  }

  private static Set<String> flags(JsonNode test) {
    Set<String> out = new TreeSet<>();
    test.get("flags").forEach(f -> out.add(f.asText()));
    return out;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static boolean allZero(byte[] b) {
    int acc = 0;
    for (byte x : b) {
      acc |= x;
    }
    return acc == 0;
  }

  /** The API call of an {@code invalid} test, which must throw. */
  private interface Call {
    Object call() throws Exception;
  }

  /**
   * Null when {@code call} was rejected with a documented exception type, else the failure text.
   * The rejection type is tallied so the log shows what rejected what.
   */
  private static String mustReject(Tally tally, String what, Call call) {
    Object out;
    try {
      out = call.call();
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      tally.note(what + " rejected with " + e.getClass().getSimpleName());
      return null;
    } catch (Exception e) {
      return what + " failed with undocumented " + e.getClass().getSimpleName() + ": " + e.getMessage();
    }
    return what + " accepted invalid input"
        + (out instanceof byte[] ? " and returned " + ((byte[]) out).length + " bytes" : "");
  }

  // ---------------------------------------------------------------------------------------------
  // X25519 (RFC 7748)

  /**
   * X25519: 264 valid, 254 acceptable, 0 invalid.
   *
   * <p>Policy for {@code acceptable}: {@link X25519PrivateKey#agree} refuses exactly when the
   * shared secret is all zero (RFC 7748 §6.1: "check whether the resulting value is all zero";
   * RFC 9180 §7.1.4 makes the check mandatory for DHKEM). In this file those are the tests flagged
   * {@code ZeroSharedSecret}, which always also carry {@code LowOrderPublic}. Every other acceptable
   * test (twist points, non-canonical u ≥ p, edge-case multiplications) must be computed and match.
   * The flags are checked against the data, so a change in either is noticed.
   */
  @Test
  void x25519() {
    Tally t = new Tally("x25519_test.json");
    Map<String, int[]> perFlag = new TreeMap<>(); // flag -> {computed, refused} among acceptable
    t.run(
        (group, test) -> {
          assertThat(group.get("curve").asText()).isEqualTo("curve25519");
          byte[] shared = hex(test, "shared");
          Set<String> flags = flags(test);
          boolean zero = allZero(shared);
          String res = result(test);
          if (!res.equals("valid") && !res.equals("acceptable")) {
            return "unexpected result " + res + " in x25519_test.json";
          }
          if (zero != flags.contains("ZeroSharedSecret")
              || flags.contains("LowOrderPublic") != flags.contains("ZeroSharedSecret")) {
            return "vector flags do not match the all-zero policy (zero=" + zero + ")";
          }
          if (zero && res.equals("valid")) {
            return "valid test with an all-zero shared secret; policy would refuse it";
          }
          boolean refuse = zero; // the whole policy, per RFC 7748 §6.1
          X25519PrivateKey priv = X25519PrivateKey.of(hex(test, "private"));
          X25519PublicKey pub = X25519PublicKey.of(hex(test, "public"));
          String verdict;
          boolean refused;
          try (SecretBytes s = priv.agree(pub)) {
            refused = false;
            verdict = refuse
                ? "all-zero shared secret was not refused"
                : Arrays.equals(s.raw(), shared) ? null : "shared secret mismatch";
          } catch (java.security.InvalidKeyException e) {
            refused = true;
            verdict = refuse ? null : "refused a " + res + " agreement with a non-zero shared secret";
          } finally {
            priv.close();
          }
          if (res.equals("acceptable")) {
            for (String f : flags) {
              perFlag.computeIfAbsent(f, k -> new int[2])[refused ? 1 : 0]++;
            }
          }
          return verdict;
        });
    t.check(518, 0);
    perFlag.forEach(
        (f, n) ->
            System.out.printf(
                "[vectors]   x25519_test.json: acceptable, flag %s: computed=%d refused=%d%n",
                f, n[0], n[1]));
    // The policy, per flag: zero-output flags always refused, every other acceptable flag computed
    // (apart from tests that also carry a zero-output flag).
    assertThat(perFlag.get("ZeroSharedSecret")).containsExactly(0, 31);
    assertThat(perFlag.get("LowOrderPublic")).containsExactly(0, 31);
    assertThat(perFlag.get("EdgeCaseMultiplication")).containsExactly(170, 5);
    assertThat(perFlag.get("Twist")).containsExactly(216, 5);
    assertThat(perFlag.get("NonCanonicalPublic")).containsExactly(13, 6);
    assertThat(perFlag.get("SpecialPublicKey")).containsExactly(38, 12);
    assertThat(perFlag.get("SmallPublicKey")).containsExactly(0, 8);
    assertThat(perFlag.get("EdgeCaseShared")).containsExactly(8, 0);
    assertThat(perFlag.get("Ktv")).containsExactly(1, 0);
  }

  // ---------------------------------------------------------------------------------------------
  // Ed25519 (RFC 8032)

  /** Ed25519 verification: 88 valid, 63 invalid (malleable S ≥ L, bad encodings, bad lengths). */
  @Test
  void ed25519() {
    Tally t = new Tally("ed25519_test.json");
    t.run(
        (group, test) -> {
          byte[] pk = Vectors.hex(group.get("publicKey").get("pk"));
          byte[] msg = hex(test, "msg");
          byte[] sig = hex(test, "sig");
          if (result(test).equals("valid")) {
            try {
              Ed25519PublicKey.of(pk).verify(msg, sig);
              return null;
            } catch (SignatureException e) {
              return "valid signature rejected";
            }
          }
          return mustReject(
              t,
              "verify",
              () -> {
                Ed25519PublicKey.of(pk).verify(msg, sig);
                return null;
              });
        });
    t.check(151, 0);
  }

  // ---------------------------------------------------------------------------------------------
  // AEADs

  /** An AEAD under test with explicit key and nonce; ciphertext is {@code ct || tag}. */
  private interface ExplicitAead {
    byte[] seal(byte[] key, byte[] nonce, byte[] aad, byte[] msg) throws Exception;

    byte[] open(byte[] key, byte[] nonce, byte[] aad, byte[] ctAndTag) throws Exception;
  }

  /**
   * The common AEAD runner.
   *
   * <ul>
   *   <li>valid with supported parameters: seal must give exactly {@code ct || tag} and open must
   *       give back {@code msg};
   *   <li>valid with unsupported parameters: skipped, but only after checking that our API really
   *       refuses them (a "skip" the API would have computed is a failure);
   *   <li>invalid: open must be rejected; where the parameters themselves are the fault (nonce
   *       size) or unsupported, seal must be rejected too; otherwise (modified tag) seal must not
   *       produce the modified {@code ct || tag}.
   * </ul>
   */
  private static Tally runAead(String file, ExplicitAead aead, SupportedParams supported) {
    Tally t = new Tally(file);
    return t.run(
        (group, test) -> {
          byte[] key = hex(test, "key");
          byte[] iv = hex(test, "iv");
          byte[] aad = hex(test, "aad");
          byte[] msg = hex(test, "msg");
          byte[] ctTag = concat(hex(test, "ct"), hex(test, "tag"));
          int tagBits = group.get("tagSize").asInt();
          if (tagBits != 128) {
            return "runner only knows 128-bit tags, group has " + tagBits;
          }
          boolean ok = supported.test(key.length, iv.length);
          if (result(test).equals("valid")) {
            if (!ok) {
              String s = mustReject(t, "seal(unsupported)", () -> aead.seal(key, iv, aad, msg));
              String o = mustReject(t, "open(unsupported)", () -> aead.open(key, iv, aad, ctTag));
              if (s != null || o != null) {
                return "treated as unsupported but " + (s != null ? s : o);
              }
              throw new Skip("valid, " + unsupportedWhy(supported, key, iv));
            }
            byte[] sealed = aead.seal(key, iv, aad, msg);
            if (!Arrays.equals(sealed, ctTag)) {
              return "seal output differs from ct || tag";
            }
            byte[] opened = aead.open(key, iv, aad, ctTag);
            return Arrays.equals(opened, msg) ? null : "open output differs from msg";
          }
          if (!result(test).equals("invalid")) {
            return "unexpected result " + result(test);
          }
          String o = mustReject(t, "open", () -> aead.open(key, iv, aad, ctTag));
          if (o != null) {
            return o;
          }
          if (!ok) {
            if (key.length * 8 != group.get("keySize").asInt()) {
              return "key length does not match the group";
            }
            t.note("invalid, " + unsupportedWhy(supported, key, iv) + ", so seal must reject too");
            return mustReject(t, "seal", () -> aead.seal(key, iv, aad, msg));
          }
          byte[] sealed = aead.seal(key, iv, aad, msg);
          return Arrays.equals(sealed, ctTag) ? "seal reproduced the invalid ct || tag" : null;
        });
  }

  private interface SupportedParams {
    boolean test(int keyBytes, int nonceBytes);
  }

  /** Which parameter is unsupported: the key size when it is, else the nonce size. */
  private static String unsupportedWhy(SupportedParams supported, byte[] key, byte[] iv) {
    boolean keyOk = false;
    for (int n = 0; n <= 64 && !keyOk; n++) {
      keyOk = supported.test(key.length, n);
    }
    return keyOk
        ? "unsupported nonce size (" + iv.length * 8 + " bits)"
        : "unsupported key size (" + key.length * 8 + " bits)";
  }

  /**
   * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §2) through the package-private explicit-nonce
   * hooks: 246 valid, 60 modified tags, 9 wrong nonce sizes (all rejected).
   */
  @Test
  void xchacha20Poly1305() {
    runAead(
            "xchacha20_poly1305_test.json",
            new ExplicitAead() {
              @Override
              public byte[] seal(byte[] key, byte[] nonce, byte[] aad, byte[] msg) {
                return XChaCha20Poly1305.sealWithNonce(key, nonce, msg, aad);
              }

              @Override
              public byte[] open(byte[] key, byte[] nonce, byte[] aad, byte[] ct)
                  throws GeneralSecurityException {
                return XChaCha20Poly1305.openWithNonce(key, nonce, ct, aad);
              }
            },
            (k, n) -> k == 32 && n == 24)
        .check(315, 0);
  }

  /** ChaCha20-Poly1305 (RFC 8439 §2.8) via {@link InsecureNonceAead}: 256 valid, 69 invalid. */
  @Test
  void chacha20Poly1305() {
    runAead(
            "chacha20_poly1305_test.json",
            insecureNonce(InsecureNonceAead.Algorithm.CHACHA20_POLY1305),
            (k, n) -> k == 32 && n == 12)
        .check(325, 0);
  }

  /**
   * AES-GCM via {@link InsecureNonceAead}. We support 128- and 256-bit keys with 96-bit IVs only
   * (MLS suite 1 is AES-128-GCM with Nn = 12, RFC 9420 §17.1; RFC 5116 §5.1 fixes N_MIN = N_MAX =
   * 12 for AEAD_AES_128_GCM). Valid tests with 192-bit keys or other IV sizes are skipped (150 of
   * them); all 87 invalid tests run, including those with unsupported parameters, which our API
   * must reject (the 27 modified-tag tests with 192-bit keys are therefore rejected at key size,
   * not at the tag check; the log line says so). Executed: 79 valid + 87 invalid.
   */
  @Test
  void aesGcm() {
    runAead(
            "aes_gcm_test.json",
            insecureNonce(InsecureNonceAead.Algorithm.AES_GCM),
            (k, n) -> (k == 16 || k == 32) && n == 12)
        .check(166, 150);
  }

  private static ExplicitAead insecureNonce(InsecureNonceAead.Algorithm alg) {
    return new ExplicitAead() {
      @Override
      public byte[] seal(byte[] key, byte[] nonce, byte[] aad, byte[] msg)
          throws GeneralSecurityException {
        InsecureNonceAead a = InsecureNonceAead.create(alg, key);
        try {
          return a.seal(nonce, aad, msg);
        } finally {
          a.destroy();
        }
      }

      @Override
      public byte[] open(byte[] key, byte[] nonce, byte[] aad, byte[] ct)
          throws GeneralSecurityException {
        InsecureNonceAead a = InsecureNonceAead.create(alg, key);
        try {
          return a.open(nonce, aad, ct);
        } finally {
          a.destroy();
        }
      }
    };
  }

  // ---------------------------------------------------------------------------------------------
  // HKDF-SHA256 (RFC 5869) and HMAC-SHA256 (RFC 2104)

  /**
   * HKDF-SHA256: 83 valid (including empty salt and L = 255·32 = 8160), 3 invalid with L = 8161,
   * which {@link Hkdf#expand} must refuse (RFC 5869 §2.3: L ≤ 255·HashLen).
   */
  @Test
  void hkdfSha256() {
    Tally t = new Tally("hkdf_sha256_test.json");
    t.run(
        (group, test) -> {
          byte[] ikm = hex(test, "ikm");
          byte[] salt = hex(test, "salt");
          byte[] info = hex(test, "info");
          int size = test.get("size").asInt();
          if (result(test).equals("valid")) {
            byte[] okm = hex(test, "okm");
            if (okm.length != size) {
              return "okm length differs from size";
            }
            byte[] viaSteps = Hkdf.expand(Hkdf.extract(salt, ikm), info, size);
            byte[] viaDerive = Hkdf.derive(salt, ikm, info, size);
            if (!Arrays.equals(viaSteps, okm)) {
              return "extract+expand output differs from okm";
            }
            return Arrays.equals(viaDerive, okm) ? null : "derive output differs from okm";
          }
          if (!flags(test).contains("SizeTooLarge")) {
            return "runner only knows SizeTooLarge as invalid";
          }
          String e = mustReject(t, "expand", () -> Hkdf.expand(Hkdf.extract(salt, ikm), info, size));
          return e != null ? e : mustReject(t, "derive", () -> Hkdf.derive(salt, ikm, info, size));
        });
    t.check(86, 0);
  }

  /**
   * HMAC-SHA256: 66 valid (full 256-bit and truncated 128-bit tags), 108 modified tags. Valid:
   * {@link HmacSha256#compute} (truncated to the tag size, RFC 2104 §5) equals the tag and {@link
   * HmacSha256#verify} passes. Invalid: verify throws.
   */
  @Test
  void hmacSha256() {
    Tally t = new Tally("hmac_sha256_test.json");
    t.run(
        (group, test) -> {
          byte[] key = hex(test, "key");
          byte[] msg = hex(test, "msg");
          byte[] tag = hex(test, "tag");
          int tagBytes = group.get("tagSize").asInt() / 8;
          if (result(test).equals("valid")) {
            if (tag.length != tagBytes) {
              return "tag length differs from the group's tagSize";
            }
            byte[] full = HmacSha256.compute(key, msg);
            if (!Arrays.equals(Arrays.copyOf(full, tagBytes), tag)) {
              return "compute output differs from tag";
            }
            try {
              HmacSha256.verify(key, msg, tag);
              return null;
            } catch (SignatureException e) {
              return "verify rejected a valid tag";
            }
          }
          return mustReject(
              t,
              "verify",
              () -> {
                HmacSha256.verify(key, msg, tag);
                return null;
              });
        });
    t.check(174, 0);
  }
}
