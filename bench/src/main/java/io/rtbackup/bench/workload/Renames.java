package io.rtbackup.bench.workload;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.RtbSplit;
import io.rtbackup.bench.contender.Running;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.measure.Sleep;
import io.rtbackup.bench.report.Measure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Renames the replica already holds the data for: a big file renamed in its directory, the same file moved to
 * another directory, and a directory of 1,000 files renamed. Each step waits until the replica shows the new
 * layout (new name complete, old name gone), then reads the daemon's received bytes.
 */
public final class Renames implements Workload {
    private static final int DIR_FILES = 1000;
    private static final int DIR_FILE_SIZE = 4096;

    private final long bigSize;

    public Renames(long bigSize) {
        this.bigSize = bigSize;
    }

    @Override
    public String id() {
        return "renames";
    }

    @Override
    public String title() {
        return "7. Renames";
    }

    @Override
    public String description() {
        return "a/big.bin (" + Measure.bytes(bigSize).show() + ", random) renamed to a/big2.bin; then moved to "
                + "b/big.bin; then directory c/ (1,000 files of 4 KiB, random) renamed to d/. Each step: time "
                + "until the replica has the new name complete and the old one gone (polled every 20 ms), and "
                + "the bytes the daemon received for it.";
    }

    @Override
    public boolean includes(Contender c) {
        return !(c instanceof RtbSplit);
    }

    @Override
    public void prepare(Path src) throws IOException {
        Files.createDirectories(src.resolve("a"));
        Files.createDirectories(src.resolve("b"));
        Files.createDirectories(src.resolve("c"));
        Trees.randomFile(src.resolve("a/big.bin"), bigSize, 7);
        for (int i = 0; i < DIR_FILES; i++) {
            Files.write(src.resolve(String.format("c/f%04d", i)), Trees.randomBytes(DIR_FILE_SIZE, i));
        }
    }

    @Override
    public void reset(Path src) throws IOException {
        if (Files.exists(src.resolve("b/big.bin"))) {
            Files.move(src.resolve("b/big.bin"), src.resolve("a/big.bin"));
        }
        if (Files.exists(src.resolve("a/big2.bin"))) {
            Files.move(src.resolve("a/big2.bin"), src.resolve("a/big.bin"));
        }
        if (Files.exists(src.resolve("d"))) {
            Files.move(src.resolve("d"), src.resolve("c"));
        }
    }

    @Override
    public Map<String, Measure> measure(Contender c, Site site, DaemonLog daemonLog) throws IOException {
        Map<String, Measure> out = new LinkedHashMap<>();
        Path src = site.source();
        Path rep = site.replica();
        try (Running r = c.start(site)) {
            Sleep.ms(1000);
            step(out, "file renamed in its directory", bigSize, daemonLog,
                    () -> move(src.resolve("a/big.bin"), src.resolve("a/big2.bin")),
                    () -> size(rep.resolve("a/big2.bin")) == bigSize && !Files.exists(rep.resolve("a/big.bin")));
            step(out, "file moved to another directory", bigSize, daemonLog,
                    () -> move(src.resolve("a/big2.bin"), src.resolve("b/big.bin")),
                    () -> size(rep.resolve("b/big.bin")) == bigSize && !Files.exists(rep.resolve("a/big2.bin")));
            step(out, "directory of 1,000 files renamed", (long) DIR_FILES * DIR_FILE_SIZE, daemonLog,
                    () -> move(src.resolve("c"), src.resolve("d")),
                    () -> count(rep.resolve("d")) == DIR_FILES && !Files.exists(rep.resolve("c")));
            long equal = Trees.awaitEqual(src, rep, 60_000, 200);
            out.put("replica equals source afterwards (1 = yes)", Measure.count(equal < 0 ? 0 : 1));
        }
        return out;
    }

    private interface Action {
        void run() throws IOException;
    }

    private static void step(Map<String, Measure> out, String name, long dataSize, DaemonLog daemonLog, Action action,
                             BooleanSupplier done) throws IOException {
        daemonLog.mark();
        action.run();
        long t0 = System.nanoTime();
        long tDone = -1;
        long deadline = System.currentTimeMillis() + 300_000;
        while (System.currentTimeMillis() < deadline) {
            if (done.getAsBoolean()) {
                tDone = System.nanoTime();
                break;
            }
            Sleep.ms(20);
        }
        DaemonLog.Totals totals = daemonLog.settle(60_000);
        out.put(name + ": time to replica", tDone < 0 ? Measure.missing(Measure.Unit.SECONDS)
                : Measure.seconds((tDone - t0) / 1e9));
        out.put(name + ": bytes on the wire", Measure.bytes(totals.bytesReceived()));
        out.put(name + ": wire, % of the data", Measure.percent(100.0 * totals.bytesReceived() / dataSize));
        System.out.printf("    %s: %s on the wire (%.2f %% of %s), %s%n", name, Measure.bytes(totals.bytesReceived()).show(),
                100.0 * totals.bytesReceived() / dataSize, Measure.bytes(dataSize).show(),
                tDone < 0 ? "NOT replicated within 300 s" : String.format("%.2f s", (tDone - t0) / 1e9));
        Sleep.ms(500);
    }

    private static void move(Path from, Path to) throws IOException {
        Files.move(from, to);
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    private static long count(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        } catch (IOException e) {
            return -1;
        }
    }
}
