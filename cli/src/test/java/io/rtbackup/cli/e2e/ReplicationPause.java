package io.rtbackup.cli.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Measures how long replication stops after a fault. Every 100 ms each source's {@value #FILE} file is rewritten
 * with the next number of one rising count (the time of each write is kept); every 25 ms a watcher reads every
 * replica's copy and keeps when each higher number first showed there. The pause after a fault at {@code t} is the
 * time from {@code t} until every replica shows a number written at or after {@code t}: with nothing wrong it is
 * the pipeline's latency (a few hundred ms), during an outage it is the outage as the destinations saw it.
 */
final class ReplicationPause implements AutoCloseable {
    static final String FILE = "heartbeat";

    private record Seen(long atNs, long value) {
    }

    private final Map<Path, List<Path>> replicasBySource;
    private final List<Long> writtenAtNs = new ArrayList<>();
    private final Map<Path, List<Seen>> seen = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread writer;
    private final Thread watcher;

    /** Starts writing to every source and watching each of its replicas. */
    ReplicationPause(Map<Path, List<Path>> replicasBySource) {
        this.replicasBySource = Map.copyOf(replicasBySource);
        replicasBySource.values().forEach(rs -> rs.forEach(r -> seen.put(r, new ArrayList<>())));
        writer = new Thread(this::write, "heartbeat-writer");
        watcher = new Thread(this::watch, "heartbeat-watcher");
        writer.start();
        watcher.start();
    }

    private void write() {
        try {
            while (writing.get()) {
                long seq;
                synchronized (writtenAtNs) {
                    seq = writtenAtNs.size();
                    writtenAtNs.add(System.nanoTime());
                }
                byte[] data = (seq + "\n").getBytes(StandardCharsets.US_ASCII);
                for (Path source : replicasBySource.keySet()) Files.write(source.resolve(FILE), data);
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            failure.set(e);
        }
    }

    private void watch() {
        try {
            while (running.get()) {
                pollOnce();
                Thread.sleep(25);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            failure.set(e);
        }
    }

    /** Reads every replica's heartbeat once and keeps what is new. */
    private synchronized void pollOnce() throws IOException {
        for (Map.Entry<Path, List<Seen>> e : seen.entrySet()) {
            long value = read(e.getKey().resolve(FILE));
            List<Seen> list = e.getValue();
            synchronized (list) {
                if (value >= 0 && (list.isEmpty() || list.get(list.size() - 1).value() < value)) {
                    list.add(new Seen(System.nanoTime(), value));
                }
            }
        }
    }

    private static long read(Path file) throws IOException {
        try {
            String s = Files.readString(file, StandardCharsets.US_ASCII).strip();
            return s.isEmpty() ? -1 : Long.parseLong(s);
        } catch (NoSuchFileException e) {
            return -1; // the replica's first sync has not happened yet
        }
    }

    /** True once every replica shows some heartbeat: the pipeline is flowing end to end. */
    boolean flowing() {
        for (List<Seen> list : seen.values()) {
            synchronized (list) {
                if (list.isEmpty()) return false;
            }
        }
        return true;
    }

    /** Milliseconds from {@code faultNs} until every replica showed a number written after it; empty if one did not. */
    OptionalLong pauseMillis(long faultNs) {
        Map<Path, OptionalLong> each = pausePerReplica(faultNs);
        long worst = 0;
        for (OptionalLong p : each.values()) {
            if (p.isEmpty()) return OptionalLong.empty();
            worst = Math.max(worst, p.getAsLong());
        }
        return each.isEmpty() ? OptionalLong.empty() : OptionalLong.of(worst);
    }

    /** Per replica, the milliseconds from {@code faultNs} until it showed a number written after it. */
    Map<Path, OptionalLong> pausePerReplica(long faultNs) {
        try {
            pollOnce(); // what has arrived by now counts, however recently
        } catch (IOException e) {
            throw new AssertionError("cannot read a replica's heartbeat", e);
        }
        Map<Path, OptionalLong> out = new java.util.TreeMap<>();
        long first = -1;
        synchronized (writtenAtNs) {
            for (int i = 0; i < writtenAtNs.size(); i++) {
                if (writtenAtNs.get(i) >= faultNs) {
                    first = i;
                    break;
                }
            }
        }
        for (Map.Entry<Path, List<Seen>> e : seen.entrySet()) {
            OptionalLong at = OptionalLong.empty();
            if (first >= 0) {
                synchronized (e.getValue()) {
                    for (Seen s : e.getValue()) {
                        if (s.value() >= first) {
                            at = OptionalLong.of((s.atNs() - faultNs) / 1_000_000);
                            break;
                        }
                    }
                }
            }
            out.put(e.getKey(), at);
        }
        return out;
    }

    /** Stops writing (the last heartbeat stays in each source); the watcher runs on until {@link #close()}. */
    void stopWriting() throws InterruptedException {
        writing.set(false); // not an interrupt: it would close a file channel mid-write
        writer.join(10_000);
        if (failure.get() != null) throw new AssertionError("heartbeat writer failed", failure.get());
    }

    @Override
    public void close() throws InterruptedException {
        writing.set(false);
        running.set(false);
        writer.join(10_000);
        watcher.join(10_000);
        if (failure.get() != null) throw new AssertionError("heartbeat writer or watcher failed", failure.get());
    }
}
