package io.rtbackup.bench.workload;

import io.rtbackup.testkit.ExternalCommand;
import io.rtbackup.testkit.TreeDiff;
import io.rtbackup.bench.measure.Sleep;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/** Building source trees and comparing replicas. Names are ASCII, so java.nio paths are byte-exact here. */
public final class Trees {
    private Trees() {
    }

    /** Makes {@code to} equal {@code from} with a local rsync (the pre-seeded replica each contender starts on). */
    public static void mirror(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        ExternalCommand.Result r = ExternalCommand.of("rsync", "-a", "--delete", from + "/", to + "/")
                .timeout(Duration.ofMinutes(30)).run();
        if (r.exitCode() != 0) {
            throw new IOException("seeding the replica failed: " + r.describe());
        }
    }

    /** A file of pseudo-random bytes (incompressible, no repeated blocks rsync could match by chance). */
    public static void randomFile(Path file, long size, long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] buf = new byte[1 << 20];
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(0);
            for (long done = 0; done < size; done += buf.length) {
                fill(buf, rnd);
                f.write(buf, 0, (int) Math.min(buf.length, size - done));
            }
        }
    }

    public static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        fill(b, new SplittableRandom(seed));
        return b;
    }

    private static void fill(byte[] buf, SplittableRandom rnd) {
        for (int i = 0; i + 8 <= buf.length; i += 8) {
            long v = rnd.nextLong();
            for (int k = 0; k < 8; k++) {
                buf[i + k] = (byte) (v >>> (8 * k));
            }
        }
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static final TreeDiff DIFF = TreeDiff.defaults().ignoringDirMtime();

    public static TreeDiff.Result diff(Path src, Path replica) throws IOException {
        return DIFF.compare(ascii(src.toString()), ascii(replica.toString()));
    }

    /**
     * Polls until the replica equals the source; returns System.nanoTime() of the first equal comparison, or -1
     * after the timeout (the last difference is printed).
     */
    public static long awaitEqual(Path src, Path replica, long timeoutMs, long pollMs) throws IOException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        TreeDiff.Result last = null;
        while (System.currentTimeMillis() < deadline) {
            last = diff(src, replica);
            if (last.isEqual()) {
                return System.nanoTime();
            }
            Sleep.ms(pollMs);
        }
        System.out.println("  not converged after " + timeoutMs + " ms: "
                + (last == null ? "" : last.describe().lines().limit(6).reduce((a, b) -> a + "\n    " + b).orElse("")));
        return -1;
    }
}
