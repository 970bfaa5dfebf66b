package chat.agentvault.samples;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import java.util.concurrent.CountDownLatch;

/** How the sample agents run on their own: show the fingerprint while pending, run until Ctrl-C. */
final class Standalone {
  private Standalone() {}

  /** Starts {@code client} (enrolls on the first run), then blocks until the JVM is asked to stop. */
  static void runUntilStopped(AgentClient client, AutoCloseable... alsoClose) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    client.onStateChange(s -> {
      System.out.println("[" + name(client) + "] " + s);
      if (s == ClientState.PENDING_APPROVAL) {
        System.out.println("[" + name(client) + "] waiting for the owner's approval. Device "
            + client.deviceId().orElse("?") + ", fingerprint:\n    " + client.fingerprint().full()
            + "\n  The owner compares it and runs: approve " + client.deviceId().orElse("DEVICE") + " FINGERPRINT");
      }
      if (s == ClientState.REVOKED || s == ClientState.CLOSED) {
        stopped.countDown();
      }
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      for (AutoCloseable c : alsoClose) {
        try {
          c.close();
        } catch (Exception ignored) {
          // shutting down
        }
      }
      client.close();
      stopped.countDown();
    }, "sample-shutdown"));
    client.start();
    System.out.println("[" + name(client) + "] online as device " + client.deviceId().orElse("?")
        + " (Ctrl-C stops)");
    stopped.await();
  }

  private static String name(AgentClient client) {
    return client.deviceId().map(id -> id.substring(0, Math.min(8, id.length()))).orElse("agent");
  }

  /** Prints the problem and the usage and exits 2 (bad command line). */
  static void usage(String problem, String usage) {
    System.err.println(problem);
    System.err.println(usage);
    System.exit(2);
  }
}
