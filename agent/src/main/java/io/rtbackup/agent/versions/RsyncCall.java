package io.rtbackup.agent.versions;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One rsync process for reading or pruning versions: an argument list (never a shell), optional stdin bytes
 * (a NUL-separated file list), the daemon password in {@code RSYNC_PASSWORD}, the C locale (rsync escapes every
 * non-printable byte of a name in its output as {@code \#ooo}) and UTC (times in its output).
 */
record RsyncCall(List<String> args, byte[] stdin, Optional<String> password, Duration timeout) {

    record Result(int exitCode, byte[] stdout, String stderr) {
        boolean ok() {
            return exitCode == 0;
        }

        /** rsync's complaint, in one line, for error messages. */
        String problem() {
            String s = stderr.strip().replace('\n', ' ');
            return "rsync exit " + exitCode + (s.isEmpty() ? "" : ": " + (s.length() > 1500 ? s.substring(0, 1500) + "..." : s));
        }
    }

    Result run() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(args);
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("TZ", "UTC");
        password.ifPresent(p -> pb.environment().put("RSYNC_PASSWORD", p));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run '" + args.get(0) + "': " + e.getMessage() + " (install rsync >= 3.2.3)", e);
        }
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) in.write(stdin);
        } catch (IOException e) {
            // rsync exited early; its exit code and stderr say why
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new IOException("rsync did not finish within " + timeout.toSeconds() + " s: " + args);
            }
            return new Result(p.exitValue(), out.join(), new String(err.join(), StandardCharsets.ISO_8859_1));
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while rsync ran", e);
        }
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            return buf.toByteArray();
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
