package chat.agentvault.mls.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.MessageRejectedException;
import chat.agentvault.MessageRejectedException.Reason;
import chat.agentvault.crypto.Csprng;
import chat.agentvault.mls.crypto.CipherSuite;
import chat.agentvault.mls.crypto.CipherSuites;
import chat.agentvault.mls.schedule.SecretTree.KeyAndNonce;
import chat.agentvault.mls.schedule.SecretTree.Limits;
import chat.agentvault.mls.schedule.SecretTree.RatchetType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The secret tree (RFC 9420 §9) through its observable behaviour: the deletion schedule of §9.2
 * (a consumed generation is gone), peek without consumption, agreement between independently
 * driven trees, the out-of-order and forward limits, and leaf indices outside the tree.
 */
class SecretTreeTest {
  private static final RatchetType APP = RatchetType.APPLICATION;
  private static final RatchetType HS = RatchetType.HANDSHAKE;

  private static CipherSuite cs(int suite) {
    return CipherSuites.forId(suite);
  }

  private static byte[] secret(CipherSuite cs) {
    return Csprng.randomBytes(cs.hashLength());
  }

  /** Key and nonce copied out (the record's arrays are wiped on close). */
  private record KN(int generation, String key, String nonce) {
    static KN of(KeyAndNonce kn) {
      try (kn) {
        return new KN(kn.generation(), hex(kn.key()), hex(kn.nonce()));
      }
    }
  }

  private static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b);
  }

  private static void assertRejected(Reason reason, ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            MessageRejectedException.class, e -> assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason));
  }

  // --- deletion schedule --------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void aCopyIsIndependentAndAgreesWithTheOriginal(int suite) {
    CipherSuite cs = cs(suite);
    try (SecretTree t = new SecretTree(cs, secret(cs), 4, Limits.DEFAULT)) {
      KN.of(t.forReceiving(1, APP, 2)); // generations 0 and 1 skipped and kept
      try (SecretTree c = t.copy()) {
        // Consuming in the copy leaves the original as it was, and the other way round.
        KN fromCopy = KN.of(c.forReceiving(1, APP, 0));
        KN fromOriginal = KN.of(t.forReceiving(1, APP, 0));
        assertThat(fromCopy).isEqualTo(fromOriginal);
        assertRejected(Reason.DUPLICATE, () -> c.forReceiving(1, APP, 0));
        KN.of(t.forReceiving(1, APP, 1));
        assertThat(KN.of(c.forReceiving(1, APP, 1)).generation()).isEqualTo(1);
        // Leaves not derived yet agree too.
        assertThat(KN.of(c.forReceiving(3, HS, 5))).isEqualTo(KN.of(t.forReceiving(3, HS, 5)));
        c.close();
        assertThat(KN.of(t.forReceiving(2, APP, 0)).generation()).isZero();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void aConsumedGenerationCannotBeObtainedAgain(int suite) {
    CipherSuite cs = cs(suite);
    try (SecretTree t = new SecretTree(cs, secret(cs), 4, Limits.DEFAULT)) {
      KN.of(t.forReceiving(2, APP, 0));
      assertRejected(Reason.DUPLICATE, () -> t.forReceiving(2, APP, 0));
      assertRejected(Reason.DUPLICATE, () -> t.peekForReceiving(2, APP, 0));
      // The other ratchet of the leaf, and other leaves, are unaffected.
      assertThat(KN.of(t.forReceiving(2, HS, 0)).generation()).isZero();
      assertThat(KN.of(t.forReceiving(1, APP, 0)).generation()).isZero();
      // Sending consumes the same ratchet: a generation sent is gone for receiving too.
      KN sent = KN.of(t.nextForSending(3, APP));
      assertThat(sent.generation()).isZero();
      assertRejected(Reason.DUPLICATE, () -> t.forReceiving(3, APP, 0));
      assertThat(KN.of(t.nextForSending(3, APP)).generation()).isEqualTo(1);
      // A skipped generation, once used, is gone as well.
      KN.of(t.forReceiving(0, APP, 3));
      KN.of(t.forReceiving(0, APP, 1));
      assertRejected(Reason.DUPLICATE, () -> t.forReceiving(0, APP, 1));
      assertRejected(Reason.DUPLICATE, () -> t.forReceiving(0, APP, 3));
      KN.of(t.forReceiving(0, APP, 2));
      KN.of(t.forReceiving(0, APP, 0));
      assertRejected(Reason.DUPLICATE, () -> t.peekForReceiving(0, APP, 0));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void peekDoesNotConsume(int suite) {
    CipherSuite cs = cs(suite);
    byte[] s = secret(cs);
    try (SecretTree t = new SecretTree(cs, s, 8, Limits.DEFAULT)) {
      // Before the leaf's ratchets exist...
      KN p1 = KN.of(t.peekForReceiving(5, APP, 3));
      KN p2 = KN.of(t.peekForReceiving(5, APP, 3));
      assertThat(p2).isEqualTo(p1);
      assertThat(p1.generation()).isEqualTo(3);
      // ...and after.
      KN.of(t.forReceiving(5, HS, 0));
      assertThat(KN.of(t.peekForReceiving(5, APP, 3))).isEqualTo(p1);
      KN p0 = KN.of(t.peekForReceiving(5, APP, 0));
      assertThat(KN.of(t.forReceiving(5, APP, 3))).isEqualTo(p1);
      // Generation 0 was skipped: still peekable, repeatedly, until consumed.
      assertThat(KN.of(t.peekForReceiving(5, APP, 0))).isEqualTo(p0);
      assertThat(KN.of(t.peekForReceiving(5, APP, 0))).isEqualTo(p0);
      assertThat(KN.of(t.forReceiving(5, APP, 0))).isEqualTo(p0);
      assertRejected(Reason.DUPLICATE, () -> t.peekForReceiving(5, APP, 0));
      assertRejected(Reason.DUPLICATE, () -> t.peekForReceiving(5, APP, 3));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void peeksLeaveTheTreeAsItWas(int suite) {
    CipherSuite cs = cs(suite);
    byte[] s = secret(cs);
    Random rnd = new Random(suite);
    try (SecretTree peeked = new SecretTree(cs, s, 8, Limits.DEFAULT);
        SecretTree plain = new SecretTree(cs, s, 8, Limits.DEFAULT)) {
      for (int step = 0; step < 40; step++) {
        int leaf = rnd.nextInt(8);
        RatchetType type = rnd.nextBoolean() ? APP : HS;
        int gen = rnd.nextInt(6);
        for (int i = 0; i < 3; i++) {
          try {
            KN.of(peeked.peekForReceiving(rnd.nextInt(8), rnd.nextBoolean() ? APP : HS, rnd.nextInt(8)));
          } catch (MessageRejectedException e) {
            assertThat(e.reason()).isEqualTo(Reason.DUPLICATE);
          }
        }
        KN a = null;
        KN b = null;
        Reason ra = null;
        Reason rb = null;
        try {
          a = KN.of(peeked.forReceiving(leaf, type, gen));
        } catch (MessageRejectedException e) {
          ra = e.reason();
        }
        try {
          b = KN.of(plain.forReceiving(leaf, type, gen));
        } catch (MessageRejectedException e) {
          rb = e.reason();
        }
        assertThat(a).isEqualTo(b);
        assertThat(ra).isEqualTo(rb);
      }
    }
  }

  // --- agreement ------------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4, 8, 16, 32})
  void twoTreesFromTheSameSecretAgreeForEveryLeafInAnyOrder(int leaves) {
    CipherSuite cs = cs(1);
    byte[] s = secret(cs);
    List<int[]> steps = new ArrayList<>(); // leaf, type, generation
    for (int leaf = 0; leaf < leaves; leaf++) {
      for (int type = 0; type < 2; type++) {
        for (int gen = 0; gen < 3; gen++) {
          steps.add(new int[] {leaf, type, gen});
        }
      }
    }
    List<int[]> shuffled = new ArrayList<>(steps);
    Collections.shuffle(shuffled, new Random(leaves));
    // Leaves last to first, and each ratchet's generations out of order (inside the window).
    List<int[]> reversed = new ArrayList<>(steps);
    Collections.reverse(reversed);
    try (SecretTree a = new SecretTree(cs, s, leaves, Limits.DEFAULT);
        SecretTree b = new SecretTree(cs, s, leaves, Limits.DEFAULT);
        SecretTree c = new SecretTree(cs, s, leaves, Limits.DEFAULT)) {
      java.util.Map<String, KN> fromA = new java.util.HashMap<>();
      for (int[] st : steps) {
        fromA.put(st[0] + "/" + st[1] + "/" + st[2], KN.of(a.forReceiving(st[0], RatchetType.values()[st[1]], st[2])));
      }
      for (int[] st : shuffled) {
        assertThat(KN.of(b.forReceiving(st[0], RatchetType.values()[st[1]], st[2])))
            .isEqualTo(fromA.get(st[0] + "/" + st[1] + "/" + st[2]));
      }
      for (int[] st : reversed) {
        assertThat(KN.of(c.forReceiving(st[0], RatchetType.values()[st[1]], st[2])))
            .isEqualTo(fromA.get(st[0] + "/" + st[1] + "/" + st[2]));
      }
      // Every (leaf, ratchet, generation) has its own key and nonce.
      Set<String> keys = new HashSet<>();
      Set<String> nonces = new HashSet<>();
      for (KN kn : fromA.values()) {
        keys.add(kn.key());
        nonces.add(kn.nonce());
      }
      assertThat(keys).hasSize(fromA.size());
      assertThat(nonces).hasSize(fromA.size());
    }
    // A different secret gives different keys.
    try (SecretTree a = new SecretTree(cs, s, leaves, Limits.DEFAULT);
        SecretTree other = new SecretTree(cs, secret(cs), leaves, Limits.DEFAULT)) {
      assertThat(KN.of(other.forReceiving(0, APP, 0))).isNotEqualTo(KN.of(a.forReceiving(0, APP, 0)));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void sendingAndReceivingSidesAgree(int suite) {
    CipherSuite cs = cs(suite);
    byte[] s = secret(cs);
    try (SecretTree sender = new SecretTree(cs, s, 4, Limits.DEFAULT);
        SecretTree receiver = new SecretTree(cs, s, 4, Limits.DEFAULT)) {
      for (int leaf = 0; leaf < 4; leaf++) {
        for (RatchetType type : RatchetType.values()) {
          List<KN> sent = new ArrayList<>();
          for (int i = 0; i < 6; i++) {
            KN kn = KN.of(sender.nextForSending(leaf, type));
            assertThat(kn.generation()).isEqualTo(i);
            sent.add(kn);
          }
          List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5));
          Collections.shuffle(order, new Random(leaf * 2 + type.ordinal()));
          for (int gen : order) {
            assertThat(KN.of(receiver.forReceiving(leaf, type, gen))).isEqualTo(sent.get(gen));
          }
        }
      }
      assertThat(cs.aeadKeyLength()).isEqualTo(suite == 1 ? 16 : 32);
      KN one = KN.of(sender.nextForSending(0, APP));
      assertThat(one.key()).hasSize(2 * cs.aeadKeyLength());
      assertThat(one.nonce()).hasSize(2 * cs.aeadNonceLength());
    }
  }

  // --- limits ---------------------------------------------------------------------------------

  @Test
  void maxForwardDistanceIsHonouredFromTheCurrentGenerationAndRejectionChangesNothing() {
    CipherSuite cs = cs(1);
    byte[] s = secret(cs);
    try (SecretTree t = new SecretTree(cs, s, 2, new Limits(2, 5));
        SecretTree ref = new SecretTree(cs, s, 2, new Limits(2, 5))) {
      assertRejected(Reason.TOO_FAR_AHEAD, () -> t.forReceiving(0, APP, 6));
      assertRejected(Reason.TOO_FAR_AHEAD, () -> t.peekForReceiving(0, APP, 6));
      assertRejected(Reason.TOO_FAR_AHEAD, () -> t.peekForReceiving(1, HS, 6)); // no ratchet yet
      assertThat(KN.of(t.forReceiving(0, APP, 0))).isEqualTo(KN.of(ref.forReceiving(0, APP, 0)));
      // Now at generation 1: 6 is exactly 5 ahead.
      assertThat(KN.of(t.forReceiving(0, APP, 6))).isEqualTo(KN.of(ref.forReceiving(0, APP, 6)));
      // Now at generation 7: 13 is 6 ahead, 12 is 5 ahead.
      assertRejected(Reason.TOO_FAR_AHEAD, () -> t.forReceiving(0, APP, 13));
      assertThat(KN.of(t.forReceiving(0, APP, 12))).isEqualTo(KN.of(ref.forReceiving(0, APP, 12)));
    }
  }

  @Test
  void generationsAreUnsignedSoTheTopOfTheRangeIsFarAheadNotAReplay() {
    CipherSuite cs = cs(1);
    try (SecretTree t = new SecretTree(cs, secret(cs), 2, Limits.DEFAULT)) {
      for (int gen : new int[] {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, 1001}) {
        assertRejected(Reason.TOO_FAR_AHEAD, () -> t.forReceiving(0, APP, gen));
        assertRejected(Reason.TOO_FAR_AHEAD, () -> t.peekForReceiving(0, APP, gen));
      }
      assertThat(KN.of(t.forReceiving(0, APP, 1000)).generation()).isEqualTo(1000);
    }
  }

  @Test
  void outOfOrderToleranceKeepsTheNewestSkippedKeysOnly() {
    CipherSuite cs = cs(3);
    byte[] s = secret(cs);
    try (SecretTree t = new SecretTree(cs, s, 2, new Limits(3, 100));
        SecretTree ref = new SecretTree(cs, s, 2, new Limits(100, 100))) {
      KN.of(t.forReceiving(1, HS, 10));
      for (int gen = 0; gen <= 6; gen++) {
        int g = gen;
        assertRejected(Reason.DUPLICATE, () -> t.forReceiving(1, HS, g));
      }
      for (int gen = 9; gen >= 7; gen--) {
        assertThat(KN.of(t.forReceiving(1, HS, gen))).isEqualTo(KN.of(ref.forReceiving(1, HS, gen)));
      }
      assertRejected(Reason.DUPLICATE, () -> t.forReceiving(1, HS, 10));
    }
    try (SecretTree none = new SecretTree(cs, s, 2, new Limits(0, 100))) {
      KN.of(none.forReceiving(0, APP, 5));
      for (int gen = 0; gen <= 5; gen++) {
        int g = gen;
        assertRejected(Reason.DUPLICATE, () -> none.forReceiving(0, APP, g));
      }
      assertThat(KN.of(none.forReceiving(0, APP, 6)).generation()).isEqualTo(6);
    }
  }

  @Test
  void limitsAndShapeAreValidated() {
    assertThatThrownBy(() -> new Limits(-1, 10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Limits(1, -10)).isInstanceOf(IllegalArgumentException.class);
    CipherSuite cs = cs(1);
    for (int n : new int[] {0, 3, 6, -4}) {
      assertThatThrownBy(() -> new SecretTree(cs, secret(cs), n, Limits.DEFAULT))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  // --- leaf index outside the tree ------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4, 8})
  void leafIndexOutsideTheTreeIsMalformed(int leaves) {
    CipherSuite cs = cs(1);
    try (SecretTree t = new SecretTree(cs, secret(cs), leaves, Limits.DEFAULT)) {
      for (int leaf : new int[] {-1, leaves, leaves + 1, 2 * leaves, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
        for (RatchetType type : RatchetType.values()) {
          assertRejected(Reason.MALFORMED, () -> t.forReceiving(leaf, type, 0));
          assertRejected(Reason.MALFORMED, () -> t.peekForReceiving(leaf, type, 0));
          assertRejected(Reason.MALFORMED, () -> t.nextForSending(leaf, type));
        }
      }
      // Nothing was consumed by those: every real leaf still starts at generation 0.
      for (int leaf = 0; leaf < leaves; leaf++) {
        assertThat(KN.of(t.forReceiving(leaf, APP, 0)).generation()).isZero();
      }
    }
  }

  @Test
  void closingAKeyAndNonceWipesIt() {
    CipherSuite cs = cs(1);
    try (SecretTree t = new SecretTree(cs, secret(cs), 2, Limits.DEFAULT)) {
      KeyAndNonce kn = t.nextForSending(0, APP);
      kn.close();
      assertThat(kn.key()).containsOnly(0);
      assertThat(kn.nonce()).containsOnly(0);
      assertThat(kn.toString()).contains("redacted");
    }
  }

  @ParameterizedTest(name = "suite {0}")
  @ValueSource(ints = {1, 3})
  void writtenAndReadTreeContinuesExactly(int suite) {
    CipherSuite cs = cs(suite);
    SecretTree t = new SecretTree(cs, secret(cs), 8, Limits.DEFAULT);
    SecretTree u = t.copy();
    KN.of(t.nextForSending(2, APP));
    KN.of(t.forReceiving(5, APP, 4)); // generations 0..3 of leaf 5 skipped and kept
    KN.of(t.forReceiving(5, HS, 1));
    chat.agentvault.mls.codec.TlsWriter w = new chat.agentvault.mls.codec.TlsWriter();
    t.writeTo(w);
    byte[] bytes = w.toByteArray();
    SecretTree r =
        chat.agentvault.mls.codec.TlsReader.decodeAll(bytes, in -> SecretTree.readFrom(in, cs, Limits.DEFAULT));
    chat.agentvault.mls.codec.TlsWriter w2 = new chat.agentvault.mls.codec.TlsWriter();
    r.writeTo(w2);
    assertThat(w2.toByteArray()).isEqualTo(bytes);
    // The restored tree gives what an untouched copy gives, and refuses what t consumed.
    KN.of(u.forReceiving(5, APP, 4));
    assertThat(KN.of(r.forReceiving(5, APP, 2))).isEqualTo(KN.of(u.forReceiving(5, APP, 2)));
    assertThat(KN.of(r.forReceiving(5, APP, 7))).isEqualTo(KN.of(u.forReceiving(5, APP, 7)));
    assertThat(KN.of(r.nextForSending(2, APP))).isEqualTo(KN.of(u.forReceiving(2, APP, 1)));
    assertThat(KN.of(r.forReceiving(0, HS, 0))).isEqualTo(KN.of(u.forReceiving(0, HS, 0)));
    assertRejected(Reason.DUPLICATE, () -> r.forReceiving(5, APP, 4));
    assertRejected(Reason.DUPLICATE, () -> r.forReceiving(5, HS, 1));
    // Every truncation fails to decode.
    for (int n = 0; n < bytes.length; n++) {
      byte[] cut = java.util.Arrays.copyOf(bytes, n);
      assertThatThrownBy(
              () -> chat.agentvault.mls.codec.TlsReader.decodeAll(cut, in -> SecretTree.readFrom(in, cs, Limits.DEFAULT)))
          .isInstanceOf(chat.agentvault.mls.codec.DecodeException.class);
    }
  }
}
