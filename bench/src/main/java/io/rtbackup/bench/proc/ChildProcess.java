package io.rtbackup.bench.proc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A contender's process: started from an argument list (no shell), stdout and stderr merged, every line written
 * to a log file and kept with the time it arrived so start-up markers can be timed. Stopping sends SIGTERM, waits,
 * then SIGKILLs what is left, descendants (rsync runs) included.
 */
public final class ChildProcess implements AutoCloseable {

    /** One output line and when it was read (System.nanoTime()). */
    public record Line(long nanos, String text) {
    }

    private final Process process;
    private final List<Line> lines = new ArrayList<>();
    private final Thread reader;

    private ChildProcess(Process process, Path logFile) throws IOException {
        this.process = process;
        PrintWriter log = new PrintWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8), true);
        this.reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8)); log) {
                String line;
                while ((line = r.readLine()) != null) {
                    long now = System.nanoTime();
                    synchronized (lines) {
                        lines.add(new Line(now, line));
                        lines.notifyAll();
                    }
                    log.println(line);
                }
            } catch (IOException e) {
                // the process died; its exit code is what the caller looks at
            }
        }, "bench-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    public static ChildProcess start(List<String> command, Map<String, String> env, Path logFile) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        return new ChildProcess(pb.start(), logFile);
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Waits until a line matching {@code match} has been printed and returns it; fails with the last lines when
     * the process exits or the timeout passes.
     */
    public Line awaitLine(Predicate<String> match, long timeoutMs, String what) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        synchronized (lines) {
            int seen = 0;
            while (true) {
                for (; seen < lines.size(); seen++) {
                    if (match.test(lines.get(seen).text())) {
                        return lines.get(seen);
                    }
                }
                long left = deadline - System.currentTimeMillis();
                if (left <= 0 || !process.isAlive()) {
                    throw new IOException("pid " + pid() + ": no " + what + " within " + timeoutMs + " ms"
                            + (process.isAlive() ? "" : " (process exited " + process.exitValue() + ")")
                            + "; last output:\n  " + String.join("\n  ", tail(15)));
                }
                try {
                    lines.wait(Math.min(left, 200));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted waiting for " + what, e);
                }
            }
        }
    }

    /** The first line matching, if printed already. */
    public java.util.Optional<Line> firstLine(Predicate<String> match) {
        synchronized (lines) {
            return lines.stream().filter(l -> match.test(l.text())).findFirst();
        }
    }

    public List<String> tail(int n) {
        synchronized (lines) {
            return lines.subList(Math.max(0, lines.size() - n), lines.size()).stream().map(Line::text).toList();
        }
    }

    @Override
    public void close() {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        // rsync runs still going when the parent stopped; only the ones this process started
        for (ProcessHandle d : descendants) {
            d.destroyForcibly();
        }
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
