package io.rtbackup.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.exclude.ExcludeMatcher;
import io.rtbackup.agent.capture.normalise.Normaliser;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.ErrnoException;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.HostileNames;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.testkit.TempDirs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * File operations on a real tree under a real root, run against one capture source (through the normaliser,
 * without merging), checking that each operation yields the expected normalised events with the right relative
 * paths. Shared by the fanotify, inotify and scan tests. No part may give up: {@link #close()} fails when one
 * reported a fatal error.
 */
public final class CaptureScenario implements AutoCloseable {

    public static final String ROOT_ID = "r1";

    private final byte[] root;
    private final List<CapturedEvent> events = new ArrayList<>();
    private final CaptureSource source;
    private final Normaliser normaliser;
    private final Duration timeout;
    private final CountDownLatch gate = new CountDownLatch(1);
    private final AtomicBoolean stalled = new AtomicBoolean();
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    /** @param sources creates the source under test, given the fatal-error handler to report to */
    public CaptureScenario(byte[] root, Function<FatalErrorHandler, CaptureSource> sources, Duration timeout)
            throws CaptureUnavailableException {
        this.root = root;
        this.timeout = timeout;
        WatchedRoot watched = new WatchedRoot(ROOT_ID, root);
        this.normaliser = new Normaliser(List.of(new Normaliser.Root(watched, ExcludeMatcher.none())),
                Duration.ZERO, this::collect, new PrometheusRegistry(), fatal);
        normaliser.start();
        this.source = sources.apply(fatal);
        ChangeSink sink = normaliser.sinkFor(source.kind());
        source.start(List.of(watched), change -> {
            if (stalled.get()) awaitGate();
            sink.accept(change);
        });
    }

    /** From now on the reader thread blocks in its first delivery until {@link #gate} opens. */
    private void awaitGate() {
        try {
            gate.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void collect(CapturedEvent e) {
        events.add(e);
        notifyAll();
    }

    public CaptureSource source() {
        return source;
    }

    public synchronized int mark() {
        return events.size();
    }

    public synchronized List<CapturedEvent> eventsSince(int mark) {
        return new ArrayList<>(events.subList(mark, events.size()));
    }

    /** Waits for an event at or after {@code mark} matching {@code p}; returns its index. */
    public synchronized int await(int mark, String what, Predicate<CapturedEvent> p) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = mark;
        while (true) {
            for (; i < events.size(); i++) {
                if (p.test(events.get(i))) return i;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                List<CapturedEvent> got = events.subList(mark, events.size());
                throw new AssertionError("no event for " + what + " within " + timeout + "; got " + got.size()
                        + " since mark: " + got.subList(0, Math.min(got.size(), 40)));
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    public static Predicate<CapturedEvent> at(byte[] rel, FileOp... ops) {
        Set<FileOp> set = Set.of(ops);
        return e -> e.rootId().equals(ROOT_ID) && Arrays.equals(e.path(), rel) && set.contains(e.op());
    }

    public static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private byte[] abs(byte[] rel) {
        return BytePaths.join(root, rel);
    }

    private static byte[] derived(byte[] name, char first) {
        byte[] d = name.clone();
        d[0] = (byte) first;
        return d;
    }

    /** The hostile names this scenario runs through: newline, spaces, leading dash, non-UTF-8, 255 bytes. */
    public static List<byte[]> names() {
        Set<String> wanted = Set.of("newline inside", "spaces, leading and trailing", "leading dash",
                "all bytes 0x80-0xFF (invalid UTF-8)", "latin-1 e-acute (invalid UTF-8)", "255 bytes", "tab inside",
                "glob characters");
        List<byte[]> out = HostileNames.named().stream().filter(n -> wanted.contains(n.label()))
                .map(HostileNames.Name::bytes).collect(Collectors.toList());
        assertThat(out).hasSize(wanted.size());
        return out;
    }

    /** create / write / append / truncate / chmod / rename / hard link / symlink / delete, file and directory. */
    public void runOperations() throws Exception {
        byte[] base = b("nest/deeper");
        int m = mark();
        ByteFs.mkdir(abs(b("nest")));
        await(m, "mkdir nest", at(b("nest"), FileOp.MKDIR));
        m = mark();
        ByteFs.mkdir(abs(base));
        await(m, "mkdir nest/deeper", at(base, FileOp.MKDIR));

        for (byte[] name : names()) {
            String shown = BytePaths.show(name);
            byte[] f = BytePaths.join(base, name);
            m = mark();
            ByteFs.write(abs(f), b("hello"));
            await(m, "create " + shown, at(f, FileOp.CREATE));

            m = mark();
            ByteFs.append(abs(f), b(" and more"));
            await(m, "append " + shown, at(f, FileOp.MODIFY, FileOp.CLOSE_WRITE));

            m = mark();
            ByteFs.truncate(abs(f), 2);
            await(m, "truncate " + shown, at(f, FileOp.MODIFY, FileOp.CLOSE_WRITE));

            m = mark();
            ByteFs.chmod(abs(f), 0600);
            await(m, "chmod " + shown, at(f, FileOp.ATTRIB));

            byte[] g = BytePaths.join(base, derived(name, 'g'));
            m = mark();
            ByteFs.rename(abs(f), abs(g));
            int from = await(m, "rename from " + shown, at(f, FileOp.MOVE_FROM).and(e -> Arrays.equals(e.otherPath(), g)));
            int to = await(m, "rename to " + shown, at(g, FileOp.MOVE_TO).and(e -> Arrays.equals(e.otherPath(), f)));
            assertThat(from).as("move-from precedes move-to").isLessThan(to);

            byte[] l = BytePaths.join(base, derived(name, 'l'));
            m = mark();
            ByteFs.link(abs(g), abs(l));
            await(m, "hard link " + shown, at(l, FileOp.LINK));

            byte[] s = BytePaths.join(base, derived(name, 's'));
            m = mark();
            ByteFs.symlink(name, abs(s));
            await(m, "symlink " + shown, at(s, FileOp.SYMLINK));

            m = mark();
            ByteFs.delete(abs(g));
            ByteFs.delete(abs(l));
            ByteFs.delete(abs(s));
            await(m, "delete " + shown, at(g, FileOp.DELETE));
            await(m, "delete link " + shown, at(l, FileOp.DELETE));
            await(m, "delete symlink " + shown, at(s, FileOp.DELETE));

            byte[] d = BytePaths.join(base, derived(name, 'd'));
            byte[] e = BytePaths.join(b("nest"), derived(name, 'e'));
            m = mark();
            ByteFs.mkdir(abs(d));
            await(m, "mkdir " + shown, at(d, FileOp.MKDIR).and(CapturedEvent::directory));
            m = mark();
            ByteFs.rename(abs(d), abs(e));
            await(m, "rename dir from " + shown, at(d, FileOp.MOVE_FROM).and(CapturedEvent::directory));
            await(m, "rename dir to " + shown, at(e, FileOp.MOVE_TO).and(CapturedEvent::directory)
                    .and(ev -> Arrays.equals(ev.otherPath(), d)));
            m = mark();
            ByteFs.delete(abs(e));
            await(m, "rmdir " + shown, at(e, FileOp.RMDIR).and(CapturedEvent::directory));
        }
    }

    /**
     * A directory is renamed while a writer keeps appending to files under it: after the rename the changes
     * must be reported under the new name.
     */
    public void renameDirectoryWhileFilesChange(Duration writeFor) throws Exception {
        byte[] busy = b("busy");
        byte[] calm = b("calm");
        int files = 5;
        ByteFs.mkdir(abs(busy));
        byte[] sub = b("sub \n\u00ff");
        ByteFs.mkdir(abs(BytePaths.join(busy, sub)));
        for (int i = 0; i < files; i++) ByteFs.write(abs(BytePaths.join(busy, sub, b("f" + i))), b("0"));
        AtomicReference<byte[]> dir = new AtomicReference<>(busy);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                while (!stop.get()) {
                    for (int i = 0; i < files; i++) {
                        try {
                            ByteFs.append(abs(BytePaths.join(dir.get(), sub, b("f" + i))), b("x"));
                        } catch (ErrnoException e) {
                            if (e.errno() != io.rtbackup.fs.Errno.ENOENT) throw e;
                        }
                    }
                    Thread.sleep(2);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "busy-writer");
        writer.start();
        Thread.sleep(writeFor.toMillis() / 3);
        int m = mark();
        ByteFs.rename(abs(busy), abs(calm));
        dir.set(calm);
        Thread.sleep(writeFor.toMillis() * 2 / 3);
        stop.set(true);
        writer.join();
        assertThat(failure.get()).isNull();
        await(m, "rename busy", at(busy, FileOp.MOVE_FROM).and(CapturedEvent::directory));
        int to = await(m, "rename to calm", at(calm, FileOp.MOVE_TO).and(CapturedEvent::directory));
        for (int i = 0; i < files; i++) {
            byte[] rel = BytePaths.join(calm, sub, b("f" + i));
            await(to, "change under the renamed directory " + BytePaths.show(rel),
                    at(rel, FileOp.MODIFY, FileOp.CLOSE_WRITE));
        }
    }

    /** Many changes while the reader is stalled: the source must report an overflow, which becomes a RESCAN. */
    public void stormWhileStalled(int files) throws Exception {
        byte[] storm = b("storm");
        int m0 = mark();
        ByteFs.mkdir(abs(storm));
        await(m0, "mkdir storm", at(storm, FileOp.MKDIR));
        stalled.set(true);
        ByteFs.write(abs(BytePaths.join(storm, b("trigger"))), b("x"));
        for (int i = 0; i < files; i++) {
            ByteFs.write(abs(BytePaths.join(storm, b("s" + i))), b("x"));
        }
        int m = mark();
        gate.countDown();
        await(m, "RESCAN of the root after the overflow", e -> e.op() == FileOp.RESCAN
                && e.rootId().equals(ROOT_ID) && e.path().length == 0);
        // and capture goes on afterwards
        byte[] after = b("after-overflow");
        int m2 = mark();
        ByteFs.write(abs(after), b("y"));
        await(m2, "create after the overflow", at(after, FileOp.CREATE));
    }

    @Override
    public void close() {
        gate.countDown();
        source.close();
        normaliser.close();
        fatal.assertNone();
    }

    /**
     * Starts a source straight onto a sink that throws on every change to a file named {@code rejected} (a
     * downstream bug): the source must report an overflow of that file's directory instead of dropping the
     * change, keep delivering the other changes, and not give up.
     *
     * @param ready waits until the source sees changes made from now on (the scan's baseline pass)
     */
    public static void aRejectedChangeBecomesARescanOfItsDirectory(Function<FatalErrorHandler, CaptureSource> sources,
            Consumer<CaptureSource> ready, Duration timeout) throws Exception {
        RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
        List<RawChange> got = new CopyOnWriteArrayList<>();
        try (TempDirs tmp = TempDirs.create("rtb-rejected")) {
            byte[] root = tmp.newDir("root");
            byte[] sub = BytePaths.join(root, b("sub"));
            ByteFs.mkdir(sub);
            CaptureSource source = sources.apply(fatal);
            try {
                source.start(List.of(new WatchedRoot(ROOT_ID, root)), change -> {
                    if (change instanceof RawChange.PathChange c && Arrays.equals(BytePaths.name(c.path()),
                            b("rejected"))) {
                        throw new IllegalStateException("downstream bug");
                    }
                    got.add(change);
                });
                ready.accept(source);
                ByteFs.write(BytePaths.join(sub, b("rejected")), b("x"));
                ByteFs.write(BytePaths.join(root, b("accepted")), b("x"));
                long deadline = System.nanoTime() + timeout.toNanos();
                while (!(got.stream().anyMatch(c -> c instanceof RawChange.Overflow o && Arrays.equals(o.scope(), sub))
                        && got.stream().anyMatch(c -> c instanceof RawChange.PathChange p
                                && Arrays.equals(BytePaths.name(p.path()), b("accepted"))))) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("no overflow of " + BytePaths.show(sub) + " and change of 'accepted'"
                                + " within " + timeout + "; got " + got);
                    }
                    Thread.sleep(10);
                }
            } finally {
                source.close();
            }
        }
        fatal.assertNone();
    }
}
