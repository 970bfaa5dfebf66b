package chat.agentvault.transport;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Detects that the machine slept: a periodic tick that finds more than {@code gap} since the
 * previous one (the scheduler could not run) reports a wake-up. A socket that looked open through
 * a sleep is usually dead without knowing it, so the caller reconnects and catches up.
 */
final class WakeDetector {
  private final LongSupplier nanoTime;
  private final long gapNanos;
  private long last;

  WakeDetector(LongSupplier nanoTime, Duration gap) {
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.gapNanos = gap.toNanos();
    this.last = nanoTime.getAsLong();
  }

  /** Called by the periodic tick; true when the time since the previous tick exceeded the gap. */
  synchronized boolean tick() {
    long now = nanoTime.getAsLong();
    boolean woke = now - last > gapNanos;
    last = now;
    return woke;
  }
}
