package chat.agentvault.channel;

/** Thrown at a {@link CrashPoint}: from then on the client processes and acknowledges nothing. */
final class SimulatedCrash extends RuntimeException {
  private static final long serialVersionUID = 1L;

  SimulatedCrash(CrashPoint at) {
    super("simulated crash " + at, null, false, false);
  }
}
