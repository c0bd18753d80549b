package io.rtbackup.bench.measure;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Change-to-replica latency by watching the replica (inotify through WatchService): every change the generator
 * makes writes "seq=N" into a file and is recorded with its time; when the file appears or changes in the replica
 * with seq M, every change of that file with seq <= M is resolved at that moment (rsync copies the state it
 * finds, so a later version also delivers the earlier changes). The daemon renames its temp file into place,
 * so a file is only read once it is complete.
 */
public final class ReplicaWatcher implements AutoCloseable {

    private record Pending(long seq, long changedNanos) {
    }

    private final Path replica;
    private final WatchService watch;
    private final Map<WatchKey, String> dirs = new HashMap<>();
    private final Map<String, ArrayDeque<Pending>> pending = new HashMap<>();
    private final List<Double> latenciesMs = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    public ReplicaWatcher(Path replica, List<String> relDirs) throws IOException {
        this.replica = replica;
        this.watch = FileSystems.getDefault().newWatchService();
        for (String rel : relDirs) {
            Path dir = rel.isEmpty() ? replica : replica.resolve(rel);
            WatchKey key = dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY);
            dirs.put(key, rel);
        }
        thread = new Thread(this::loop, "replica-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    /** Records a change the generator just completed. */
    public void changed(String relPath, long seq, long nanos) {
        synchronized (pending) {
            pending.computeIfAbsent(relPath, k -> new ArrayDeque<>()).add(new Pending(seq, nanos));
        }
    }

    /** Changes not seen in the replica yet. */
    public int unresolved() {
        synchronized (pending) {
            return pending.values().stream().mapToInt(ArrayDeque::size).sum();
        }
    }

    public double[] latenciesMs() {
        synchronized (pending) {
            return latenciesMs.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    /** The content the generator writes: parsed back by {@link #seqOf(byte[])}. */
    public static byte[] content(long seq) {
        return String.format("seq=%012d\n%s\n", seq, "x".repeat(48)).getBytes(StandardCharsets.US_ASCII);
    }

    static long seqOf(byte[] data) {
        String s = new String(data, StandardCharsets.US_ASCII);
        if (!s.startsWith("seq=") || s.length() < 17 || s.charAt(16) != '\n') {
            return -1; // empty or partly written: a later event brings the complete file
        }
        try {
            return Long.parseLong(s.substring(4, 16));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void loop() {
        while (running) {
            WatchKey key;
            try {
                key = watch.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            long now = System.nanoTime();
            String dir = dirs.get(key);
            for (WatchEvent<?> ev : key.pollEvents()) {
                if (ev.kind() == StandardWatchEventKinds.OVERFLOW || dir == null) {
                    continue;
                }
                String name = ev.context().toString();
                if (name.startsWith(".")) {
                    continue; // rsync's temp file
                }
                String rel = dir.isEmpty() ? name : dir + "/" + name;
                resolve(rel, now);
            }
            key.reset();
        }
    }

    private void resolve(String rel, long now) {
        long seq;
        try {
            seq = seqOf(Files.readAllBytes(replica.resolve(rel)));
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            return; // a directory or a file replaced meanwhile; the next event reads it again
        }
        if (seq < 0) {
            return;
        }
        synchronized (pending) {
            ArrayDeque<Pending> q = pending.get(rel);
            while (q != null && !q.isEmpty() && q.peekFirst().seq() <= seq) {
                latenciesMs.add((now - q.pollFirst().changedNanos()) / 1e6);
            }
        }
    }

    @Override
    public void close() throws IOException {
        running = false;
        watch.close();
        thread.interrupt();
    }
}
