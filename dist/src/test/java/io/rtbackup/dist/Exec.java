package io.rtbackup.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command to completion within a time limit and returns its exit code and output (stdout and stderr
 * merged). A command that overruns is killed with its descendants and reported as a failure, never waited for.
 */
record Exec(int exitCode, String output) {

    static Exec run(Duration limit, Path dir, List<String> command) {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir == null ? null : dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + command, e);
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError(command + " ran past " + limit);
            }
            return new Exec(p.exitValue(), out.get(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("interrupted running " + command, e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("reading the output of " + command, e);
        }
    }

    /** Runs the command and fails with its output unless it exits 0; returns the output. */
    static String ok(Duration limit, Path dir, String... command) {
        Exec r = run(limit, dir, List.of(command));
        if (r.exitCode != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + r.exitCode + ":\n" + r.output);
        }
        return r.output;
    }
}
