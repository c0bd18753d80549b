package io.rtbackup.agent.capture.normalise;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.capture.ChangeSink;
import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.event.EventSink;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.agent.exclude.ExcludeMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The same rules for every capture source: map absolute paths onto roots, drop what lies outside them or
 * matches an exclude glob, merge bursts of {@code MODIFY} on one path into one event per window (a close-write
 * ends the burst at once; delete, move and everything else are never delayed), split a rename into move-from +
 * move-to carrying both names, and turn a source's overflow into one {@code RESCAN} per affected root.
 *
 * <p>A merged event that downstream rejects when its window ends is replaced by a {@code RESCAN} of its
 * directory; when that is rejected too, the {@link FatalErrorHandler} ends the process. (On the sources' threads
 * a rejection goes back to the source, whose {@code LossReportingSink} does the same.)
 */
public final class Normaliser implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Normaliser.class);
    private static final byte[] EMPTY = new byte[0];

    /** A root with its excludes. */
    public record Root(WatchedRoot root, ExcludeMatcher excludes) {
        public Root {
            Objects.requireNonNull(root);
            Objects.requireNonNull(excludes);
        }
    }

    private final List<Root> roots;
    private final byte[][] rootPaths;
    private final long windowNs;
    private final EventSink out;
    private final Counter captured;
    private final Counter merged;
    private final Counter excluded;
    private final Counter overflows;
    private final FatalErrorHandler fatal;
    private final LinkedHashMap<PendingKey, Pending> pending = new LinkedHashMap<>();
    private Thread flusher;
    private volatile boolean running;

    /** @param fatal told when a merged event and the rescan replacing it were both rejected downstream */
    public Normaliser(List<Root> roots, Duration mergeWindow, EventSink out, PrometheusRegistry registry,
            FatalErrorHandler fatal) {
        this.fatal = fatal;
        this.roots = List.copyOf(roots);
        this.rootPaths = this.roots.stream().map(r -> r.root().absolutePath()).toArray(byte[][]::new);
        this.windowNs = mergeWindow.toNanos();
        this.out = out;
        this.captured = Counter.builder().name("rtb_agent_events_captured")
                .help("Changes under a root reported by a capture source (before merging)").labelNames("source")
                .register(registry);
        this.merged = Counter.builder().name("rtb_agent_events_merged")
                .help("MODIFY events folded into another event of the same path").labelNames("source")
                .register(registry);
        this.excluded = Counter.builder().name("rtb_agent_events_excluded")
                .help("Changes dropped because they match an exclude glob").labelNames("source")
                .register(registry);
        this.overflows = Counter.builder().name("rtb_agent_capture_overflows")
                .help("Overflows and rescan requests from capture sources").labelNames("source")
                .register(registry);
    }

    /** Starts the thread that releases merged MODIFY events when their window ends. */
    public synchronized void start() {
        if (running) return;
        running = true;
        if (windowNs > 0) {
            flusher = new Thread(fatal.guard("capture normaliser flusher", this::flushLoop), "rtb-normaliser-flush");
            flusher.setDaemon(true);
            flusher.start();
        }
    }

    /** The sink a source of kind {@code source} delivers into. */
    public ChangeSink sinkFor(CaptureSource source) {
        String label = source.name().toLowerCase(Locale.ROOT);
        SourceCounters counters = new SourceCounters(captured.labelValues(label), merged.labelValues(label),
                excluded.labelValues(label), overflows.labelValues(label));
        return change -> accept(change, source, counters);
    }

    /** One source's counter cells, looked up once instead of per event. */
    private record SourceCounters(CounterDataPoint captured, CounterDataPoint merged, CounterDataPoint excluded,
            CounterDataPoint overflows) {}

    /** Publishes one RESCAN of each root, e.g. at start-up for what changed while the agent was not running. */
    public synchronized void rescanAll(CaptureSource source, String why) {
        rescanRoots(roots.stream().map(r -> r.root().id()).toList(), source, why);
    }

    /** Publishes one RESCAN of each root named in {@code rootIds} (unknown ids are ignored). */
    public synchronized void rescanRoots(java.util.Collection<String> rootIds, CaptureSource source, String why) {
        long t = nowNs();
        for (Root r : roots) {
            if (!rootIds.contains(r.root().id())) continue;
            log.info("requesting a rescan of root {}: {}", r.root().id(), why);
            emit(new CapturedEvent(r.root().id(), EMPTY, FileOp.RESCAN, true, null, source, t,
                    CapturedEvent.NO_INODE));
        }
    }

    private synchronized void accept(RawChange change, CaptureSource source, SourceCounters label) {
        if (change instanceof RawChange.PathChange c) {
            pathChange(c, source, label);
        } else if (change instanceof RawChange.Rename r) {
            rename(r, source, label);
        } else if (change instanceof RawChange.Overflow o) {
            label.overflows().inc();
            rescan(o.scope(), source, o.timeNs());
        } else if (change instanceof RawChange.Rescan r) {
            label.overflows().inc();
            rescan(r.path(), source, r.timeNs());
        }
    }

    private void pathChange(RawChange.PathChange c, CaptureSource source, SourceCounters label) {
        int ri = rootOf(c.path());
        if (ri < 0) return;
        Root root = roots.get(ri);
        byte[] rel = relative(rootPaths[ri], c.path());
        if (root.excludes().excluded(rel)) {
            label.excluded().inc();
            return;
        }
        label.captured().inc();
        CapturedEvent ev = new CapturedEvent(root.root().id(), rel, c.op(), c.directory(), null, source, c.timeNs(),
                c.inode());
        if (c.op() == FileOp.MODIFY && windowNs > 0) {
            PendingKey key = new PendingKey(root.root().id(), rel);
            if (pending.containsKey(key)) {
                label.merged().inc();
            } else {
                pending.put(key, new Pending(ev, System.nanoTime() + windowNs));
            }
            return;
        }
        Pending p = pending.isEmpty() ? null : pending.remove(new PendingKey(root.root().id(), rel));
        if (p != null) {
            if (c.op() == FileOp.CLOSE_WRITE) {
                label.merged().inc(); // the close-write says the same, and ends the burst
                // keep the earlier capture time: latency is measured from the first change
                ev = new CapturedEvent(ev.rootId(), rel, ev.op(), ev.directory(), null, source, p.event.timeNs(),
                        ev.inode());
            } else {
                emit(p.event);
            }
        }
        emit(ev);
    }

    private void rename(RawChange.Rename r, CaptureSource source, SourceCounters label) {
        int fromRoot = rootOf(r.from());
        int toRoot = rootOf(r.to());
        byte[] fromRel = fromRoot < 0 ? null : relative(rootPaths[fromRoot], r.from());
        byte[] toRel = toRoot < 0 ? null : relative(rootPaths[toRoot], r.to());
        if (fromRel != null && roots.get(fromRoot).excludes().excluded(fromRel)) {
            label.excluded().inc();
            fromRel = null;
        }
        if (toRel != null && roots.get(toRoot).excludes().excluded(toRel)) {
            label.excluded().inc();
            toRel = null;
        }
        boolean sameRoot = fromRel != null && toRel != null && fromRoot == toRoot;
        if (fromRel != null) {
            String id = roots.get(fromRoot).root().id();
            label.captured().inc();
            flushPath(id, fromRel);
            emit(new CapturedEvent(id, fromRel, FileOp.MOVE_FROM, r.directory(), sameRoot ? toRel : null, source,
                    r.timeNs(), CapturedEvent.NO_INODE));
        }
        if (toRel != null) {
            String id = roots.get(toRoot).root().id();
            label.captured().inc();
            flushPath(id, toRel);
            emit(new CapturedEvent(id, toRel, FileOp.MOVE_TO, r.directory(), sameRoot ? fromRel : null, source,
                    r.timeNs(), CapturedEvent.NO_INODE));
        }
    }

    /** One RESCAN per root touched by {@code scope} (null = every root). */
    private void rescan(byte[] scope, CaptureSource source, long timeNs) {
        for (int i = 0; i < roots.size(); i++) {
            String id = roots.get(i).root().id();
            byte[] rel;
            if (scope == null || within(rootPaths[i], scope)) {
                rel = EMPTY;
            } else if (within(scope, rootPaths[i])) {
                rel = relative(rootPaths[i], scope);
                if (roots.get(i).excludes().excluded(rel)) continue;
            } else {
                continue;
            }
            log.warn("capture source {} lost or skipped events under {}:{}; publishing a RESCAN",
                    source, id, rel.length == 0 ? "/" : BytePaths.show(rel));
            flushRoot(id);
            emit(new CapturedEvent(id, rel, FileOp.RESCAN, true, null, source, timeNs, CapturedEvent.NO_INODE));
        }
    }

    private void flushPath(String rootId, byte[] rel) {
        Pending p = pending.remove(new PendingKey(rootId, rel));
        if (p != null) emit(p.event);
    }

    private void flushRoot(String rootId) {
        Iterator<Pending> it = pending.values().iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (p.event.rootId().equals(rootId)) {
                it.remove();
                emit(p.event);
            }
        }
    }

    /** Releases every held MODIFY now. */
    public synchronized void flush() {
        List<Pending> all = new ArrayList<>(pending.values());
        pending.clear();
        for (Pending p : all) emit(p.event);
    }

    private synchronized void flushDue(long now) {
        Iterator<Pending> it = pending.values().iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (p.deadline - now > 0) break; // insertion order = deadline order
            it.remove();
            try {
                emit(p.event);
            } catch (RuntimeException e) {
                CapturedEvent ev = p.event;
                byte[] dir = BytePaths.parent(ev.path());
                log.error("releasing merged event {} failed; publishing a RESCAN of {}:{} instead", ev, ev.rootId(),
                        dir.length == 0 ? "/" : BytePaths.show(dir), e);
                emit(new CapturedEvent(ev.rootId(), dir, FileOp.RESCAN, true, null, ev.source(), ev.timeNs(),
                        CapturedEvent.NO_INODE)); // throws on to flushLoop, which ends the process
            }
        }
    }

    private void flushLoop() {
        long tickMs = Math.max(1, windowNs / 4_000_000);
        while (running) {
            try {
                Thread.sleep(tickMs);
                flushDue(System.nanoTime());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // not even the rescan replacing a merged event got through: nothing here can cover the loss
                fatal.fatal("capture normaliser flusher", e);
                return;
            }
        }
    }

    private void emit(CapturedEvent ev) {
        out.accept(ev);
    }

    /** Events held back for merging right now. */
    public synchronized int pendingCount() {
        return pending.size();
    }

    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = flusher;
            flusher = null;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        flush();
    }

    private int rootOf(byte[] abs) {
        for (int i = 0; i < rootPaths.length; i++) {
            if (within(abs, rootPaths[i])) return i;
        }
        return -1;
    }

    /** {@code path} equals {@code root} or lies below it. */
    static boolean within(byte[] path, byte[] root) {
        if (root.length == 1 && root[0] == '/') return path.length >= 1 && path[0] == '/';
        if (path.length < root.length) return false;
        if (!Arrays.equals(path, 0, root.length, root, 0, root.length)) return false;
        return path.length == root.length || path[root.length] == '/';
    }

    private static byte[] relative(byte[] root, byte[] abs) {
        int skip = root.length == 1 ? 1 : root.length + 1;
        return abs.length <= skip ? EMPTY : Arrays.copyOfRange(abs, skip, abs.length);
    }

    private static long nowNs() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private record Pending(CapturedEvent event, long deadline) {}

    private record PendingKey(String rootId, byte[] rel) {
        @Override
        public boolean equals(Object o) {
            return o instanceof PendingKey k && k.rootId.equals(rootId) && Arrays.equals(k.rel, rel);
        }

        @Override
        public int hashCode() {
            return rootId.hashCode() * 31 + Arrays.hashCode(rel);
        }
    }
}
