package io.rtbackup.agent.exec;

import io.rtbackup.agent.config.ExecConfig.Destination;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The executor's bounded concurrency per destination: one fixed pool of {@code destination.<name>.max-concurrent}
 * daemon threads ({@code rtb-exec-<name>-<n>}) per configured destination, each with an unbounded queue (the
 * executor's in-flight limit bounds it), and their shutdown. Thread-safe.
 */
final class DestinationPools {
    private final Map<String, ThreadPoolExecutor> pools = new HashMap<>();

    DestinationPools(Collection<Destination> destinations) {
        for (Destination d : destinations) {
            AtomicInteger n = new AtomicInteger();
            pools.put(d.name(), new ThreadPoolExecutor(d.maxConcurrent(), d.maxConcurrent(), 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "rtb-exec-" + d.name() + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }));
        }
    }

    /** Whether {@code destination} is configured (has a pool). */
    boolean has(String destination) {
        return pools.containsKey(destination);
    }

    /** Queues {@code task} on the pool of {@code destination}, which {@link #has} it. */
    void execute(String destination, Runnable task) {
        pools.get(destination).execute(task);
    }

    /**
     * Takes no more tasks, gives the running ones {@code grace} to finish, then closes {@code replicator} (which
     * kills the rsync runs still going; their FAILED results are published and the worker retries) and waits a
     * little for the pools to end. A queued task that still starts sees the executor stopped (see CommandAnswers).
     */
    void shutdown(Duration grace, Replicator replicator) {
        pools.values().forEach(ThreadPoolExecutor::shutdown);
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            for (ThreadPoolExecutor pool : pools.values()) {
                pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        replicator.close();
        for (ThreadPoolExecutor pool : pools.values()) {
            pool.shutdownNow();
            try {
                pool.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
