package io.rtbackup.agent.versions;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.config.ExecConfig.Destination;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces the retention of kept versions: for every destination with {@code keep-versions=true} and every
 * replica tree of this host on it, deletes the version dirs the policy expires ({@link Retention}). The agent
 * runs it shortly after start and then every hour; {@code rtb prune} runs it once.
 */
public final class VersionPruner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VersionPruner.class);

    private final ExecConfig config;
    private final Function<Destination, Collection<String>> remoteDirs;
    private final Clock clock;
    private ScheduledExecutorService scheduler;

    /**
     * @param remoteDirs the replica trees to prune on a destination, e.g. {@code <host>/<root>} for each root
     *                   plus the trees commands routed elsewhere
     */
    public VersionPruner(ExecConfig config, Function<Destination, Collection<String>> remoteDirs, Clock clock) {
        this.config = config;
        this.remoteDirs = remoteDirs;
        this.clock = clock;
    }

    /** What one prune of one replica tree did. */
    public record Pruned(String destination, String remoteDir, List<VersionStamp> deleted, int kept,
            boolean dryRun) {
    }

    /** Prunes every replica tree of the destinations that keep versions (or only {@code only}, when given). */
    public List<Pruned> pruneAll(Set<String> only, boolean dryRun) throws IOException {
        List<Pruned> out = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (Destination d : config.destinations().values()) {
            if (!d.versions().keep() || !only.isEmpty() && !only.contains(d.name())) continue;
            for (String dir : new TreeSet<>(remoteDirs.apply(d))) {
                try {
                    out.add(prune(new VersionStore(config.rsyncPath(), d, dir), dryRun));
                } catch (IOException e) {
                    log.warn("destination={} dir={}: pruning kept versions failed: {}", d.name(), dir, e.getMessage());
                    failures.add(e.getMessage());
                }
            }
        }
        if (!failures.isEmpty()) throw new IOException(String.join("; ", failures));
        return out;
    }

    /** Prunes one replica tree. */
    public Pruned prune(VersionStore store, boolean dryRun) throws IOException {
        Destination d = store.destination();
        List<VersionStamp> all = store.versions();
        List<VersionStamp> expired = Retention.expired(all, d.versions(), clock.instant());
        if (!expired.isEmpty() && !dryRun) store.delete(expired);
        if (!expired.isEmpty()) {
            log.info("destination={} dir={}: {} {} version dir(s) ({} .. {}), {} kept (keep-days={}, keep={})",
                d.name(), store.remoteDir(), dryRun ? "would prune" : "pruned", expired.size(), expired.get(0),
                expired.get(expired.size() - 1), all.size() - expired.size(), d.versions().keepDays(),
                d.versions().keepCount());
        }
        return new Pruned(d.name(), store.remoteDir(), expired, all.size() - expired.size(), dryRun);
    }

    /** Prunes after {@code firstDelay} and then every {@code period}, on a thread of its own. */
    public VersionPruner start(Duration firstDelay, Duration period) {
        if (config.destinations().values().stream().noneMatch(d -> d.versions().keep())) return this;
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rtb-version-pruner");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                pruneAll(Set.of(), false);
            } catch (IOException e) {
                // logged per tree; the next round retries
            } catch (RuntimeException e) {
                log.error("pruning kept versions failed unexpectedly", e);
            }
        }, firstDelay.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    @Override
    public void close() {
        if (scheduler != null) scheduler.shutdownNow();
    }
}
