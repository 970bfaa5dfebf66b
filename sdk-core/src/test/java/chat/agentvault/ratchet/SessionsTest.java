package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import chat.agentvault.ratchet.RatchetException.Reason;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Double Ratchet's promises, through the public API, with and without header encryption. */
class SessionsTest {

  private static Party[] pair(boolean he) {
    Party alice = Party.create(he);
    Party bob = Party.create(he);
    alice.api.start(bob.address, PreKeyBundle.parse(bob.api.bundle().toBytes()));
    return new Party[] {alice, bob};
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void conversationInOrderWithATurnEachWay(boolean he) {
    Party[] p = pair(he);
    Party alice = p[0];
    Party bob = p[1];
    byte[] first = alice.send(bob, "hello bob");
    assertThat(first[1]).as("initial message type").isEqualTo((byte) WireMessage.PREKEY);
    Decrypted d = bob.api.decrypt(alice.address, first);
    assertThat(new String(d.plaintext(), StandardCharsets.UTF_8)).isEqualTo("hello bob");
    assertThat(d.newSession()).isTrue();
    assertThat(d.sender()).isEqualTo(alice.identity.publicIdentity());
    byte[] second = alice.send(bob, "still no reply");
    assertThat(second[1]).as("PREKEY until the first reply").isEqualTo((byte) WireMessage.PREKEY);
    assertThat(bob.receive(alice, second)).isEqualTo("still no reply");
    for (int turn = 0; turn < 5; turn++) {
      assertThat(alice.receive(bob, bob.send(alice, "b" + turn))).isEqualTo("b" + turn);
      byte[] a = alice.send(bob, "a" + turn);
      assertThat(a[1]).isEqualTo((byte) (he ? WireMessage.NORMAL_HE : WireMessage.NORMAL));
      assertThat(bob.receive(alice, a)).isEqualTo("a" + turn);
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void outOfOrderWithinMaxSkipAcrossChains(boolean he) {
    Party[] p = pair(he);
    Party alice = p[0];
    Party bob = p[1];
    assertThat(bob.receive(alice, alice.send(bob, "start"))).isEqualTo("start");
    assertThat(alice.receive(bob, bob.send(alice, "reply"))).isEqualTo("reply");
    List<byte[]> chain1 = new ArrayList<>();
    List<String> texts1 = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      texts1.add("x" + i);
      chain1.add(alice.send(bob, "x" + i));
    }
    // Bob answers a late message of the chain so Alice starts a new chain (DH ratchet step).
    assertThat(bob.receive(alice, chain1.get(19))).isEqualTo("x19");
    assertThat(alice.receive(bob, bob.send(alice, "r"))).isEqualTo("r");
    List<byte[]> chain2 = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      chain2.add(alice.send(bob, "y" + i));
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < 39; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(7));
    for (int i : order) {
      if (i < 19) {
        assertThat(bob.receive(alice, chain1.get(i))).isEqualTo("x" + i);
      } else {
        assertThat(bob.receive(alice, chain2.get(i - 19))).isEqualTo("y" + (i - 19));
      }
    }
    assertThat(bob.record(alice).current().skipped).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void beyondMaxSkipIsRefusedWithoutAdvancingState(boolean he) {
    RatchetConfig config = RatchetConfig.builder().maxSkip(5).maxSkippedKeys(50).headerEncryption(he).build();
    Party alice = new Party(config);
    Party bob = new Party(config);
    alice.api.start(bob.address, bob.api.bundle());
    List<byte[]> m = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      m.add(alice.send(bob, "m" + i));
    }
    assertThat(bob.receive(alice, m.get(0))).isEqualTo("m0");
    bob.assertRefused(alice, m.get(7), Reason.TOO_MANY_SKIPPED); // would skip 1..6: six keys
    assertThat(bob.receive(alice, m.get(6))).isEqualTo("m6"); // skips exactly five
    for (int i = 1; i < 6; i++) {
      assertThat(bob.receive(alice, m.get(i))).isEqualTo("m" + i);
    }
    assertThat(bob.receive(alice, m.get(7))).isEqualTo("m7");
    // Across a DH step: PN - Nr also counts.
    assertThat(alice.receive(bob, bob.send(alice, "r"))).isEqualTo("r");
    List<byte[]> n = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      n.add(alice.send(bob, "n" + i));
    }
    assertThat(bob.receive(alice, n.get(0))).isEqualTo("n0");
    assertThat(alice.receive(bob, bob.send(alice, "r2"))).isEqualTo("r2");
    byte[] next = alice.send(bob, "next chain"); // PN = 7, Bob's Nr = 1: six to skip
    bob.assertRefused(alice, next, Reason.TOO_MANY_SKIPPED);
    assertThat(bob.receive(alice, n.get(6))).isEqualTo("n6");
    assertThat(bob.receive(alice, next)).isEqualTo("next chain");
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void duplicatesAndReplaysAreRefused(boolean he) {
    Party[] p = pair(he);
    Party alice = p[0];
    Party bob = p[1];
    byte[] initial = alice.send(bob, "one");
    byte[] second = alice.send(bob, "two");
    byte[] third = alice.send(bob, "three");
    assertThat(bob.receive(alice, initial)).isEqualTo("one");
    bob.assertRefused(alice, initial, Reason.DUPLICATE); // the initial message again
    assertThat(bob.receive(alice, third)).isEqualTo("three");
    bob.assertRefused(alice, third, Reason.DUPLICATE); // current chain
    assertThat(bob.receive(alice, second)).isEqualTo("two"); // from the skipped keys
    bob.assertRefused(alice, second, Reason.DUPLICATE); // skipped key used
    assertThat(alice.receive(bob, bob.send(alice, "reply"))).isEqualTo("reply");
    byte[] normal = alice.send(bob, "four");
    assertThat(bob.receive(alice, normal)).isEqualTo("four");
    assertThat(alice.receive(bob, bob.send(alice, "reply 2"))).isEqualTo("reply 2");
    assertThat(bob.receive(alice, alice.send(bob, "five"))).isEqualTo("five");
    bob.assertRefused(alice, normal, Reason.DUPLICATE); // a finished chain
    bob.assertRefused(alice, initial, Reason.DUPLICATE);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void everyFlippedBitIsRefusedAndChangesNothing(boolean he) {
    Party[] p = pair(he);
    Party alice = p[0];
    Party bob = p[1];
    byte[] initial = alice.send(bob, "initial message");
    int unissuedBefore = bob.api.preKeys().unissuedOneTimePreKeys();
    flipEveryBit(bob, alice, initial);
    assertThat(bob.api.hasSession(alice.address)).as("no session from a forgery").isFalse();
    assertThat(bob.api.preKeys().unissuedOneTimePreKeys()).isEqualTo(unissuedBefore);
    assertThat(bob.receive(alice, initial)).isEqualTo("initial message");
    assertThat(alice.receive(bob, bob.send(alice, "reply"))).isEqualTo("reply");
    byte[] normal = alice.send(bob, "normal message");
    flipEveryBit(bob, alice, normal);
    assertThat(bob.receive(alice, normal)).isEqualTo("normal message");
  }

  private static void flipEveryBit(Party receiver, Party sender, byte[] wire) {
    byte[] before = receiver.sessions.load(sender.address).orElse(null);
    for (int bit = 0; bit < wire.length * 8; bit++) {
      byte[] bad = wire.clone();
      bad[bit / 8] ^= (byte) (1 << (bit % 8));
      RatchetException e = receiver.refuse(sender, bad);
      assertThat(e).as("bit %d", bit).isNotNull();
    }
    for (int len = 0; len < wire.length; len += 7) {
      assertThat(receiver.refuse(sender, Arrays.copyOf(wire, len))).as("truncated to %d", len).isNotNull();
    }
    assertThat(receiver.refuse(sender, Arrays.copyOf(wire, wire.length + 1))).isNotNull();
    assertThat(Arrays.equals(before, receiver.sessions.load(sender.address).orElse(null))).isTrue();
  }

  @Test
  void unknownSessionAndHeaderEncryptionMismatch() {
    Party alice = Party.create();
    Party bob = Party.create();
    Party carol = Party.create();
    assertThatThrownBy(() -> alice.send(bob, "x"))
        .isInstanceOf(RatchetException.class)
        .extracting(e -> ((RatchetException) e).reason())
        .isEqualTo(Reason.UNKNOWN_SESSION);
    alice.api.start(bob.address, bob.api.bundle());
    bob.receive(alice, alice.send(bob, "hi"));
    byte[] normal = bob.send(alice, "to alice");
    carol.assertRefused(bob, normal, Reason.UNKNOWN_SESSION);
    // the initial message claims another identity than the address it came from
    carol.api.start(bob.address, bob.api.bundle());
    byte[] fromCarol = carol.send(bob, "x");
    bob.assertRefused(alice, fromCarol, Reason.MALFORMED);
  }

  @Test
  void responderFollowsTheInitiatorsHeaderEncryptionChoice() {
    Party alice = Party.create(true);
    Party bob = Party.create(false);
    alice.api.start(bob.address, bob.api.bundle());
    assertThat(bob.receive(alice, alice.send(bob, "he"))).isEqualTo("he");
    byte[] reply = bob.send(alice, "reply");
    assertThat(reply[1]).isEqualTo((byte) WireMessage.NORMAL_HE);
    assertThat(alice.receive(bob, reply)).isEqualTo("reply");
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void skippedKeysExpireAfterTheirLifetimeAndTheTotalIsBounded(boolean he) {
    Party.MutableClock clock = new Party.MutableClock();
    RatchetConfig config =
        RatchetConfig.builder()
            .headerEncryption(he)
            .maxSkip(10)
            .maxSkippedKeys(12)
            .skippedKeyLifetime(Duration.ofHours(1))
            .clock(clock)
            .build();
    Party alice = new Party(config);
    Party bob = new Party(config);
    alice.api.start(bob.address, bob.api.bundle());
    byte[] m0 = alice.send(bob, "m0");
    byte[] m1 = alice.send(bob, "m1");
    byte[] m2 = alice.send(bob, "m2");
    bob.receive(alice, m0);
    bob.receive(alice, m2); // m1's key is stored
    clock.advance(Duration.ofMinutes(61));
    bob.receive(alice, alice.send(bob, "m3")); // next operation deletes the aged key
    assertThat(bob.record(alice).current().skipped).isEmpty();
    bob.assertRefused(alice, m1, Reason.EXPIRED);

    // Bound across chains: 8 skipped in one chain, 8 in the next, 12 kept.
    List<byte[]> late = new ArrayList<>();
    for (int round = 0; round < 2; round++) {
      alice.receive(bob, bob.send(alice, "turn " + round));
      for (int i = 0; i < 9; i++) {
        late.add(alice.send(bob, "late " + round + "." + i));
      }
      bob.receive(alice, late.remove(late.size() - 1));
    }
    assertThat(bob.record(alice).current().skipped).hasSize(12);
    bob.assertRefused(alice, late.get(0), Reason.EXPIRED); // evicted first
    bob.assertRefused(alice, late.get(3), Reason.EXPIRED);
    for (int i = 4; i < late.size(); i++) {
      assertThat(bob.receive(alice, late.get(i))).startsWith("late");
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void forwardSecrecyTheUsedKeyIsGoneFromTheStoredState(boolean he) throws Exception {
    Party[] p = pair(he);
    Party alice = p[0];
    Party bob = p[1];
    bob.receive(alice, alice.send(bob, "setup"));
    alice.receive(bob, bob.send(alice, "turn"));
    byte[] m0 = alice.send(bob, "m0");
    byte[] m1 = alice.send(bob, "m1");
    // In order: the chain key before and the message key it gives are both gone afterwards.
    bob.receive(alice, m0); // DH step: new receiving chain, m0 at N = 0
    byte[] before = bob.stored(alice);
    byte[] ck = bob.record(alice).current().ckr;
    byte[] mk1 = KdfKatTest.hmac(ck, new byte[] {1});
    bob.receive(alice, m1);
    byte[] after = bob.stored(alice);
    assertThat(KdfKatTest.contains(before, ck)).as("check is meaningful").isTrue();
    assertThat(KdfKatTest.contains(after, ck)).isFalse();
    assertThat(KdfKatTest.contains(after, mk1)).isFalse();
    // A copy of the state as stored now cannot decrypt m1 again.
    Party copy = new Party(bob.identity, bob.config, SessionStore.inMemory(), PreKeyStore.inMemory());
    copy.sessions.save(alice.address, after);
    copy.restart();
    copy.assertRefused(alice, m1, Reason.DUPLICATE);

    // Out of order: a skipped key is in the stored state until used, then gone.
    byte[] m2 = alice.send(bob, "m2");
    byte[] m3 = alice.send(bob, "m3");
    bob.receive(alice, m3);
    byte[] skippedMk = bob.record(alice).current().skipped.values().iterator().next().mk.clone();
    assertThat(KdfKatTest.contains(bob.stored(alice), skippedMk)).isTrue();
    bob.receive(alice, m2);
    assertThat(KdfKatTest.contains(bob.stored(alice), skippedMk)).isFalse();
    copy.sessions.save(alice.address, bob.stored(alice));
    copy.restart();
    copy.assertRefused(alice, m2, Reason.DUPLICATE);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void breakInRecoveryAfterOneRoundTrip(boolean he) {
    Party[] p = pair(he);
    Party alice = p[0];
    Party bob = p[1];
    bob.receive(alice, alice.send(bob, "a1"));
    // An attacker copies Alice's whole state (and identity) before her next DH ratchet step.
    Party thief = new Party(alice.identity, alice.config, SessionStore.inMemory(), PreKeyStore.inMemory());
    thief.sessions.save(bob.address, alice.stored(bob));
    thief.restart();
    byte[] b1 = bob.send(alice, "b1");
    assertThat(thief.receive(bob, b1)).as("b1 uses keys the thief holds").isEqualTo("b1");
    assertThat(alice.receive(bob, b1)).isEqualTo("b1"); // Alice's DH step: a fresh ratchet key
    assertThat(bob.receive(alice, alice.send(bob, "a2"))).isEqualTo("a2"); // Bob's DH step
    byte[] b2 = bob.send(alice, "b2");
    assertThat(thief.refuse(bob, b2)).as("recovered: the thief cannot follow").isNotNull();
    assertThat(alice.receive(bob, b2)).isEqualTo("b2");
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void simultaneousStartConverges(boolean he) {
    Party x = Party.create(he);
    Party y = Party.create(he);
    boolean xLower =
        Arrays.compareUnsigned(x.identity.fingerprint().toByteArray(), y.identity.fingerprint().toByteArray()) < 0;
    Party low = xLower ? x : y;
    Party high = xLower ? y : x;
    low.api.start(high.address, high.api.bundle());
    high.api.start(low.address, low.api.bundle());
    byte[] fromLow1 = low.send(high, "low 1");
    byte[] fromHigh1 = high.send(low, "high 1");
    byte[] fromHigh2 = high.send(low, "high 2");
    // both initial messages cross in flight
    assertThat(low.receive(high, fromHigh1)).isEqualTo("high 1");
    assertThat(high.receive(low, fromLow1)).isEqualTo("low 1");
    assertThat(low.receive(high, fromHigh2)).as("sent on the losing session: still readable").isEqualTo("high 2");
    byte[] lowBase = low.record(high).current().baseKey;
    assertThat(high.record(low).current().baseKey).as("both keep the lower fingerprint's session").isEqualTo(lowBase);
    for (int i = 0; i < 3; i++) {
      assertThat(low.receive(high, high.send(low, "h" + i))).isEqualTo("h" + i);
      assertThat(high.receive(low, low.send(high, "l" + i))).isEqualTo("l" + i);
    }
    assertThat(low.record(high).current().baseKey).isEqualTo(lowBase);
    assertThat(high.record(low).current().baseKey).isEqualTo(lowBase);
  }

  @Test
  void aNewInitialMessageFromAPeerThatLostItsStateReplacesTheSession() {
    Party alice = Party.create();
    Party bob = Party.create();
    alice.api.start(bob.address, bob.api.bundle());
    bob.receive(alice, alice.send(bob, "first"));
    alice.receive(bob, bob.send(alice, "reply"));
    // Alice loses her state and starts again (the channel layer's resync)
    alice.api.deleteSession(bob.address);
    alice.api.start(bob.address, bob.api.bundle());
    Decrypted d = bob.api.decrypt(alice.address, alice.send(bob, "again"));
    assertThat(d.newSession()).isTrue();
    assertThat(alice.receive(bob, bob.send(alice, "welcome back"))).isEqualTo("welcome back");
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void restoredFromBytesMidConversationContinuesExactly(boolean he) {
    Party[] p = pair(he);
    Party alice = p[0];
    Party bob = p[1];
    bob.receive(alice, alice.send(bob, "a"));
    alice.receive(bob, bob.send(alice, "b"));
    byte[] late = alice.send(bob, "late");
    bob.receive(alice, alice.send(bob, "c")); // late's key is skipped
    byte[] stored = bob.stored(alice);
    assertThat(SessionRecord.parse(stored).toBytes()).as("restores exactly").isEqualTo(stored);
    bob.restart();
    alice.restart();
    assertThat(bob.receive(alice, late)).isEqualTo("late");
    for (int i = 0; i < 3; i++) {
      assertThat(alice.receive(bob, bob.send(alice, "x" + i))).isEqualTo("x" + i);
      assertThat(bob.receive(alice, alice.send(bob, "y" + i))).isEqualTo("y" + i);
    }
  }

  @Test
  void recordsAndStatesDecodeTotally() {
    Party[] p = pair(true);
    p[1].receive(p[0], p[0].send(p[1], "x"));
    p[1].receive(p[0], p[0].send(p[1], "y"));
    byte[] stored = p[1].stored(p[0]);
    for (int len = 0; len < stored.length; len++) {
      byte[] cut = Arrays.copyOf(stored, len);
      assertThatThrownBy(() -> SessionRecord.parse(cut)).isInstanceOf(RatchetException.class);
    }
    byte[] v2 = stored.clone();
    v2[0] = 2;
    assertThatThrownBy(() -> SessionRecord.parse(v2))
        .isInstanceOf(RatchetException.class)
        .extracting(e -> ((RatchetException) e).reason())
        .isEqualTo(Reason.UNSUPPORTED_VERSION);
    Random r = new Random(1);
    for (int i = 0; i < 2000; i++) {
      byte[] junk = new byte[r.nextInt(300)];
      r.nextBytes(junk);
      if (junk.length > 0) {
        junk[0] = 1;
      }
      try {
        WireMessage.parse(junk);
      } catch (RatchetException expected) {
        // the only failure allowed
      }
      try {
        SessionRecord.parse(junk);
      } catch (RatchetException expected) {
        // the only failure allowed
      }
    }
  }
}
