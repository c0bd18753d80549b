package io.rtbackup.agent.rsync;

import io.rtbackup.agent.rsync.RsyncResult.Ending;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs rsync processes: one {@link #run} starts one process from an argument list (never a shell) with extra
 * environment entries, writes its {@link RsyncStdin} from a thread of its own (so a full pipe never blocks the
 * wait), collects stdout (its beginning up to a limit, its end, and a count of deletion lines) and stderr (its beginning and its last lines) and waits for the exit
 * within a time limit. A run whose arguments carry {@code --timeout=N} is also ended when it moves no data for N s
 * ({@link RsyncStallWatch}: rsync's own timeout does not fire when only keep-alives flow). A process that outlives
 * its limit, stalls, or whose waiting thread is interrupted, is killed with
 * every process it forked ({@link #killTree}); so are all running ones on {@link #close()}, after which no new
 * process starts. Safe for concurrent use.
 *
 * <p>A child gets the agent's environment without any variable named {@code RSYNC_PASSWORD*} (the agent holds
 * every destination's {@code RSYNC_PASSWORD_<NAME>}, and rsync or anything it starts could read or leak them),
 * then the entries of its own run: so each rsync sees at most its own destination's password.
 */
public final class RsyncLauncher implements AutoCloseable {
    /** Characters of stderr kept from its beginning. */
    public static final int STDERR_HEAD_CHARS = 64 * 1024;
    /** Non-blank stderr lines kept from its end. */
    public static final int STDERR_TAIL_LINES = 8;
    /** For {@code stdoutLimit}: keep all of stdout (listings, which callers parse whole). */
    public static final int ALL_OUTPUT = Integer.MAX_VALUE;
    /** Bytes of stdout always kept from its end. */
    public static final int STDOUT_TAIL_BYTES = 16 * 1024;
    /** For {@code timeout}: no wall-clock limit (rsync's own {@code --timeout} still bounds inactivity). */
    public static final Duration NO_TIME_LIMIT = Duration.ofNanos(Long.MAX_VALUE);
    private static final Duration TERM_GRACE = Duration.ofSeconds(2);
    /** How often a running process's counters are looked at ({@link RsyncStallWatch}). */
    static final Duration STALL_SAMPLE = Duration.ofMillis(500);

    /** Every variable whose name starts with this is a secret that no child inherits. */
    static final String SECRET_PREFIX = "RSYNC_PASSWORD";

    private final Set<Process> live = ConcurrentHashMap.newKeySet();
    private final Map<String, String> inherited;
    private volatile boolean closed;

    /** Children start from this process's environment (scrubbed of secrets). */
    public RsyncLauncher() {
        this(System.getenv());
    }

    /** Children start from {@code inherited} (scrubbed of secrets) instead of this process's environment. */
    RsyncLauncher(Map<String, String> inherited) {
        this.inherited = Map.copyOf(inherited);
    }

    /**
     * Runs one rsync process to its end.
     *
     * @param label       names the I/O threads ({@code <label>-out}, ...)
     * @param args        the full argument list, binary first ({@link RsyncArgs})
     * @param environment entries added to the inherited, scrubbed environment ({@link RsyncEndpoint#environment()})
     * @param stdoutLimit bytes of stdout kept; the rest is read and dropped
     * @return how it ended; {@link Ending#INTERRUPTED} without starting anything when the launcher is closed
     * @throws IOException only when the process cannot be started (the message is the system's)
     */
    public RsyncResult run(String label, List<String> args, Map<String, String> environment, RsyncStdin stdin,
            Duration timeout, int stdoutLimit) throws IOException {
        return run(label, args, environment, stdin, timeout, stdoutLimit, RsyncPriority.NORMAL);
    }

    /** As {@link #run(String, List, Map, RsyncStdin, Duration, int)}, at {@code priority}. */
    public RsyncResult run(String label, List<String> args, Map<String, String> environment, RsyncStdin stdin,
            Duration timeout, int stdoutLimit, RsyncPriority priority) throws IOException {
        if (closed) return new RsyncResult(Ending.INTERRUPTED, -1, new byte[0], new byte[0], 0, "", List.of(), timeout);
        long deadline = timeout.equals(NO_TIME_LIMIT) ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        ProcessBuilder pb = new ProcessBuilder(priority.command(args));
        pb.environment().clear();
        pb.environment().putAll(childEnvironment(inherited, environment));
        Process proc = pb.start();
        live.add(proc);
        try {
            if (closed) killTree(proc); // close() ran between the check above and add()
            StdoutSink stdout = new StdoutSink(stdoutLimit);
            StderrSink stderr = new StderrSink();
            Thread out = pump(label + "-out", () -> stdout.read(proc.getInputStream()));
            Thread err = pump(label + "-err", () -> stderr.read(proc.getErrorStream()));
            Thread in = pump(label + "-in", () -> feed(proc.getOutputStream(), stdin));
            Ending ending;
            Optional<RsyncStallWatch> watch = RsyncStallWatch.of(args, System.nanoTime());
            try {
                ending = await(proc, deadline, watch);
                if (ending != Ending.EXITED) killTree(proc);
                join(out, err, in);
                if (ending == Ending.EXITED && closed && proc.exitValue() != 0) ending = Ending.INTERRUPTED;
            } catch (InterruptedException e) {
                killTree(proc);
                Thread.currentThread().interrupt();
                ending = Ending.INTERRUPTED;
            }
            int code = ending == Ending.EXITED ? proc.exitValue() : -1;
            Duration limit = ending == Ending.STALLED ? watch.orElseThrow().limit() : timeout;
            return stdout.result(ending, code, stderr.head(), stderr.tail(), limit);
        } finally {
            live.remove(proc);
        }
    }

    /** {@code inherited} without secrets, then {@code own} (which may hold this run's one password). */
    static Map<String, String> childEnvironment(Map<String, String> inherited, Map<String, String> own) {
        Map<String, String> env = new HashMap<>(inherited);
        env.keySet().removeIf(name -> name.startsWith(SECRET_PREFIX));
        env.putAll(own);
        return env;
    }

    /**
     * Waits for {@code proc} until {@code deadline} ({@link System#nanoTime}; {@code Long.MAX_VALUE}: none), looking
     * at it every {@link #STALL_SAMPLE} when it has a {@code watch}: {@link Ending#EXITED}, {@link Ending#TIMED_OUT}
     * or {@link Ending#STALLED} (the process still runs for the last two).
     */
    private static Ending await(Process proc, long deadline, Optional<RsyncStallWatch> watch)
            throws InterruptedException {
        if (watch.isEmpty() && deadline == Long.MAX_VALUE) {
            proc.waitFor();
            return Ending.EXITED;
        }
        while (true) {
            long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (left <= 0) return proc.isAlive() ? Ending.TIMED_OUT : Ending.EXITED;
            long slice = watch.isPresent() ? Math.min(left, STALL_SAMPLE.toNanos()) : left;
            if (proc.waitFor(slice, TimeUnit.NANOSECONDS)) return Ending.EXITED;
            if (watch.isPresent() && watch.get().stalled(proc.toHandle(), System.nanoTime())) return Ending.STALLED;
        }
    }

    /** Kills every running process and refuses new ones. */
    @Override
    public void close() {
        closed = true;
        for (Process p : live) killTree(p);
    }

    /**
     * Terminates rsync and every process it forked (local copies run sender, receiver and generator as separate
     * processes): SIGTERM, then SIGKILL after a grace period. The children are collected first: once the parent
     * dies they are re-parented and unreachable.
     */
    static void killTree(Process proc) {
        List<ProcessHandle> tree = new ArrayList<>(proc.descendants().toList());
        tree.forEach(ProcessHandle::destroy);
        proc.destroy();
        try {
            if (!proc.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS)) proc.destroyForcibly();
            proc.waitFor(TERM_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            proc.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        for (ProcessHandle h : tree) {
            if (h.isAlive()) h.destroyForcibly();
        }
    }

    // ---- process I/O --------------------------------------------------------------------------------------------

    private interface IoTask {
        void run() throws IOException;
    }

    private static Thread pump(String name, IoTask task) {
        Thread t = new Thread(() -> {
            try {
                task.run();
            } catch (IOException e) {
                // rsync closed the pipe (it failed or was killed); its exit code says what happened.
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Bounded: a process that exited leaves at most a pipe's worth of output behind. */
    private static void join(Thread... threads) throws InterruptedException {
        for (Thread t : threads) t.join(TERM_GRACE.toMillis() * 2);
    }

    private static void feed(OutputStream os, RsyncStdin stdin) throws IOException {
        try (OutputStream out = new BufferedOutputStream(os, 1 << 16)) {
            stdin.writeTo(out);
        }
    }

    /**
     * stdout's beginning (up to the caller's limit), its last {@value #STDOUT_TAIL_BYTES} bytes (where the
     * {@code --stats} summary is, however long the output before it) and the number of lines that start with
     * {@code "deleting "} ({@code --info=del1}: one per entry the receiver deleted), counted over all of it.
     */
    private static final class StdoutSink {
        private static final byte[] DELETING = "deleting ".getBytes(StandardCharsets.US_ASCII);

        private final int limit;
        private final ByteArrayOutputStream head = new ByteArrayOutputStream();
        private final byte[] tail = new byte[STDOUT_TAIL_BYTES];
        private long total;
        private long deletions;
        /** Bytes of the current line matched against DELETING so far; -1 once it cannot match. */
        private int matched;

        StdoutSink(int limit) {
            this.limit = limit;
        }

        void read(InputStream in) throws IOException {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (this) {
                    if (head.size() < limit) head.write(buf, 0, Math.min(n, limit - head.size()));
                    for (int i = 0; i < n; i++) take(buf[i]);
                }
            }
        }

        private void take(byte b) {
            tail[(int) (total++ % tail.length)] = b;
            if (b == '\n') {
                matched = 0;
            } else if (matched >= 0 && matched < DELETING.length) {
                matched = b == DELETING[matched] ? matched + 1 : -1;
                if (matched == DELETING.length) deletions++;
            }
        }

        synchronized RsyncResult result(Ending ending, int code, String stderrHead, List<String> stderrTail,
                Duration timeout) {
            int kept = (int) Math.min(total, tail.length);
            byte[] last = new byte[kept];
            for (int i = 0; i < kept; i++) last[i] = tail[(int) ((total - kept + i) % tail.length)];
            return new RsyncResult(ending, code, head.toByteArray(), last, deletions, stderrHead, stderrTail, timeout);
        }
    }

    /** stderr's beginning and its last non-blank lines; rsync prints file names as they are, so ISO-8859-1. */
    private static final class StderrSink {
        private final StringBuilder head = new StringBuilder();
        private final Deque<String> tail = new ArrayDeque<>();

        void read(InputStream in) throws IOException {
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (this) {
                    if (head.length() < STDERR_HEAD_CHARS) {
                        head.append(line, 0, Math.min(line.length(), STDERR_HEAD_CHARS - head.length())).append('\n');
                    }
                    if (line.isBlank()) continue;
                    tail.addLast(line);
                    if (tail.size() > STDERR_TAIL_LINES) tail.removeFirst();
                }
            }
        }

        synchronized String head() {
            return head.toString();
        }

        synchronized List<String> tail() {
            return List.copyOf(tail);
        }
    }
}
