package io.rtbackup.bench.workload;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.RtbSplit;
import io.rtbackup.bench.contender.Running;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.measure.Sleep;
import io.rtbackup.bench.report.Measure;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** 1 MiB of new random bytes written in the middle of a large file; wire bytes and time until the replica has them. */
public final class BigFile implements Workload {
    private static final int CHANGE = 1 << 20;
    private static final String FILE = "big/data.bin";

    private final long size;
    private int run;

    public BigFile(long size) {
        this.size = size;
    }

    @Override
    public String id() {
        return "bigfile";
    }

    @Override
    public String title() {
        return "3. Big file: 1 MiB changed in the middle of a " + Measure.bytes(size).show() + " file";
    }

    @Override
    public String description() {
        return "1 MiB of new random bytes written (pwrite, close) at the middle of a " + Measure.bytes(size).show()
                + " file of random bytes that the replica already holds; bytes on the wire are what the rsync "
                + "daemon received over all connections (rsync protocol included); time until the replica's "
                + "file holds the new bytes (polled every 20 ms).";
    }

    @Override
    public boolean includes(Contender c) {
        return !(c instanceof RtbSplit);
    }

    @Override
    public void prepare(Path src) throws IOException {
        Files.createDirectories(src.resolve("big"));
        Trees.randomFile(src.resolve(FILE), size, 42);
    }

    @Override
    public Map<String, Measure> measure(Contender c, Site site, DaemonLog daemonLog) throws IOException {
        Map<String, Measure> out = new LinkedHashMap<>();
        long offset = size / 2 - CHANGE / 2;
        byte[] change = Trees.randomBytes(CHANGE, 1000 + run++);
        try (Running r = c.start(site)) {
            Sleep.ms(1000);
            daemonLog.mark();
            try (RandomAccessFile f = new RandomAccessFile(site.source().resolve(FILE).toFile(), "rw")) {
                f.seek(offset);
                f.write(change);
            }
            long t0 = System.nanoTime();
            long tDone = -1;
            long deadline = System.currentTimeMillis() + 600_000;
            byte[] seen = new byte[CHANGE];
            while (System.currentTimeMillis() < deadline) {
                try (RandomAccessFile f = new RandomAccessFile(site.replica().resolve(FILE).toFile(), "r")) {
                    f.seek(offset);
                    f.readFully(seen);
                    if (Arrays.equals(seen, change)) {
                        tDone = System.nanoTime();
                        break;
                    }
                } catch (NoSuchFileException | java.io.FileNotFoundException | java.io.EOFException e) {
                    // between rsync's unlink and rename, or mid-write: poll again
                }
                Sleep.ms(20);
            }
            DaemonLog.Totals totals = daemonLog.settle(60_000);
            boolean equal = Trees.diff(site.source(), site.replica()).isEqual();
            out.put("time to replica", tDone < 0 ? Measure.missing(Measure.Unit.SECONDS)
                    : Measure.seconds((tDone - t0) / 1e9));
            out.put("bytes on the wire", Measure.bytes(totals.bytesReceived()));
            out.put("wire bytes, % of the file", Measure.percent(100.0 * totals.bytesReceived() / size));
            out.put("rsync connections", Measure.count(totals.connections()));
            out.put("replica equals source afterwards (1 = yes)", Measure.count(equal ? 1 : 0));
            System.out.printf("  %s: %s on the wire, %s%n", c.label(), Measure.bytes(totals.bytesReceived()).show(),
                    tDone < 0 ? "NOT replicated within 600 s" : String.format("%.2f s to replica", (tDone - t0) / 1e9));
        }
        return out;
    }
}
