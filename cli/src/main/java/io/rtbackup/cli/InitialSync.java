package io.rtbackup.cli;

import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.worker.SyncReport;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Progress of the start-up full syncs (one per root and destination), printed until all are done. */
final class InitialSync {
    private final PrintStream out;
    private final Set<String> waiting = ConcurrentHashMap.newKeySet();
    private int total;
    private final long startNs = System.nanoTime();

    InitialSync(PrintStream out, Set<String> roots, Set<String> destinations) {
        this.out = out;
        for (String r : roots) for (String d : destinations) waiting.add(r + "\0" + d);
        this.total = waiting.size();
    }

    /** Paused roots get no initial sync (their commands are held): their resume reconciles them. */
    void skipPaused(Set<String> paused) {
        if (paused.isEmpty()) return;
        waiting.removeIf(k -> paused.contains(k.substring(0, k.indexOf('\0'))));
        total = waiting.size();
        out.println("paused (rtb resume catches up what changes meanwhile): " + String.join(", ", paused));
    }

    void start() {
        if (total == 0) {
            out.println("initial sync: none to do now; replicating changes live");
            return;
        }
        out.println("initial sync: " + total + " root/destination pair(s) to bring up to date");
        Thread ticker = new Thread(() -> {
            try {
                while (!waiting.isEmpty()) {
                    Thread.sleep(Duration.ofSeconds(5).toMillis());
                    if (!waiting.isEmpty()) {
                        out.printf(Locale.ROOT, "initial sync: %d/%d done, %d s%n", total - waiting.size(), total,
                            (System.nanoTime() - startNs) / 1_000_000_000L);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "rtb-up-progress");
        ticker.setDaemon(true);
        ticker.start();
    }

    /** True when the report was one of the initial syncs (and printed as such). */
    boolean onReport(SyncReport r) {
        if (!r.fullSync() || !waiting.remove(r.rootId() + "\0" + r.destination())) return false;
        out.printf(Locale.ROOT, "%s initial sync %d/%d: %s -> %s %s, %d files, %s sent, %d ms%n",
            LocalTime.now().format(UpCommand.CLOCK), total - waiting.size(), total, r.rootId(), r.destination(),
            r.outcome() == SyncOutcome.OK ? "done" : r.outcome().toString(), r.filesTransferred(),
            UpCommand.bytes(r.bytesSent()), r.rsyncDurationMs());
        if (waiting.isEmpty()) out.println("initial sync complete; replicating changes live");
        return true;
    }
}
