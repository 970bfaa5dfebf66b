package chat.agentvault.identity;

/**
 * Argon2id cost parameters (libsodium {@code crypto_pwhash}, algorithm {@code ARGON2ID13}, one
 * lane): passes over memory and memory in bytes.
 *
 * <p>{@link #INTERACTIVE} (libsodium's {@code OPSLIMIT/MEMLIMIT_INTERACTIVE}, 2 passes, 64 MiB) is
 * the default for a key store that an unattended agent opens at every start; {@link #MODERATE} (3
 * passes, 256 MiB) is the default for backups, which are opened rarely and may be stored where
 * an attacker can copy them. Costs are written into each file, so opening uses the costs the file
 * was written with.
 *
 * <p>Bounds, enforced here and when reading a file (so a modified file cannot make us allocate
 * gigabytes): 1 to {@value #MAX_OPS} passes, {@value #MIN_MEMORY} bytes to 1 GiB of memory, in
 * whole KiB. <b>Tests</b> use {@link #insecureForTesting()} to keep each derivation around a
 * millisecond; never use it for real data.
 */
public record Argon2Params(int opsLimit, long memLimitBytes) {
  /** Most passes accepted. */
  public static final int MAX_OPS = 10;
  /** Least memory accepted (libsodium's {@code crypto_pwhash_MEMLIMIT_MIN}). */
  public static final long MIN_MEMORY = 8L * 1024;
  /** Most memory accepted: 1 GiB (libsodium's {@code MEMLIMIT_SENSITIVE}). */
  public static final long MAX_MEMORY = 1024L * 1024 * 1024;

  /** 2 passes, 64 MiB: the key store default. */
  public static final Argon2Params INTERACTIVE = new Argon2Params(2, 64L * 1024 * 1024);
  /** 3 passes, 256 MiB: the backup default. */
  public static final Argon2Params MODERATE = new Argon2Params(3, 256L * 1024 * 1024);

  /**
   * Validates the bounds.
   *
   * @throws IllegalArgumentException naming the parameter out of bounds
   */
  public Argon2Params {
    if (opsLimit < 1 || opsLimit > MAX_OPS) {
      throw new IllegalArgumentException("opsLimit must be 1 to " + MAX_OPS + ": " + opsLimit);
    }
    if (memLimitBytes < MIN_MEMORY || memLimitBytes > MAX_MEMORY || memLimitBytes % 1024 != 0) {
      throw new IllegalArgumentException(
          "memLimitBytes must be a multiple of 1024 from 8 KiB to 1 GiB: " + memLimitBytes);
    }
  }

  /**
   * 1 pass over 8 KiB: offers no protection against guessing. The documented option for tests,
   * where the INTERACTIVE cost would dominate the run time.
   */
  public static Argon2Params insecureForTesting() {
    return new Argon2Params(1, MIN_MEMORY);
  }

  /** True when a file's stored costs are within the bounds above (memory given in KiB). */
  static boolean withinBounds(long opsLimit, long memLimitKib) {
    return opsLimit >= 1
        && opsLimit <= MAX_OPS
        && memLimitKib >= MIN_MEMORY / 1024
        && memLimitKib <= MAX_MEMORY / 1024;
  }

  int memLimitKib() {
    return (int) (memLimitBytes / 1024);
  }
}
