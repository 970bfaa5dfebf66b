package chat.agentvault.ratchet;

import static org.assertj.core.api.Assertions.assertThat;

import chat.agentvault.ratchet.RatchetException.Reason;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random interleavings of sends, deliveries in any order, drops, duplicates and forgeries between
 * two parties: every message delivered once decrypts exactly once to its plaintext; a second
 * delivery is a {@code DUPLICATE}; a forged message never decrypts and changes nothing; at the end
 * every message still in flight decrypts.
 */
class RatchetPropertyTest {

  /** One step: a kind and a number to pick with. */
  record Step(int kind, int pick) {}

  static final int SEND_A = 0;
  static final int SEND_B = 1;
  static final int DELIVER = 2;
  static final int DUPLICATE = 3;
  static final int DROP = 4;
  static final int FORGE = 5;

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Integer> kind =
        Arbitraries.frequency(
            net.jqwik.api.Tuple.of(4, SEND_A),
            net.jqwik.api.Tuple.of(3, SEND_B),
            net.jqwik.api.Tuple.of(6, DELIVER),
            net.jqwik.api.Tuple.of(1, DUPLICATE),
            net.jqwik.api.Tuple.of(1, DROP),
            net.jqwik.api.Tuple.of(1, FORGE));
    Arbitrary<Step> step =
        Combinators.combine(kind, Arbitraries.integers().between(0, 1 << 20)).as(Step::new);
    return step.list().ofMinSize(1).ofMaxSize(60);
  }

  /** A message in flight: who gets it, its bytes, what it says. */
  record Flight(boolean toBob, byte[] wire, String text) {}

  @Property(tries = 150)
  void everyDeliveredMessageDecryptsExactlyOnce(
      @ForAll("steps") List<Step> steps, @ForAll boolean headerEncryption) {
    Party alice = Party.create(headerEncryption);
    Party bob = Party.create(headerEncryption);
    alice.api.start(bob.address, bob.api.bundle());
    List<Flight> inFlight = new ArrayList<>();
    List<Flight> delivered = new ArrayList<>();
    int counter = 0;
    for (Step s : steps) {
      switch (s.kind()) {
        case SEND_A -> {
          String text = "a" + counter++;
          inFlight.add(new Flight(true, alice.send(bob, text), text));
        }
        case SEND_B -> {
          if (bob.api.hasSession(alice.address)) {
            String text = "b" + counter++;
            inFlight.add(new Flight(false, bob.send(alice, text), text));
          }
        }
        case DELIVER -> {
          if (!inFlight.isEmpty()) {
            Flight f = inFlight.remove(s.pick() % inFlight.size());
            deliver(alice, bob, f);
            delivered.add(f);
          }
        }
        case DUPLICATE -> {
          if (!delivered.isEmpty()) {
            Flight f = delivered.get(s.pick() % delivered.size());
            Party to = f.toBob() ? bob : alice;
            Party from = f.toBob() ? alice : bob;
            to.assertRefused(from, f.wire(), Reason.DUPLICATE);
          }
        }
        case DROP -> {
          if (!inFlight.isEmpty()) {
            inFlight.remove(s.pick() % inFlight.size());
          }
        }
        case FORGE -> {
          List<Flight> pool = inFlight.isEmpty() ? delivered : inFlight;
          if (!pool.isEmpty()) {
            Flight f = pool.get(s.pick() % pool.size());
            byte[] bad = f.wire().clone();
            int bit = (s.pick() >>> 4) % (bad.length * 8);
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            Party to = f.toBob() ? bob : alice;
            Party from = f.toBob() ? alice : bob;
            byte[] before = to.sessions.load(from.address).orElse(null);
            assertThat(to.refuse(from, bad)).as("forgery refused").isNotNull();
            assertThat(to.sessions.load(from.address).orElse(null)).isEqualTo(before);
          }
        }
        default -> throw new AssertionError(s);
      }
    }
    // everything still in flight arrives now, in reverse order
    for (int i = inFlight.size() - 1; i >= 0; i--) {
      deliver(alice, bob, inFlight.get(i));
    }
  }

  private static void deliver(Party alice, Party bob, Flight f) {
    if (f.toBob()) {
      assertThat(bob.receive(alice, f.wire())).isEqualTo(f.text());
    } else {
      assertThat(alice.receive(bob, f.wire())).isEqualTo(f.text());
    }
  }
}
