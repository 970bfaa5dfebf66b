package chat.agentvault.transport;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Reconnect delays: exponential ({@code base * 2^attempt}, capped at {@code max}) with "equal
 * jitter" (uniform in the upper half), so that clients cut off together do not come back together.
 */
final class Backoff {
  private final long baseMillis;
  private final long maxMillis;
  private final DoubleSupplier random;

  Backoff(Duration base, Duration max, DoubleSupplier random) {
    if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) {
      throw new IllegalArgumentException("need 0 < base <= max: " + base + ", " + max);
    }
    this.baseMillis = base.toMillis();
    this.maxMillis = max.toMillis();
    this.random = Objects.requireNonNull(random, "random");
  }

  /** The delay before reconnect attempt {@code attempt} (0 for the first one after a loss). */
  Duration delay(int attempt) {
    if (attempt < 0) {
      throw new IllegalArgumentException("attempt must not be negative: " + attempt);
    }
    long cap = attempt >= 40 ? maxMillis : Math.min(maxMillis, baseMillis << Math.min(attempt, 40));
    if (cap < 0) {
      cap = maxMillis;
    }
    double r = random.getAsDouble();
    return Duration.ofMillis(cap / 2 + (long) (r * (cap - cap / 2)));
  }
}
