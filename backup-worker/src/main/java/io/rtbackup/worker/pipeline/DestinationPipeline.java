package io.rtbackup.worker.pipeline;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.rtbackup.schema.CapturePosition;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.SyncListener;
import io.rtbackup.worker.coalesce.Batch;
import io.rtbackup.worker.coalesce.Coalescer;
import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.coalesce.ReplicatedSince;
import io.rtbackup.worker.commands.Attempt;
import io.rtbackup.worker.commands.CommandLedger;
import io.rtbackup.worker.commands.SyncCommands;
import io.rtbackup.worker.commands.Verdict;
import io.rtbackup.worker.config.DestinationConfig;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.deadletter.DeadLetters;
import io.rtbackup.worker.metrics.WorkerMetrics;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.offsets.OffsetControl;
import io.rtbackup.worker.resilience.DestinationGuard;
import io.rtbackup.worker.resilience.HostQuarantine;
import io.rtbackup.worker.route.DestinationRoutes;
import io.rtbackup.worker.signing.RecordAuthenticity;
import io.rtbackup.worker.route.RootKey;
import io.rtbackup.worker.stuck.StuckPaths;
import io.rtbackup.worker.transport.CommandSink;
import io.rtbackup.worker.transport.DeadLetterSink;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination's pipeline: its own consumer (group {@code rtb-dest-<name>}) on the events topic, its coalescer,
 * offsets, breaker, retry and bulkhead. A slow or dead destination therefore only holds back its own group; its
 * backlog waits in Kafka.
 *
 * <p>A single-threaded loop over its parts, each with one job: {@link OffsetControl} (watermark commits, offset
 * resets, rebalances), {@link EventIntake} (from record to coalescer), {@link CommandLedger} (commands out, retries,
 * timeouts, what a result means), {@link DeadLetters}, {@link BatchReports} (metrics and listener). Each round: poll
 * and take in events, act on results and acks handed over through a queue, expire lost results, settle dead
 * letters, issue retries and new batches, commit, refresh the gauges. Other threads only call {@link #deliver},
 * {@link #stop} and the read-only accessors.
 */
public final class DestinationPipeline implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(DestinationPipeline.class);
    private static final long GAUGE_INTERVAL_NS = 250_000_000L;

    private final WorkerConfig config;
    private final String name;
    private final Topics topics;
    private final Consumer<byte[], byte[]> consumer;
    private final CommandSink commands;
    private final WorkerMetrics metrics;
    private final LongSupplier nanos;

    private final Coalescer coalescer;
    private final DestinationRoutes routes;
    private final DestinationGuard guard;
    private final OffsetControl offsets;
    private final DeadLetters deadLetters;
    private final CommandLedger ledger;
    /** What successful syncs already read, so a backlog of older events does not sync the same paths again. */
    private final ReplicatedSince replicated = new ReplicatedSince(100_000);
    private final EventIntake intake;
    private final BatchReports reports;
    private final StuckPaths stuck;
    private final ConcurrentLinkedQueue<Signal> inbox = new ConcurrentLinkedQueue<>();

    private volatile boolean running = true;
    private volatile boolean ready;
    private volatile boolean fenced;
    private volatile PipelineStatus status;
    private boolean paused;
    private boolean issueBlocked;
    private long lagEvents;
    private long holdSinceNs = -1;
    private long lastGaugeNs;
    /** Hosts the quarantine gauge shows now, so their series go away when they answer again. */
    private Set<String> quarantineGauged = Set.of();
    /** Roots the stuck-paths gauge shows now, so their series go away once nothing of them is stuck. */
    private Set<RootKey> stuckGauged = Set.of();

    /** @param consumer created with {@code auto.offset.reset=none} and auto-commit off (see {@link OffsetControl}) */
    public DestinationPipeline(WorkerConfig config, DestinationConfig destination, Topics topics,
                               Consumer<byte[], byte[]> consumer, CommandSink commands, DeadLetterSink deadLetterSink,
                               WorkerMetrics metrics, SyncListener listener, LongSupplier nanoClock) {
        this(config, destination, topics, consumer, commands, deadLetterSink, metrics, listener, nanoClock,
            RecordAuthenticity.none());
    }

    /** @param authenticity which events count: those signed by the host they name (see {@link RecordAuthenticity}) */
    public DestinationPipeline(WorkerConfig config, DestinationConfig destination, Topics topics,
                               Consumer<byte[], byte[]> consumer, CommandSink commands, DeadLetterSink deadLetterSink,
                               WorkerMetrics metrics, SyncListener listener, LongSupplier nanoClock,
                               RecordAuthenticity authenticity) {
        this.config = config;
        this.name = destination.name();
        this.topics = topics;
        this.consumer = consumer;
        this.commands = commands;
        this.metrics = metrics;
        this.nanos = nanoClock;
        this.coalescer = new Coalescer(config.coalesce(), nanoClock);
        this.routes = new DestinationRoutes(destination);
        this.guard = new DestinationGuard(name, config.bulkheadMaxConcurrent(), config.bulkheadMaxPerHost(),
            config.retry(), config.breaker(), nanoClock);
        this.offsets = new OffsetControl(name, consumer, config.commitInterval(), metrics, nanoClock,
            this::forgetPartitions);
        this.stuck = new StuckPaths(name, config.retry().stuckInterval(), nanoClock, System::currentTimeMillis,
            offsets::done);
        this.deadLetters = new DeadLetters(name, topics.dlq(), deadLetterSink, metrics, nanoClock, offsets::done);
        this.ledger = new CommandLedger(name, guard, new HostQuarantine(name, config.retry(), nanoClock),
            config.resultTimeout(), config.fullSyncResultTimeout(), nanoClock);
        this.intake = new EventIntake(name, routes, offsets, coalescer, replicated, deadLetters, metrics,
            authenticity);
        this.reports = new BatchReports(name, metrics, listener);
        this.status = new PipelineStatus(name, false, guard.breakerState().name(), false, 0, 0, 0, 0, 0, List.of(),
            List.of());
        metrics.breakerState.labelValues(name).set(0);
        metrics.bulkheadSlots.labelValues(name, "destination").set(guard.slots());
        metrics.bulkheadSlots.labelValues(name, "host").set(guard.perHostSlots());
        log.info("destination {}: at most {} commands in flight from this worker (bulkhead.max-concurrent), {} per "
            + "source host (bulkhead.max-per-host, at most half)", name, guard.slots(), guard.perHostSlots());
    }

    public String destination() {
        return name;
    }

    /** Hands a result addressed to this destination over to the pipeline thread (called by the result listener). */
    public void deliver(SyncResult result) {
        inbox.add(new Signal.ResultArrived(result));
    }

    /** True once the consumer joined its group and knows where to read every assigned partition. */
    public boolean ready() {
        return ready;
    }

    public PipelineStatus status() {
        return status;
    }

    /** True once another live worker with this worker's id took the group place over; the pipeline has stopped. */
    public boolean fenced() {
        return fenced;
    }

    /**
     * Asks the loop to stop; {@link #run()} then commits what is done and closes the consumer. No
     * {@code consumer.wakeup()}: a pending wakeup would make the final commit fail, and polls are short anyway.
     */
    public void stop() {
        running = false;
    }

    @Override
    public void run() {
        offsets.subscribe(topics.events());
        try {
            while (running) {
                try {
                    iterate();
                } catch (FencedInstanceIdException e) {
                    // Same worker id twice: the newer one owns the partitions; this one's events replay there.
                    log.error("destination {}: another worker joined with this worker's id and took over; stopping "
                        + "(give every worker its own worker.id)", name);
                    fenced = true;
                    running = false;
                } catch (RuntimeException e) {
                    // Records polled in the failed round may never have reached the tracker: read every assigned
                    // partition again from its last commit (a failure of that ends the pipeline, i.e. the process).
                    log.error("destination {}: pipeline round failed; replaying from the last committed offsets in 1 s: "
                        + "{}", name, e.toString(), e);
                    sleepQuietly(1000);
                    offsets.rewindAssigned("replayed after a failed round");
                }
            }
        } finally {
            try {
                offsets.commitAssigned();
            } catch (RuntimeException e) {
                log.warn("destination {}: final offset commit failed (events will be replayed): {}", name, e.toString());
            }
            // A static member (group.instance.id) stays in the group after close unless it says it leaves.
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(10))
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
            log.info("destination {}: pipeline stopped ({} command(s) were in flight; their events replay on restart)",
                name, ledger.inFlight() + ledger.waitingForRetry());
        }
    }

    private void iterate() {
        guard.tick();
        applyPause();
        Optional<ConsumerRecords<byte[], byte[]>> polled = offsets.poll(Duration.ofMillis(pollTimeoutMs()));
        if (polled.isEmpty()) return; // positions were reset: poll again before anything else
        ConsumerRecords<byte[], byte[]> records = polled.get();
        if (offsets.assignedOnce()) ready = true;
        intake.acceptAll(records);
        if (!records.isEmpty() || lagEvents > 0) lagEvents = offsets.lag();
        drainInbox();
        for (StuckPaths.Due d : stuck.due()) coalescer.offerRetry(d.key(), d.path());
        ledger.expire().forEach(this::settle);
        deadLetters.settle();
        issueRetries();
        issueNew();
        offsets.commitIfDue();
        publishGauges();
    }

    /** Partitions left this consumer: their pending work and stuck paths are the new owner's to replay. */
    private void forgetPartitions(Set<Integer> gone) {
        coalescer.dropPartitions(gone::contains);
        stuck.dropPartitions(gone::contains);
    }

    // ---- results -----------------------------------------------------------------------------------------------

    private void drainInbox() {
        Signal s;
        while ((s = inbox.poll()) != null) {
            if (s instanceof Signal.ResultArrived r) {
                ledger.onResult(r.result()).ifPresent(this::settle);
            } else if (s instanceof Signal.SendFailed f) {
                ledger.onSendFailed(f.commandId(), "not delivered to " + topics.commands() + " (" + f.error() + ")")
                    .ifPresent(this::settle);
            }
        }
    }

    /** Does what a verdict of the ledger leaves to the pipeline: the batch's events and its reports. */
    private void settle(Verdict v) {
        reports.attemptEnded(v.outcome());
        if (v instanceof Verdict.Synced s) {
            synced(s.attempt(), s.result());
        } else if (v instanceof Verdict.Stuck s) {
            stuck(s.attempt(), s.result(), s.paths());
        } else if (v instanceof Verdict.GiveUp g) {
            Batch b = coalescer.finish(g.attempt().batch().id());
            log.warn("destination {}: {} command {} goes to the DLQ ({}): {}", name, b, g.attempt().commandId(),
                g.deadLetterKind(), g.reason());
            deadLetters.sendCommand(g.attempt().command(), g.deadLetterKind(), g.reason(), b.refs());
            reports.givenUp(g.attempt(), b, g.result());
        } else if (v instanceof Verdict.RetryLater r) {
            reports.retrying(r.attempt(), r.why());
        }
    }

    private void synced(Attempt a, SyncResult r) {
        Batch b = coalescer.finish(a.batch().id());
        stuck.resolved(b.key(), b.fullSync() ? null : b.paths(), Set.of());
        for (EventRef ref : b.refs()) offsets.done(ref);
        CapturePosition at = CapturePosition.of(r);
        if (b.fullSync()) replicated.fullSync(b.key(), at);
        else replicated.paths(b.key(), b.paths(), at);
        // Changes to the same paths that queued up behind this sync but were captured before it started are in
        // the replica already (a backlog read while the sync ran): no second rsync for them.
        List<EventRef> covered = coalescer.dropCovered(b.key(), b.fullSync() ? null : b.paths(), at);
        log.debug("destination {}: command {} OK from capture position {}: {} {}, {} queued event(s) covered", name,
            a.commandId(), at, b.key(), BatchReports.allPaths(b), covered.size());
        for (EventRef ref : covered) offsets.done(ref);
        metrics.eventsAlreadyReplicated.labelValues(name).inc(covered.size());
        reports.synced(a, b, r);
    }

    /**
     * The batch arrived except {@code paths}, which its host could not read: they become (or stay) stuck, holding
     * the events of the entries they were found in; every other event of the batch is done. Nothing is recorded as
     * replicated: the backlog of the batch's other paths only costs a sync.
     */
    private void stuck(Attempt a, SyncResult r, Map<PathKey, String> paths) {
        Batch b = coalescer.finish(a.batch().id());
        stuck.stuck(b.key(), paths, b::refsCovering);
        stuck.resolved(b.key(), b.fullSync() ? null : b.paths(), paths.keySet());
        for (EventRef ref : b.refs()) if (!stuck.holds(ref)) offsets.done(ref);
        reports.synced(a, b, r);
    }

    // ---- issuing -----------------------------------------------------------------------------------------------

    private void issueRetries() {
        for (Optional<CommandLedger.Next> n; (n = ledger.takeDueRetry()).isPresent(); ) {
            long id = n.get().batch().id();
            if (guard.breakerState() == CircuitBreaker.State.HALF_OPEN) {
                // The probe of a destination that may be back carries the root's backlog (read while it was open):
                // if it is back, the probe alone brings the replica up to date.
                coalescer.widen(id);
            } else {
                // Newer pending changes of the batch's paths ride along: the retried rsync reads the current state.
                coalescer.absorbPendingInto(id);
            }
            send(n.get());
        }
    }

    private void issueNew() {
        if (guard.breakerState() == CircuitBreaker.State.OPEN) {
            issueBlocked = true; // the guard admits nothing; tick() ends the wait
            return;
        }
        if (holdingForCatchUp()) {
            issueBlocked = true;
            return;
        }
        boolean[] denied = {false};
        while (true) {
            Optional<Batch> b = coalescer.next(() -> {
                boolean ok = guard.tryAdmit();
                if (!ok) denied[0] = true;
                return ok;
            });
            if (b.isEmpty()) break;
            ledger.first(b.get()).ifPresent(this::send);
        }
        issueBlocked = denied[0];
    }

    /**
     * While behind the log end, read on instead of issuing: a backlog (say after a destination outage) then
     * coalesces into one entry per path rather than one per poll. Bounded by the pending-path limit (the consumer
     * pauses there and batches go out) and by the max delay: under a storm that never lets the consumer catch up,
     * one round goes out every max delay.
     */
    private boolean holdingForCatchUp() {
        boolean behind = lagEvents > config.coalesce().catchUpLag()
            && coalescer.pendingCount() < config.coalesce().maxPendingPaths()
            && !paused;
        if (!behind) {
            holdSinceNs = -1;
            return false;
        }
        long now = nanos.getAsLong();
        if (holdSinceNs < 0) holdSinceNs = now;
        if (now - holdSinceNs >= config.coalesce().maxDelay().toNanos()) {
            holdSinceNs = now;
            return false;
        }
        return true;
    }

    private void send(CommandLedger.Next next) {
        Batch batch = next.batch();
        String id = UUID.randomUUID().toString();
        SyncCommand cmd = SyncCommands.of(id, next, name, routes.prefixFor(batch.key()).orElseThrow(),
            config.workerId(), System.currentTimeMillis());
        ledger.sent(next, cmd);
        metrics.commandsIssued.labelValues(name, batch.fullSync() ? "full" : "paths").inc();
        log.debug("destination {}: issuing command {} for {} (attempt {}): {}", name, id, batch, next.attempt(),
            BatchReports.allPaths(batch));
        commands.send(cmd, e -> inbox.add(new Signal.SendFailed(id, e)));
    }

    // ---- consumer control and gauges ---------------------------------------------------------------------------

    private long pollTimeoutMs() {
        return PollTimeout.millis(nanos.getAsLong(), issueBlocked ? Long.MAX_VALUE : coalescer.nextCheckNanos(),
            Math.min(ledger.nextRetryDueNs(), stuck.nextDueNs()), ledger.inFlight() > 0, !inbox.isEmpty());
    }

    private void applyPause() {
        String why = pauseReason();
        Set<TopicPartition> assignment = consumer.assignment();
        if (why != null) {
            if (!assignment.isEmpty()) consumer.pause(assignment);
            if (!paused) log.info("destination {}: pausing consumption: {}", name, why);
            paused = true;
        } else if (paused) {
            consumer.resume(consumer.paused());
            log.info("destination {}: resuming consumption", name);
            paused = false;
        }
    }

    /**
     * Why the consumer must not read on now, or null. Only the pending-path bound pauses it: while the breaker is
     * open (or half-open) it reads on, and the outage's backlog coalesces here, one entry per path, instead of
     * waiting in Kafka; nothing but the probe goes out meanwhile (the guard admits nothing else). Once a probe
     * succeeds, the whole backlog goes out at once, in as few commands as the batch cap allows, rather than what
     * was pending first and what is read after the probe a command later.
     */
    private String pauseReason() {
        if (coalescer.pendingCount() >= config.coalesce().maxPendingPaths()) {
            return coalescer.pendingCount() + " pending paths (coalesce.max-pending-paths)";
        }
        return null;
    }

    private void publishGauges() {
        long now = nanos.getAsLong();
        if (now - lastGaugeNs < GAUGE_INTERVAL_NS) return;
        lastGaugeNs = now;
        long unreplicated = offsets.unreplicated();
        CircuitBreaker.State s = guard.breakerState();
        metrics.breakerState.labelValues(name).set(switch (s) {
            case CLOSED -> 0;
            case HALF_OPEN -> 1;
            case OPEN, FORCED_OPEN -> 2;
            default -> 3;
        });
        metrics.lag.labelValues(name).set(unreplicated);
        metrics.pendingPaths.labelValues(name).set(coalescer.pendingCount());
        metrics.inFlightCommands.labelValues(name).set(ledger.inFlight() + ledger.waitingForRetry());
        metrics.paused.labelValues(name).set(paused ? 1 : 0);
        List<HostQuarantine.Quarantined> quarantined = ledger.quarantinedHosts();
        Set<String> hosts = new HashSet<>();
        for (HostQuarantine.Quarantined q : quarantined) {
            hosts.add(q.host());
            metrics.hostQuarantined.labelValues(name, q.host()).set(1);
        }
        for (String h : quarantineGauged) if (!hosts.contains(h)) metrics.hostQuarantined.remove(name, h);
        quarantineGauged = hosts;
        Map<RootKey, Integer> stuckCounts = stuck.counts();
        stuckCounts.forEach((k, n) -> metrics.stuckPaths.labelValues(name, k.host(), k.root()).set(n));
        for (RootKey k : stuckGauged) if (!stuckCounts.containsKey(k)) metrics.stuckPaths.remove(name, k.host(), k.root());
        stuckGauged = stuckCounts.keySet();
        status = new PipelineStatus(name, ready, s.name(), paused, coalescer.pendingCount(), ledger.inFlight(),
            ledger.waitingForRetry(), unreplicated, consumer.assignment().size(), quarantined, stuck.snapshot());
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
