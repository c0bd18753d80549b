package io.rtbackup.agent.capture.kmod;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.process.ExitingFatalErrorHandler;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Troubleshooting: prints what the kernel module reports instead of publishing it.
 *
 * <pre>
 * KmodDump --root /srv/data [--root ...] [--device /dev/rtbackup] [--max-events N] [--timeout-ms T]
 *     runs the real kmod capture source (configures the module, prints each RawChange, switches it off)
 * KmodDump --file records.bin
 *     decodes raw records saved from the device (e.g. by kmod/test/rtbctl drain)
 * </pre>
 * Exit status: 0 on success, 2 when capture is unavailable, 3 when the timeout passed before N events,
 * 4 on undecodable input, 64 on bad arguments.
 */
public final class KmodDump {
    private KmodDump() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws InterruptedException {
        List<WatchedRoot> roots = new ArrayList<>();
        String device = KmodDevice.DEFAULT_PATH;
        String file = null;
        int maxEvents = Integer.MAX_VALUE;
        long timeoutMs = Long.MAX_VALUE;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--root" -> roots.add(WatchedRoot.of("root" + roots.size(), args[++i]));
                    case "--device" -> device = args[++i];
                    case "--file" -> file = args[++i];
                    case "--max-events" -> maxEvents = Integer.parseInt(args[++i]);
                    case "--timeout-ms" -> timeoutMs = Long.parseLong(args[++i]);
                    default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
                }
            }
        } catch (RuntimeException e) {
            err.println("KmodDump: " + e.getMessage()
                    + "; usage: --root DIR... [--device PATH] [--max-events N] [--timeout-ms T] | --file RECORDS");
            return 64;
        }
        if (file != null) return dumpFile(file, out, err);
        if (roots.isEmpty()) {
            err.println("KmodDump: give at least one --root (or --file)");
            return 64;
        }
        CountDownLatch enough = new CountDownLatch(maxEvents == Integer.MAX_VALUE ? 1 : maxEvents);
        AtomicInteger seen = new AtomicInteger();
        // printing never rejects a change; should it, the dump ends non-zero like the agent would
        try (KmodSource source = new KmodSource(device, new PrometheusRegistry(),
                ExitingFatalErrorHandler.forThisJvm("KmodDump", Duration.ofSeconds(10)))) {
            source.start(roots, change -> {
                synchronized (out) {
                    out.println(describe(change));
                    out.flush();
                }
                seen.incrementAndGet();
                enough.countDown();
            });
            out.println("READY");
            out.flush();
            boolean done = enough.await(timeoutMs, TimeUnit.MILLISECONDS);
            out.println("END events=" + seen.get());
            out.flush();
            return done || maxEvents == Integer.MAX_VALUE ? 0 : 3;
        } catch (CaptureUnavailableException e) {
            err.println(e.getMessage());
            return 2;
        }
    }

    private static int dumpFile(String file, PrintStream out, PrintStream err) {
        try {
            for (KmodRecord r : new KmodRecordDecoder().decode(Files.readAllBytes(Paths.get(file)))) {
                out.println(r);
            }
            return 0;
        } catch (IOException e) {
            err.println("KmodDump: cannot read " + file + ": " + e.getMessage());
            return 4;
        } catch (KmodProtocolException e) {
            err.println("KmodDump: " + file + ": " + e.getMessage());
            return 4;
        }
    }

    /** One line per change, names escaped (see {@link PathDisplay}). */
    static String describe(RawChange change) {
        if (change instanceof RawChange.PathChange p) {
            return p.op() + (p.directory() ? " dir " : " ") + PathDisplay.show(p.path());
        }
        if (change instanceof RawChange.Rename r) {
            return "RENAME" + (r.directory() ? " dir " : " ") + PathDisplay.show(r.from()) + " -> "
                    + PathDisplay.show(r.to());
        }
        if (change instanceof RawChange.Overflow o) return "OVERFLOW dropped=" + o.dropped();
        RawChange.Rescan s = (RawChange.Rescan) change;
        return "RESCAN " + PathDisplay.show(s.path());
    }
}
