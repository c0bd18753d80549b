package io.rtbackup.agent.capture.scan;

import io.rtbackup.agent.capture.BytesKey;
import io.rtbackup.agent.capture.CaptureSource;
import io.rtbackup.agent.capture.ChangeSink;
import io.rtbackup.agent.capture.LossReportingSink;
import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.FileOp;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Capture by walking: each pass lists every root with byte paths and compares what it finds with the previous
 * pass (type, inode, size, mtime, mode, owner). Needs no privilege and no kernel support, at the cost of
 * latency (one interval) and memory (one entry per file). A path whose inode reappears under another name is
 * reported as a rename; a renamed directory is one rename, not one per file below it.
 *
 * <p>The first pass only records the baseline: what changed before it is covered by the pipeline's start-up
 * rescan. A pass that fails midway requests a rescan of every root and the next pass runs as usual; a change
 * the sink rejects becomes a rescan of its directory ({@link LossReportingSink}).
 */
public final class ScanSource implements CaptureSource {

    private static final Logger log = LoggerFactory.getLogger(ScanSource.class);

    private final Duration interval;
    private final FatalErrorHandler fatal;
    private final AtomicLong passes = new AtomicLong();
    private volatile boolean running;
    private Thread thread;
    private final CountDownLatch stopped = new CountDownLatch(1);

    /** @param fatal told when not even a rescan covering a rejected change can be delivered */
    public ScanSource(Duration interval, FatalErrorHandler fatal) {
        this.interval = interval;
        this.fatal = fatal;
    }

    @Override
    public String name() {
        return "scan";
    }

    @Override
    public io.rtbackup.schema.CaptureSource kind() {
        return io.rtbackup.schema.CaptureSource.SCAN;
    }

    /** Completed passes over all roots (the baseline included). */
    public long passes() {
        return passes.get();
    }

    @Override
    public synchronized void start(List<WatchedRoot> roots, ChangeSink sink) {
        if (running) throw new IllegalStateException("scan source already started");
        running = true;
        List<WatchedRoot> copy = List.copyOf(roots);
        ChangeSink out = new LossReportingSink(name(), sink, fatal);
        thread = new Thread(fatal.guard("scan capture", () -> loop(copy, out)), "rtb-capture-scan");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop(List<WatchedRoot> roots, ChangeSink sink) {
        Map<WatchedRoot, Map<BytesKey, Entry>> previous = new HashMap<>();
        try {
            while (running) {
                try {
                    for (WatchedRoot root : roots) {
                        Map<BytesKey, Entry> now = walk(root, sink);
                        if (now == null) continue;
                        Map<BytesKey, Entry> before = previous.put(root, now);
                        if (before != null) diff(root.absolutePath(), before, now, sink);
                    }
                } catch (RuntimeException e) {
                    // what this pass had not reported yet is covered by the rescan; the next pass retries
                    log.error("scan source: a pass failed; requesting a rescan of every root, next pass in {} ms",
                            interval.toMillis(), e);
                    sink.accept(new RawChange.Overflow(null, 0, nowNs()));
                }
                passes.incrementAndGet();
                if (stopped.await(interval.toMillis(), TimeUnit.MILLISECONDS)) return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Everything below the root, or null (and a rescan request) when the walk failed. */
    private Map<BytesKey, Entry> walk(WatchedRoot root, ChangeSink sink) {
        Map<BytesKey, Entry> out = new HashMap<>();
        try {
            ByteFs.walk(root.absolutePath(), (rel, st) -> {
                out.put(new BytesKey(rel), new Entry(st.mode(), st.ino(), st.size(), st.mtimeNs(), st.uid(), st.gid(),
                        st.nlink()));
                return true;
            });
            return out;
        } catch (IOException e) {
            log.warn("scanning root {} failed: {}; requesting a rescan of it", root, e.getMessage());
            sink.accept(new RawChange.Overflow(root.absolutePath(), 0, nowNs()));
            return null;
        }
    }

    private static void diff(byte[] root, Map<BytesKey, Entry> before, Map<BytesKey, Entry> now, ChangeSink sink) {
        long t = nowNs();
        Map<Long, BytesKey> vanishedByIno = new HashMap<>();
        for (Map.Entry<BytesKey, Entry> e : before.entrySet()) {
            Entry cur = now.get(e.getKey());
            if (cur == null || cur.type() != e.getValue().type() || cur.ino != e.getValue().ino) {
                vanishedByIno.put(e.getValue().ino, e.getKey());
            }
        }
        List<BytesKey> added = new ArrayList<>();
        for (Map.Entry<BytesKey, Entry> e : now.entrySet()) {
            Entry old = before.get(e.getKey());
            Entry cur = e.getValue();
            byte[] abs = BytePaths.join(root, e.getKey().bytes);
            if (old == null || old.type() != cur.type() || old.ino != cur.ino) {
                added.add(e.getKey());
            } else {
                reportChanged(abs, old, cur, t, sink);
            }
        }
        // parents before children, so a renamed directory is seen before its contents
        added.sort((a, b) -> Arrays.compareUnsigned(a.bytes, b.bytes));
        List<byte[][]> renamedDirs = new ArrayList<>();
        java.util.Set<BytesKey> consumed = new java.util.HashSet<>();
        for (BytesKey k : added) {
            Entry cur = now.get(k);
            byte[] abs = BytePaths.join(root, k.bytes);
            BytesKey oldKey = vanishedByIno.get(cur.ino);
            Entry old = oldKey == null ? null : before.get(oldKey);
            if (old != null && old.type() == cur.type() && !consumed.contains(oldKey)) {
                consumed.add(oldKey);
                byte[] expectedOld = insideRenamed(k.bytes, renamedDirs);
                if (expectedOld == null || !Arrays.equals(expectedOld, oldKey.bytes)) {
                    sink.accept(new RawChange.Rename(BytePaths.join(root, oldKey.bytes), abs, cur.isDir(), t));
                    if (cur.isDir()) renamedDirs.add(new byte[][] {oldKey.bytes, k.bytes});
                }
                reportChanged(abs, old, cur, t, sink);
                continue;
            }
            FileOp op = cur.isDir() ? FileOp.MKDIR : cur.type() == 0120000 ? FileOp.SYMLINK
                    : cur.nlink > 1 ? FileOp.LINK : FileOp.CREATE;
            sink.accept(new RawChange.PathChange(op, abs, cur.isDir(), t, cur.ino));
        }
        List<BytesKey> gone = new ArrayList<>();
        for (Map.Entry<BytesKey, Entry> e : before.entrySet()) {
            Entry cur = now.get(e.getKey());
            boolean replaced = cur != null && (cur.type() != e.getValue().type() || cur.ino != e.getValue().ino);
            if ((cur == null || replaced) && !consumed.contains(e.getKey())) gone.add(e.getKey());
        }
        // children before parents, like rm -r
        gone.sort((a, b) -> Arrays.compareUnsigned(b.bytes, a.bytes));
        for (BytesKey k : gone) {
            Entry old = before.get(k);
            if (now.containsKey(k)) continue; // replaced in place: the create above already covers the path
            sink.accept(new RawChange.PathChange(old.isDir() ? FileOp.RMDIR : FileOp.DELETE,
                    BytePaths.join(root, k.bytes), old.isDir(), t, old.ino));
        }
    }

    /** The old relative path {@code rel} had if it lies below a directory renamed in this pass, else null. */
    private static byte[] insideRenamed(byte[] rel, List<byte[][]> renamedDirs) {
        for (byte[][] r : renamedDirs) {
            byte[] newDir = r[1];
            if (rel.length > newDir.length && rel[newDir.length] == '/'
                    && Arrays.equals(rel, 0, newDir.length, newDir, 0, newDir.length)) {
                return BytePaths.concat(r[0], Arrays.copyOfRange(rel, newDir.length, rel.length));
            }
        }
        return null;
    }

    private static void reportChanged(byte[] abs, Entry old, Entry cur, long t, ChangeSink sink) {
        if (!cur.isDir() && (old.size != cur.size || old.mtimeNs != cur.mtimeNs)) {
            sink.accept(new RawChange.PathChange(FileOp.MODIFY, abs, false, t, cur.ino));
        }
        if (old.mode != cur.mode || old.uid != cur.uid || old.gid != cur.gid) {
            sink.accept(new RawChange.PathChange(FileOp.ATTRIB, abs, cur.isDir(), t, cur.ino));
        }
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (!running) return;
            running = false;
            t = thread;
        }
        stopped.countDown();
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long nowNs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }


    private record Entry(int mode, long ino, long size, long mtimeNs, int uid, int gid, long nlink) {
        int type() {
            return mode & 0170000;
        }

        boolean isDir() {
            return type() == 0040000;
        }
    }
}
