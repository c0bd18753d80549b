package io.rtbackup.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs an external program from an argument list (never through a shell), feeding stdin and capturing stdout
 * and stderr as bytes, with a timeout after which the process is killed. Immutable; each setter returns a copy.
 */
public final class ExternalCommand {

    /** The finished process: exit code and everything it printed. */
    public record Result(List<String> command, int exitCode, byte[] stdout, byte[] stderr) {

        /** stdout decoded as UTF-8 (malformed bytes replaced), for assertions and messages. */
        public String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        /** stderr decoded as UTF-8 (malformed bytes replaced), for assertions and messages. */
        public String stderrText() {
            return new String(stderr, StandardCharsets.UTF_8);
        }

        /** "command exited 5; stderr: ..." for failure messages. */
        public String describe() {
            return String.join(" ", command) + " exited " + exitCode + "; stdout: " + stdoutText().strip()
                    + "; stderr: " + stderrText().strip();
        }
    }

    private final List<String> command;
    private final byte[] stdin;
    private final Map<String, String> env;
    private final File directory;
    private final Duration timeout;

    private ExternalCommand(List<String> command, byte[] stdin, Map<String, String> env, File directory,
                            Duration timeout) {
        this.command = List.copyOf(command);
        this.stdin = stdin;
        this.env = Map.copyOf(env);
        this.directory = directory;
        this.timeout = timeout;
    }

    public static ExternalCommand of(String... command) {
        return of(List.of(command));
    }

    public static ExternalCommand of(List<String> command) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        return new ExternalCommand(command, new byte[0], Map.of(), null, Duration.ofSeconds(60));
    }

    /** Bytes written to the process's stdin, which is then closed. */
    public ExternalCommand stdin(byte[] data) {
        return new ExternalCommand(command, data.clone(), env, directory, timeout);
    }

    /** An extra environment variable on top of this JVM's environment. */
    public ExternalCommand env(String name, String value) {
        Map<String, String> e = new LinkedHashMap<>(env);
        e.put(name, value);
        return new ExternalCommand(command, stdin, e, directory, timeout);
    }

    /** Working directory (ASCII path). */
    public ExternalCommand directory(String dir) {
        return new ExternalCommand(command, stdin, env, new File(dir), timeout);
    }

    public ExternalCommand timeout(Duration t) {
        return new ExternalCommand(command, stdin, env, directory, t);
    }

    /**
     * Runs the command to completion.
     *
     * @throws IOException if it cannot be started or does not finish within the timeout (it is then killed)
     */
    public Result run() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        if (directory != null) {
            pb.directory(directory);
        }
        Process p = pb.start();
        // own threads: the pipes block, and the common pool may be tiny or busy with other work
        ExecutorService io = Executors.newFixedThreadPool(3, r -> {
            Thread t = new Thread(r, "external-command-io");
            t.setDaemon(true);
            return t;
        });
        try {
            return await(p, io);
        } finally {
            io.shutdownNow();
        }
    }

    private Result await(Process p, ExecutorService io) throws IOException {
        CompletableFuture<byte[]> out = drain(p.getInputStream(), io);
        CompletableFuture<byte[]> err = drain(p.getErrorStream(), io);
        CompletableFuture<Void> in = CompletableFuture.runAsync(() -> {
            try (OutputStream os = p.getOutputStream()) {
                os.write(stdin);
            } catch (IOException e) {
                // the program exited without reading all of stdin; its exit code tells the story
            }
        }, io);
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + timeout
                        + " and was killed");
            }
            in.get(10, TimeUnit.SECONDS);
            return new Result(command, p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while running " + String.join(" ", command), e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("could not collect the output of " + String.join(" ", command), e);
        }
    }

    private static CompletableFuture<byte[]> drain(InputStream stream, ExecutorService io) {
        return CompletableFuture.supplyAsync(() -> {
            try (InputStream s = stream) {
                return s.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, io);
    }
}
