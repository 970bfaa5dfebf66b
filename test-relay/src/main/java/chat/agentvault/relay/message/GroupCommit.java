package chat.agentvault.relay.message;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit: requests queue per tenant, and one writer at a time per tenant takes whatever has
 * queued (up to {@code maxItems} requests or {@code maxWeight} units) and runs it as one batch, so
 * concurrent requests share one transaction and one durable commit. There is no timer: a lone
 * request runs at once, and the requests that arrive while a batch commits form the next one, so
 * batches grow with load and latency does not. Batches of one tenant run one after another, in
 * arrival order; different tenants' batches run in parallel on up to {@code threads} writers.
 *
 * <p>The batch runner must answer every request of its batch (it owns their futures).
 */
final class GroupCommit<R> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);

  /** Runs one batch of one tenant's requests. */
  @FunctionalInterface
  interface Runner<R> {
    void run(UUID tenant, List<R> batch);
  }

  private final class Lane {
    final UUID tenant;
    final ConcurrentLinkedQueue<R> queue = new ConcurrentLinkedQueue<>();
    final AtomicBoolean scheduled = new AtomicBoolean();

    Lane(UUID tenant) {
      this.tenant = tenant;
    }
  }

  private final Map<UUID, Lane> lanes = new ConcurrentHashMap<>();
  private final ThreadPoolExecutor writers;
  private final Runner<R> runner;
  private final Consumer<R> reject;
  private final ToIntFunction<R> weight;
  private final int maxItems;
  private final int maxWeight;

  /**
   * @param reject answers a request that cannot be queued (the service is closing)
   * @param weight a request's size against {@code maxWeight} (a batch always takes at least one)
   */
  GroupCommit(String name, int threads, int maxItems, int maxWeight, ToIntFunction<R> weight, Runner<R> runner,
      Consumer<R> reject) {
    this.runner = runner;
    this.reject = reject;
    this.weight = weight;
    this.maxItems = maxItems;
    this.maxWeight = maxWeight;
    AtomicInteger n = new AtomicInteger();
    this.writers = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    writers.allowCoreThreadTimeOut(true);
  }

  /** Queues {@code request} for the next batch of {@code tenant}. */
  void submit(UUID tenant, R request) {
    Lane lane = lanes.computeIfAbsent(tenant, Lane::new);
    lane.queue.add(request);
    schedule(lane);
  }

  private void schedule(Lane lane) {
    if (!lane.queue.isEmpty() && lane.scheduled.compareAndSet(false, true)) {
      try {
        writers.execute(() -> drain(lane));
      } catch (RejectedExecutionException e) {
        R r;
        while ((r = lane.queue.poll()) != null) {
          reject.accept(r);
        }
        lane.scheduled.set(false);
      }
    }
  }

  private void drain(Lane lane) {
    List<R> batch = new ArrayList<>();
    int w = 0;
    R r;
    while (batch.size() < maxItems && (batch.isEmpty() || w < maxWeight)) {
      r = lane.queue.poll();
      if (r == null) {
        break;
      }
      batch.add(r);
      w += weight.applyAsInt(r);
    }
    try {
      if (!batch.isEmpty()) {
        runner.run(lane.tenant, batch);
      }
    } catch (RuntimeException | Error e) {
      LOG.error("group commit batch failed", e); // the runner answers its requests; this is a bug
    } finally {
      lane.scheduled.set(false);
      schedule(lane); // the next batch: whatever queued meanwhile (behind other tenants' batches)
    }
  }

  @Override
  public void close() {
    writers.shutdown();
    try {
      writers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Lane lane : lanes.values()) {
      R r;
      while ((r = lane.queue.poll()) != null) {
        reject.accept(r);
      }
    }
  }
}
