package chat.agentvault.ratchet;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the 1:1 sessions of one device. Immutable; {@link #DEFAULT} suits most agents, and
 * {@link #newBuilder()} derives variants.
 *
 * <ul>
 *   <li>{@code maxSkip} (1000): message keys one chain may skip for out-of-order delivery (Double
 *       Ratchet §3.1 {@code MAX_SKIP}, §6.4 suggests 1000); a message further ahead is refused with
 *       {@code TOO_MANY_SKIPPED} and changes nothing.
 *   <li>{@code maxSkippedKeys} (2000): skipped keys kept per session across all chains; past it the
 *       oldest is deleted (a late message for it is then {@code EXPIRED}).
 *   <li>{@code skippedKeyLifetime} (14 days): a skipped key older than this is deleted on the
 *       session's next operation (§6.4).
 *   <li>{@code headerEncryption} (off): sessions this device starts use the header-encryption
 *       variant (§4); the initial message says so and the responder follows it.
 *   <li>Prekeys: the signed prekey rotates every {@code signedPreKeyRotation} (7 days) and the
 *       previous one is kept {@code signedPreKeyGrace} (7 days) for initial messages in transit
 *       (X3DH §3.2); one-time prekeys are made {@code oneTimePreKeyBatch} (100) at a time whenever
 *       fewer than {@code oneTimePreKeyMinimum} (20) remain unissued.
 *   <li>{@code clock} (UTC system clock): the time source for ages, injectable for tests.
 * </ul>
 */
public final class RatchetConfig {
  public static final RatchetConfig DEFAULT = new Builder().build();

  private final int maxSkip;
  private final int maxSkippedKeys;
  private final Duration skippedKeyLifetime;
  private final boolean headerEncryption;
  private final Duration signedPreKeyRotation;
  private final Duration signedPreKeyGrace;
  private final int oneTimePreKeyBatch;
  private final int oneTimePreKeyMinimum;
  private final Clock clock;

  private RatchetConfig(Builder b) {
    this.maxSkip = b.maxSkip;
    this.maxSkippedKeys = b.maxSkippedKeys;
    this.skippedKeyLifetime = b.skippedKeyLifetime;
    this.headerEncryption = b.headerEncryption;
    this.signedPreKeyRotation = b.signedPreKeyRotation;
    this.signedPreKeyGrace = b.signedPreKeyGrace;
    this.oneTimePreKeyBatch = b.oneTimePreKeyBatch;
    this.oneTimePreKeyMinimum = b.oneTimePreKeyMinimum;
    this.clock = b.clock;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from this configuration. */
  public Builder newBuilder() {
    Builder b = new Builder();
    b.maxSkip = maxSkip;
    b.maxSkippedKeys = maxSkippedKeys;
    b.skippedKeyLifetime = skippedKeyLifetime;
    b.headerEncryption = headerEncryption;
    b.signedPreKeyRotation = signedPreKeyRotation;
    b.signedPreKeyGrace = signedPreKeyGrace;
    b.oneTimePreKeyBatch = oneTimePreKeyBatch;
    b.oneTimePreKeyMinimum = oneTimePreKeyMinimum;
    b.clock = clock;
    return b;
  }

  public int maxSkip() {
    return maxSkip;
  }

  public int maxSkippedKeys() {
    return maxSkippedKeys;
  }

  public Duration skippedKeyLifetime() {
    return skippedKeyLifetime;
  }

  public boolean headerEncryption() {
    return headerEncryption;
  }

  public Duration signedPreKeyRotation() {
    return signedPreKeyRotation;
  }

  public Duration signedPreKeyGrace() {
    return signedPreKeyGrace;
  }

  public int oneTimePreKeyBatch() {
    return oneTimePreKeyBatch;
  }

  public int oneTimePreKeyMinimum() {
    return oneTimePreKeyMinimum;
  }

  public Clock clock() {
    return clock;
  }

  @Override
  public String toString() {
    return "RatchetConfig[maxSkip=" + maxSkip + ", maxSkippedKeys=" + maxSkippedKeys
        + ", skippedKeyLifetime=" + skippedKeyLifetime + ", headerEncryption=" + headerEncryption
        + ", signedPreKeyRotation=" + signedPreKeyRotation + ", signedPreKeyGrace="
        + signedPreKeyGrace + ", oneTimePreKeyBatch=" + oneTimePreKeyBatch
        + ", oneTimePreKeyMinimum=" + oneTimePreKeyMinimum + "]";
  }

  /** Each setter checks its argument at once; {@link #build()} checks the combination. */
  public static final class Builder {
    private int maxSkip = 1000;
    private int maxSkippedKeys = 2000;
    private Duration skippedKeyLifetime = Duration.ofDays(14);
    private boolean headerEncryption;
    private Duration signedPreKeyRotation = Duration.ofDays(7);
    private Duration signedPreKeyGrace = Duration.ofDays(7);
    private int oneTimePreKeyBatch = 100;
    private int oneTimePreKeyMinimum = 20;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** 1 to 100,000. */
    public Builder maxSkip(int maxSkip) {
      this.maxSkip = range("maxSkip", maxSkip, 1, 100_000);
      return this;
    }

    /** 1 to 1,000,000. */
    public Builder maxSkippedKeys(int maxSkippedKeys) {
      this.maxSkippedKeys = range("maxSkippedKeys", maxSkippedKeys, 1, 1_000_000);
      return this;
    }

    public Builder skippedKeyLifetime(Duration lifetime) {
      this.skippedKeyLifetime = positive("skippedKeyLifetime", lifetime);
      return this;
    }

    public Builder headerEncryption(boolean headerEncryption) {
      this.headerEncryption = headerEncryption;
      return this;
    }

    public Builder signedPreKeyRotation(Duration rotation) {
      this.signedPreKeyRotation = positive("signedPreKeyRotation", rotation);
      return this;
    }

    /** Zero drops the previous signed prekey at rotation. */
    public Builder signedPreKeyGrace(Duration grace) {
      Objects.requireNonNull(grace, "signedPreKeyGrace");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("signedPreKeyGrace must not be negative: " + grace);
      }
      this.signedPreKeyGrace = grace;
      return this;
    }

    /** 1 to 10,000. */
    public Builder oneTimePreKeyBatch(int batch) {
      this.oneTimePreKeyBatch = range("oneTimePreKeyBatch", batch, 1, 10_000);
      return this;
    }

    /** 0 to 10,000. */
    public Builder oneTimePreKeyMinimum(int minimum) {
      this.oneTimePreKeyMinimum = range("oneTimePreKeyMinimum", minimum, 0, 10_000);
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * @throws IllegalArgumentException when {@code maxSkippedKeys < maxSkip}
     */
    public RatchetConfig build() {
      if (maxSkippedKeys < maxSkip) {
        throw new IllegalArgumentException(
            "maxSkippedKeys (" + maxSkippedKeys + ") must be at least maxSkip (" + maxSkip + ")");
      }
      return new RatchetConfig(this);
    }

    private static int range(String name, int v, int min, int max) {
      if (v < min || v > max) {
        throw new IllegalArgumentException(name + " must be " + min + " to " + max + ": " + v);
      }
      return v;
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + d);
      }
      return d;
    }
  }
}
