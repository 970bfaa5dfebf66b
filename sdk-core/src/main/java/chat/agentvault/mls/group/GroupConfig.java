package chat.agentvault.mls.group;

import chat.agentvault.Bytes;
import chat.agentvault.mls.schedule.SecretTree;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Settings of one member's view of a group.
 *
 * @param privateHandshakes send proposals and commits as PrivateMessage (else PublicMessage)
 * @param ratchetTreeInWelcome put the {@code ratchet_tree} extension into the GroupInfo of Welcomes
 * @param externalPsks external PSK id to secret, or null when unknown
 * @param clockSeconds current Unix time for KeyPackage lifetime checks; a negative value skips them
 * @param limits secret-tree bounds for out-of-order and skipped generations
 * @param pastEpochs how many previous epochs keep what late application messages need (0 = none)
 */
public record GroupConfig(
    boolean privateHandshakes,
    boolean ratchetTreeInWelcome,
    Function<Bytes, byte[]> externalPsks,
    LongSupplier clockSeconds,
    SecretTree.Limits limits,
    int pastEpochs) {
  public GroupConfig {
    Objects.requireNonNull(externalPsks, "externalPsks");
    Objects.requireNonNull(clockSeconds, "clockSeconds");
    Objects.requireNonNull(limits, "limits");
    if (pastEpochs < 0 || pastEpochs > 64) {
      throw new IllegalArgumentException("pastEpochs must be in [0, 64]: " + pastEpochs);
    }
  }

  /** PublicMessage handshakes, ratchet tree in Welcomes, no external PSKs, wall clock, 3 past epochs. */
  public static final GroupConfig DEFAULT =
      new GroupConfig(
          false, true, id -> null, () -> System.currentTimeMillis() / 1000, SecretTree.Limits.DEFAULT, 3);

  public GroupConfig withPrivateHandshakes(boolean on) {
    return new GroupConfig(on, ratchetTreeInWelcome, externalPsks, clockSeconds, limits, pastEpochs);
  }

  public GroupConfig withRatchetTreeInWelcome(boolean on) {
    return new GroupConfig(privateHandshakes, on, externalPsks, clockSeconds, limits, pastEpochs);
  }

  public GroupConfig withExternalPsks(Function<Bytes, byte[]> lookup) {
    return new GroupConfig(privateHandshakes, ratchetTreeInWelcome, lookup, clockSeconds, limits, pastEpochs);
  }

  public GroupConfig withClock(LongSupplier clock) {
    return new GroupConfig(privateHandshakes, ratchetTreeInWelcome, externalPsks, clock, limits, pastEpochs);
  }
}
