package chat.agentvault.spring;

import chat.agentvault.channel.AgentClient;
import chat.agentvault.channel.ClientState;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the {@link AgentClient} with the application context and closes it on stop; publishes
 * each inbound message as an {@link AgentVaultMessageEvent} and each state change as an
 * {@link AgentVaultStateEvent}.
 *
 * <p><b>Start is asynchronous.</b> {@link AgentClient#start()} blocks until the device is enrolled,
 * approved by its owner and logged in; approval can take minutes, so the context does not wait for
 * it (unless {@code agentvault.await-start} is positive). The client starts on a thread named
 * {@code agentvault-start}; its progress shows in {@link AgentVaultStateEvent}s and in the health
 * indicator. A failed start is logged, kept in {@link #startFailure()} (the health indicator reports
 * it as DOWN) and does not stop the application. A client the application started itself is left
 * as it is.
 *
 * <p>Events are published on the client's inbound thread, in relay order, before the relay gets
 * the acknowledgement: a listener that throws is logged and the message is still acknowledged
 * (as for any {@link AgentClient#onMessage} listener). Keep listeners short or hand work off.
 *
 * <p>Stop closes the client; a start still waiting for approval ends at once ({@code
 * ClientClosedException}, logged at debug), and stop waits up to 5 s for it. Runs in the last phase: started
 * after, and stopped before, the other lifecycle beans such as a web server.
 */
public final class AgentVaultLifecycle implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(AgentVaultLifecycle.class);
  private static final Duration STOP_WAIT = Duration.ofSeconds(5);

  private final AgentClient client;
  private final boolean autoStartup;
  private final Duration awaitStart;
  private final Object lock = new Object();
  private boolean running;
  private volatile boolean stopping;
  private volatile Thread starter;
  private volatile RuntimeException startFailure;

  AgentVaultLifecycle(AgentClient client, ApplicationEventPublisher publisher, boolean autoStartup, Duration awaitStart) {
    this.client = Objects.requireNonNull(client, "client");
    Objects.requireNonNull(publisher, "publisher");
    this.autoStartup = autoStartup;
    this.awaitStart = awaitStart == null ? Duration.ZERO : awaitStart;
    client.onMessage(m -> publisher.publishEvent(new AgentVaultMessageEvent(client, m)));
    client.onStateChange(s -> publisher.publishEvent(new AgentVaultStateEvent(client, s)));
  }

  /** The client this lifecycle starts and stops. */
  public AgentClient client() {
    return client;
  }

  /** Why the last start failed, if it did. */
  public Optional<RuntimeException> startFailure() {
    return Optional.ofNullable(startFailure);
  }

  @Override
  public void start() {
    Thread t;
    synchronized (lock) {
      if (running) {
        return;
      }
      running = true;
      stopping = false;
      if (client.state() != ClientState.CREATED) {
        log.debug("{} already started: left as it is", client);
        return;
      }
      startFailure = null;
      t = new Thread(this::runStart, "agentvault-start");
      t.setDaemon(true);
      starter = t;
    }
    t.start();
    if (!awaitStart.isZero()) {
      awaitStarted(t);
    }
  }

  private void runStart() {
    try {
      client.start();
      log.info("{} started", client);
    } catch (RuntimeException e) {
      if (stopping) {
        log.debug("start ended by stop: {}", e.toString());
      } else {
        startFailure = e;
        log.error("AgentVault client failed to start ({}); the application goes on without it", client, e);
      }
    } finally {
      if (stopping) {
        client.close(); // anything start() opened after stop() closed the client
      }
    }
  }

  private void awaitStarted(Thread t) {
    try {
      t.join(awaitStart.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the AgentVault client to start", e);
    }
    RuntimeException failure = startFailure;
    if (failure != null) {
      throw new IllegalStateException("AgentVault client failed to start: " + failure, failure);
    }
    if (t.isAlive()) {
      throw new IllegalStateException("AgentVault client not logged in within " + AgentVaultProperties.PREFIX
          + ".await-start=" + awaitStart + " (state " + client.state() + ")");
    }
  }

  @Override
  public void stop() {
    Thread t;
    synchronized (lock) {
      if (!running) {
        return;
      }
      running = false;
      stopping = true;
      t = starter;
      starter = null;
    }
    client.close();
    if (t != null && t.isAlive()) {
      // Not interrupted: the start may be writing the key store, and an interrupt closes a file
      // channel mid-write. A wait for approval ends at once on close() (ClientClosedException).
      try {
        t.join(STOP_WAIT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (t.isAlive()) {
        log.warn("AgentVault client start still running {} after stop", STOP_WAIT);
      }
    }
  }

  @Override
  public boolean isRunning() {
    synchronized (lock) {
      return running;
    }
  }

  @Override
  public boolean isAutoStartup() {
    return autoStartup;
  }

  @Override
  public String toString() {
    return "AgentVaultLifecycle[" + client + (startFailure == null ? "" : ", start failed") + "]";
  }
}
