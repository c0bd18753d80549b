package io.rtbackup.worker.pipeline;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.retry.Retry;
import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.SyncFailure;
import io.rtbackup.worker.SyncListener;
import io.rtbackup.worker.SyncReport;
import io.rtbackup.worker.coalesce.Batch;
import io.rtbackup.worker.coalesce.Coalescer;
import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.coalesce.ReplicatedSince;
import io.rtbackup.worker.config.DestinationConfig;
import io.rtbackup.worker.config.WorkerConfig;
import io.rtbackup.worker.metrics.WorkerMetrics;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.offsets.OffsetRuns;
import io.rtbackup.worker.offsets.WatermarkTracker;
import io.rtbackup.worker.resilience.DestinationGuard;
import io.rtbackup.worker.route.DestinationRoutes;
import io.rtbackup.worker.route.RootKey;
import io.rtbackup.worker.transport.CommandSink;
import io.rtbackup.worker.transport.DeadLetter;
import io.rtbackup.worker.transport.DeadLetterSink;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One destination's pipeline: its own consumer (group {@code rtb-dest-<name>}) on the events topic, its coalescer,
 * watermarks, breaker, retry and bulkhead. A slow or dead destination therefore only holds back its own group;
 * its backlog waits in Kafka.
 *
 * <p>Everything runs on the pipeline's thread: poll, handle events, handle results/acks handed over through a
 * queue, expire lost results, issue retries and new batches, commit. The consumer is created with
 * {@code auto.offset.reset=none}.
 *
 * <p><b>Offset reset detection.</b> With {@code auto.offset.reset=none} the consumer never jumps silently: a
 * partition without a committed offset raises {@link NoOffsetForPartitionException}, one whose committed offset
 * is no longer in the log (retention deleted it, or the topic was recreated) raises
 * {@link OffsetOutOfRangeException}. In both cases the pipeline seeks to the log start and remembers the log end
 * E at that moment; every routed event at an offset below E becomes a full-root sync of its (host, root) instead
 * of a path sync. So every (host, root) that has events in the retained log gets one full sync (which absorbs all
 * its replayed events) before any of its later changes. A missing committed offset is treated the same way because
 * it means either a new destination (which needs an initial full sync anyway) or a group whose offsets expired.
 * Limitation: a (host, root) with no retained event at all in the partition is not seen; the agent's own startup
 * rescan covers it. An empty partition is simply started at its end.
 */
public final class DestinationPipeline implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(DestinationPipeline.class);
    private static final long IDLE_POLL_MS = 20;
    private static final Duration POSITION_TIMEOUT = Duration.ofSeconds(30);
    private static final long GAUGE_INTERVAL_NS = 250_000_000L;
    private static final long DEAD_LETTER_RETRY_NS = 1_000_000_000L;
    private static final int SAMPLE_PATHS = 5;

    private final WorkerConfig config;
    private final String name;
    private final Topics topics;
    private final Consumer<byte[], byte[]> consumer;
    private final CommandSink commands;
    private final DeadLetterSink deadLetters;
    private final WorkerMetrics metrics;
    private final SyncListener listener;
    private final LongSupplier nanos;

    private final Coalescer coalescer;
    private final WatermarkTracker tracker = new WatermarkTracker();
    private final DestinationRoutes routes;
    private final DestinationGuard guard;
    private final AvroCodec<FileEvent> eventCodec = AvroCodec.fileEvents();
    private final AvroCodec<SyncCommand> commandCodec = AvroCodec.syncCommands();

    private final ConcurrentLinkedQueue<Signal> inbox = new ConcurrentLinkedQueue<>();
    private final Map<String, Attempt> inFlight = new HashMap<>();
    /** What successful syncs already read, so a backlog of older events does not sync the same paths again. */
    private final ReplicatedSince replicated = new ReplicatedSince(100_000);
    private final PriorityQueue<RetryWait> retries = new PriorityQueue<>(Comparator.comparingLong(RetryWait::dueNs));
    private final List<PendingLetter> deadLetterRetries = new ArrayList<>();
    private final Map<Integer, Long> resetUntil = new HashMap<>();
    private final Map<Integer, Long> lastCommitted = new HashMap<>();

    private volatile boolean running = true;
    private volatile boolean ready;
    private volatile boolean fenced;
    private volatile PipelineStatus status;
    private boolean assignedOnce;
    private boolean paused;
    private boolean issueBlocked;
    private long lagEvents;
    private long holdSinceNs = -1;
    private long lastCommitNs;
    private long lastGaugeNs;

    private record Attempt(String commandId, Batch batch, int attempt, long issuedNs, long deadlineNs,
                           Retry.AsyncContext<Void> retry, boolean exhausted, SyncCommand command) {
    }

    /** @param destinationDown the wait is for the destination to answer again (not a source-side partial) */
    private record RetryWait(Batch batch, int attempt, long dueNs, Retry.AsyncContext<Void> retry, boolean exhausted,
                             boolean destinationDown) {
    }

    private record PendingLetter(DeadLetter letter, List<EventRef> refs, long dueNs) {
    }

    public DestinationPipeline(WorkerConfig config, DestinationConfig destination, Topics topics,
                               Consumer<byte[], byte[]> consumer, CommandSink commands, DeadLetterSink deadLetters,
                               WorkerMetrics metrics, SyncListener listener, LongSupplier nanoClock) {
        this.config = config;
        this.name = destination.name();
        this.topics = topics;
        this.consumer = consumer;
        this.commands = commands;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
        this.listener = listener;
        this.nanos = nanoClock;
        this.coalescer = new Coalescer(config.coalesce(), nanoClock);
        this.routes = new DestinationRoutes(destination);
        this.guard = new DestinationGuard(name, config.bulkheadMaxConcurrent(), config.retry(), config.breaker(), nanoClock);
        this.status = new PipelineStatus(name, false, guard.breakerState().name(), false, 0, 0, 0, 0, 0);
        metrics.breakerState.labelValues(name).set(0);
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
        consumer.subscribe(List.of(topics.events()), new Rebalance());
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
                    // Keep going: a broker hiccup or one bad interaction must not stop replication for good.
                    log.error("destination {}: pipeline iteration failed, continuing in 1 s: {}", name, e.toString(), e);
                    sleepQuietly(1000);
                }
            }
        } finally {
            try {
                commitNow(consumer.assignment());
            } catch (RuntimeException e) {
                log.warn("destination {}: final offset commit failed (events will be replayed): {}", name, e.toString());
            }
            // A static member (group.instance.id) stays in the group after close unless it says it leaves.
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(10))
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
            log.info("destination {}: pipeline stopped ({} command(s) were in flight; their events replay on restart)",
                name, inFlight.size() + retries.size());
        }
    }

    private void iterate() {
        guard.tick();
        applyPause();
        ConsumerRecords<byte[], byte[]> records;
        try {
            records = consumer.poll(Duration.ofMillis(pollTimeoutMs()));
        } catch (NoOffsetForPartitionException e) {
            startFromBeginning(e.partitions(), "has no committed offset (new destination, or the group's offsets expired)");
            return;
        } catch (OffsetOutOfRangeException e) {
            startFromBeginning(e.offsetOutOfRangePartitions().keySet(),
                "has a committed offset that is no longer in the log (deleted by retention, or the topic was recreated)");
            return;
        }
        if (assignedOnce) ready = true;
        for (ConsumerRecord<byte[], byte[]> r : records) onEvent(r);
        if (!records.isEmpty() || lagEvents > 0) lagEvents = consumerLag();
        drainInbox();
        expireTimeouts();
        resendDeadLetters();
        issueRetries();
        issueNew();
        maybeCommit();
        publishGauges();
    }

    // ---- events ------------------------------------------------------------------------------------------------

    private void onEvent(ConsumerRecord<byte[], byte[]> r) {
        int p = r.partition();
        long o = r.offset();
        tracker.track(p, o);
        metrics.eventsConsumed.labelValues(name).inc();
        FileEvent ev;
        try {
            ev = eventCodec.decode(r.value());
        } catch (UndecodableRecordException e) {
            deadLetterEvent(r, DeadLetter.KIND_UNDECODABLE_EVENT, e.getMessage());
            return;
        }
        RootKey key = new RootKey(ev.getHostId(), ev.getRootId());
        if (!routes.routed(key)) {
            tracker.done(p, o);
            return;
        }
        byte[] path = bytes(ev.getPath());
        String problem = RootKey.problem(key.host(), key.root());
        if (problem == null) {
            String pathProblem = PathKey.problem(path);
            if (pathProblem != null) problem = pathProblem + ": '" + PathKey.printable(path) + "'";
        }
        if (problem != null) {
            deadLetterEvent(r, DeadLetter.KIND_INVALID_EVENT, "event from host '" + RootKey.printable(key.host()) + "': " + problem);
            return;
        }
        EventRef ref = new EventRef(p, o);
        long eventTimeNs = ev.getEventTimeNs();
        Long until = resetUntil.get(p);
        if (until != null) {
            if (o < until) {
                coalescer.offerFullSync(key, ref, eventTimeNs);
                return;
            }
            resetUntil.remove(p);
            log.info("destination {}: partition {} caught up past its offset reset at {}", name, p, until);
        }
        // The agent's producer stamps CreateTime after the change was captured: on the agent's clock, like the
        // start time of the syncs it reports, so the two can be compared.
        long publishedMs = r.timestampType() == TimestampType.CREATE_TIME ? r.timestamp() : Coalescer.UNKNOWN_PUBLISH_TIME;
        if (replicated.covers(key, ev.getOp() == FileOp.OVERFLOW || path.length == 0 ? null : PathKey.of(path),
                publishedMs)) {
            tracker.done(p, o);
            metrics.eventsAlreadyReplicated.labelValues(name).inc();
            return;
        }
        switch (ev.getOp()) {
            case OVERFLOW -> coalescer.offerFullSync(key, ref, eventTimeNs, publishedMs);
            case RESCAN -> coalescer.offerSubtree(key, PathKey.of(path), ref, eventTimeNs, publishedMs);
            default -> coalescer.offerPath(key, PathKey.of(path), ev.getDirectory(), ref, eventTimeNs, publishedMs);
        }
    }

    private void deadLetterEvent(ConsumerRecord<byte[], byte[]> r, String kind, String reason) {
        log.warn("destination {}: event {}-{}@{} goes to the DLQ ({}): {}", name, r.topic(), r.partition(), r.offset(),
            kind, reason);
        sendDeadLetter(DeadLetter.event(kind, reason, name, r.topic(), r.partition(), r.offset(), r.key(), r.value()),
            List.of(new EventRef(r.partition(), r.offset())));
    }

    private void sendDeadLetter(DeadLetter letter, List<EventRef> refs) {
        metrics.deadLetters.labelValues(name, letter.kind()).inc();
        transmit(letter, refs);
    }

    private void transmit(DeadLetter letter, List<EventRef> refs) {
        deadLetters.send(letter, e -> inbox.add(e == null
            ? new Signal.DeadLetterStored(refs)
            : new Signal.DeadLetterFailed(letter, refs, e)));
    }

    private void resendDeadLetters() {
        if (deadLetterRetries.isEmpty()) return;
        long now = nanos.getAsLong();
        for (Iterator<PendingLetter> it = deadLetterRetries.iterator(); it.hasNext(); ) {
            PendingLetter l = it.next();
            if (l.dueNs() <= now) {
                it.remove();
                transmit(l.letter(), l.refs());
            }
        }
    }

    // ---- results -----------------------------------------------------------------------------------------------

    private void drainInbox() {
        Signal s;
        while ((s = inbox.poll()) != null) {
            if (s instanceof Signal.ResultArrived r) {
                onResult(r.result());
            } else if (s instanceof Signal.SendFailed f) {
                onSendFailed(f.commandId(), f.error());
            } else if (s instanceof Signal.DeadLetterStored d) {
                d.refs().forEach(tracker::done);
            } else if (s instanceof Signal.DeadLetterFailed f) {
                log.error("destination {}: cannot write to the DLQ topic {} ({}); retrying in 1 s", name,
                    topics.dlq(), f.error().toString());
                deadLetterRetries.add(new PendingLetter(f.letter(), f.refs(), nanos.getAsLong() + DEAD_LETTER_RETRY_NS));
            }
        }
    }

    private void onResult(SyncResult r) {
        Attempt a = inFlight.remove(r.getCommandId());
        if (a == null) {
            log.debug("destination {}: result for command {} that is not in flight (late after a timeout, or a "
                + "duplicate); ignored", name, r.getCommandId());
            return;
        }
        String reason = r.getError() != null ? r.getError() : "rsync exit code " + r.getExitCode();
        switch (r.getOutcome()) {
            case OK -> {
                guard.succeeded(r.getDurationMs());
                a.retry().onComplete();
                count("ok");
                succeeded(a, r);
                retryNowWhatWaitsForTheDestination();
            }
            case PARTIAL -> {
                // The destination worked; something on the source side (an unreadable path) did not.
                guard.succeeded(r.getDurationMs());
                count("partial");
                long delay = a.retry().onError(new IllegalStateException(reason));
                if (delay < 0) {
                    giveUp(a, DeadLetter.KIND_PARTIAL_COMMAND, "still partial after " + a.attempt() + " attempt(s): "
                        + reason, r);
                } else {
                    retryLater(a, delay, a.exhausted(), "partial (" + reason + ")", false);
                }
            }
            case REJECTED -> {
                guard.neutral();
                count("rejected");
                giveUp(a, DeadLetter.KIND_REJECTED_COMMAND, "rejected by the agent on " + r.getHostId() + ": " + reason, r);
            }
            default -> {
                guard.destinationFailed(r.getDurationMs(), reason);
                count("failed");
                failed(a, "failed (" + reason + ")");
            }
        }
    }

    private void onSendFailed(String commandId, Exception error) {
        Attempt a = inFlight.remove(commandId);
        if (a == null) return;
        guard.neutral();
        count("send_failed");
        failed(a, "not delivered to " + topics.commands() + " (" + error + ")");
    }

    private void expireTimeouts() {
        if (inFlight.isEmpty()) return;
        long now = nanos.getAsLong();
        List<Attempt> expired = new ArrayList<>();
        for (Attempt a : inFlight.values()) if (a.deadlineNs() <= now) expired.add(a);
        for (Attempt a : expired) {
            inFlight.remove(a.commandId());
            long waitedMs = (now - a.issuedNs()) / 1_000_000;
            guard.destinationFailed(waitedMs, "no result");
            count("timeout");
            failed(a, "no result within " + waitedMs + " ms (agent down or result lost)");
        }
    }

    /** A failure that must not lose the batch: retried with backoff as long as it fails (the breaker limits it). */
    private void failed(Attempt a, String why) {
        boolean exhausted = a.exhausted();
        long delay = exhausted ? -1 : a.retry().onError(new DestinationGuard.DestinationFailure(why));
        if (delay < 0) {
            if (!exhausted) {
                log.warn("destination {}: {} {} still failing after {} attempts; retrying every {} ms until it succeeds",
                    name, a.batch(), a.commandId(), a.attempt(), guard.maxBackoffMs());
            }
            exhausted = true;
            delay = guard.maxBackoffMs();
        }
        retryLater(a, delay, exhausted, why, true);
    }

    private void retryLater(Attempt a, long delayMs, boolean exhausted, String why, boolean destinationDown) {
        metrics.retries.labelValues(name).inc();
        log.info("destination {}: command {} ({}, attempt {}) {}; retrying in {} ms", name, a.commandId(), a.batch(),
            a.attempt(), why, delayMs);
        retries.add(new RetryWait(a.batch(), a.attempt() + 1, nanos.getAsLong() + delayMs * 1_000_000L, a.retry(),
            exhausted, destinationDown));
        try {
            Batch b = a.batch();
            listener.onAttemptFailed(new SyncFailure(name, b.key().host(), b.key().root(), a.commandId(), b.fullSync(),
                b.paths().size(), b.paths().stream().limit(SAMPLE_PATHS).map(PathKey::show).toList(), a.attempt(), why));
        } catch (RuntimeException e) {
            log.warn("destination {}: sync listener failed: {}", name, e.toString());
        }
    }

    /**
     * The destination answered: batches backing off because it was down go out now instead of after their
     * (exponential, up to retry.max-backoff-ms) wait; a returning destination then catches up at once.
     */
    private void retryNowWhatWaitsForTheDestination() {
        if (retries.isEmpty()) return;
        long now = nanos.getAsLong();
        List<RetryWait> waiting = new ArrayList<>(retries);
        retries.clear();
        for (RetryWait w : waiting) {
            retries.add(w.destinationDown() && w.dueNs() > now
                ? new RetryWait(w.batch(), w.attempt(), now, w.retry(), w.exhausted(), true) : w);
        }
    }

    private void succeeded(Attempt a, SyncResult r) {
        Batch b = coalescer.finish(a.batch().id());
        for (EventRef ref : b.refs()) tracker.done(ref);
        if (b.fullSync()) replicated.fullSync(b.key(), r.getStartedAtMs());
        else replicated.paths(b.key(), b.paths(), r.getStartedAtMs());
        // Changes to the same paths that queued up behind this sync but were published before it started are in
        // the replica already (a backlog read while the sync ran): no second rsync for them.
        List<EventRef> covered = coalescer.dropCovered(b.key(), b.fullSync() ? null : b.paths(), r.getStartedAtMs());
        for (EventRef ref : covered) tracker.done(ref);
        metrics.eventsAlreadyReplicated.labelValues(name).inc(covered.size());
        metrics.pathsSynced.labelValues(name).inc(b.fullSync() ? 1 : b.paths().size());
        metrics.eventsSynced.labelValues(name).inc(b.eventCount());
        metrics.bytesSent.labelValues(name).inc(Math.max(0, r.getBytesSent()));
        metrics.filesTransferred.labelValues(name).inc(Math.max(0, r.getFilesTransferred()));
        metrics.rsyncDuration.labelValues(name).observe(Math.max(0, r.getDurationMs()) / 1000.0);
        long latencyMs = -1;
        OptionalLong oldest = b.oldestEventTimeNs();
        if (oldest.isPresent() && r.getFinishedAtMs() > 0) {
            latencyMs = Math.max(0, r.getFinishedAtMs() - oldest.getAsLong() / 1_000_000);
            metrics.changeToReplica.labelValues(name).observe(latencyMs / 1000.0);
        }
        log.debug("destination {}: {} synced by command {} (attempt {}), {} bytes sent in {} ms", name, b,
            a.commandId(), a.attempt(), r.getBytesSent(), r.getDurationMs());
        report(a, b, r, latencyMs);
    }

    private void giveUp(Attempt a, String kind, String reason, SyncResult r) {
        Batch b = coalescer.finish(a.batch().id());
        log.warn("destination {}: {} command {} goes to the DLQ ({}): {}", name, b, a.commandId(), kind, reason);
        byte[] key = a.command().getHostId().getBytes(StandardCharsets.UTF_8);
        sendDeadLetter(DeadLetter.command(kind, reason, name, a.commandId(), key, commandCodec.encode(a.command())),
            List.copyOf(b.refs()));
        report(a, b, r, -1);
    }

    private void report(Attempt a, Batch b, SyncResult r, long latencyMs) {
        try {
            List<String> sample = b.paths().stream().limit(SAMPLE_PATHS).map(PathKey::show).toList();
            listener.onBatchFinished(new SyncReport(name, b.key().host(), b.key().root(), a.commandId(), b.fullSync(),
                b.paths().size(), sample, b.eventCount(), a.attempt(), r.getOutcome(), r.getBytesSent(), r.getFilesTransferred(),
                r.getDurationMs(), latencyMs, r.getError()));
        } catch (RuntimeException e) {
            log.warn("destination {}: sync listener failed: {}", name, e.toString());
        }
    }

    private void count(String outcome) {
        metrics.commandResults.labelValues(name, outcome).inc();
    }

    // ---- issuing -----------------------------------------------------------------------------------------------

    private void issueRetries() {
        long now = nanos.getAsLong();
        // Half-open: the breaker's wait is over and it admits a probe; the oldest waiting batch is that probe, now,
        // rather than when its own backoff ends (which may be much later).
        boolean probing = guard.breakerState() == CircuitBreaker.State.HALF_OPEN;
        while (!retries.isEmpty() && (retries.peek().dueNs() <= now || probing)) {
            if (!guard.tryAdmit()) return;
            RetryWait w = retries.poll();
            send(coalescer.absorbPendingInto(w.batch().id()), w.attempt(), w.retry(), w.exhausted());
        }
    }

    private void issueNew() {
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
            send(b.get(), 1, guard.newRetryContext(), false);
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

    private void send(Batch batch, int attempt, Retry.AsyncContext<Void> retry, boolean exhausted) {
        String id = UUID.randomUUID().toString();
        String prefix = routes.prefixFor(batch.key()).orElseThrow();
        List<ByteBuffer> paths = new ArrayList<>();
        // The root itself never gets here as a path: the coalescer turns it into a full sync.
        for (PathKey p : batch.paths()) paths.add(ByteBuffer.wrap(p.bytes()));
        OptionalLong oldest = batch.oldestEventTimeNs();
        SyncCommand cmd = SyncCommand.newBuilder()
            .setCommandId(id)
            .setHostId(batch.key().host())
            .setRootId(batch.key().root())
            .setDestination(name)
            .setPaths(paths)
            .setFullSync(batch.fullSync())
            .setAttempt(attempt)
            .setIssuedAtMs(System.currentTimeMillis())
            .setCovers(OffsetRuns.of(batch.refs()))
            .setReplyTo(config.workerId())
            .setRemotePrefix(prefix)
            .setOldestEventTimeNs(oldest.isPresent() ? oldest.getAsLong() : null)
            .build();
        long now = nanos.getAsLong();
        Duration timeout = batch.fullSync() ? config.fullSyncResultTimeout() : config.resultTimeout();
        inFlight.put(id, new Attempt(id, batch, attempt, now, now + timeout.toNanos(), retry, exhausted, cmd));
        metrics.commandsIssued.labelValues(name, batch.fullSync() ? "full" : "paths").inc();
        log.debug("destination {}: issuing command {} for {} (attempt {})", name, id, batch, attempt);
        commands.send(cmd, e -> inbox.add(new Signal.SendFailed(id, e)));
    }

    // ---- consumer control --------------------------------------------------------------------------------------

    private long pollTimeoutMs() {
        long now = nanos.getAsLong();
        long t = IDLE_POLL_MS;
        if (!issueBlocked) {
            long due = coalescer.nextCheckNanos();
            if (due != Long.MAX_VALUE) t = Math.min(t, ceilMs(due - now));
        }
        if (!retries.isEmpty()) t = Math.min(t, ceilMs(retries.peek().dueNs() - now));
        return Math.max(0, t);
    }

    private static long ceilMs(long ns) {
        if (ns <= 0) return 0;
        return (ns + 999_999) / 1_000_000;
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

    private String pauseReason() {
        CircuitBreaker.State s = guard.breakerState();
        if (s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.FORCED_OPEN) {
            return "circuit breaker open (destination failing); probing after " + config.breaker().openWait().toMillis() + " ms";
        }
        // Half-open: probe with the work at hand; only read more when there is nothing to probe with.
        if (s == CircuitBreaker.State.HALF_OPEN && (!retries.isEmpty() || !inFlight.isEmpty() || coalescer.pendingCount() > 0)) {
            return "circuit breaker half-open (probing)";
        }
        if (coalescer.pendingCount() >= config.coalesce().maxPendingPaths()) {
            return coalescer.pendingCount() + " pending paths (coalesce.max-pending-paths)";
        }
        return null;
    }

    private long consumerLag() {
        long sum = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) sum += l.getAsLong();
        }
        return sum;
    }

    private void startFromBeginning(Collection<TopicPartition> parts, String why) {
        if (parts.isEmpty()) return;
        Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts);
        Map<TopicPartition, Long> end = consumer.endOffsets(parts);
        for (TopicPartition tp : parts) {
            long b = begin.get(tp);
            long e = end.get(tp);
            consumer.seek(tp, b);
            tracker.startAt(tp.partition(), b);
            lastCommitted.remove(tp.partition());
            if (e > b) {
                resetUntil.put(tp.partition(), e);
                metrics.offsetResets.labelValues(name).inc();
                log.warn("destination {}: partition {} {}; replaying it from {}: every (host, root) with events below "
                    + "offset {} gets a full-root sync before its later changes", name, tp, why, b, e);
            } else {
                resetUntil.remove(tp.partition());
                log.info("destination {}: partition {} {} and is empty; starting at offset {}", name, tp, why, b);
            }
        }
    }

    private void maybeCommit() {
        long now = nanos.getAsLong();
        if (now - lastCommitNs < config.commitInterval().toNanos()) return;
        lastCommitNs = now;
        Map<TopicPartition, OffsetAndMetadata> m = committableChanges(consumer.assignment());
        if (m.isEmpty()) return;
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
            lastCommitted.put(e.getKey().partition(), e.getValue().offset());
        }
        consumer.commitAsync(m, (offsets, ex) -> {
            if (ex != null) {
                log.warn("destination {}: offset commit failed, will retry: {}", name, ex.toString());
                for (TopicPartition tp : offsets.keySet()) lastCommitted.remove(tp.partition());
            }
        });
    }

    private void commitNow(Collection<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> m = committableChanges(parts);
        if (m.isEmpty()) return;
        consumer.commitSync(m, Duration.ofSeconds(10));
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
            lastCommitted.put(e.getKey().partition(), e.getValue().offset());
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> committableChanges(Collection<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
        for (TopicPartition tp : parts) {
            OptionalLong c = tracker.committable(tp.partition());
            if (c.isPresent() && c.getAsLong() > lastCommitted.getOrDefault(tp.partition(), -1L)) {
                m.put(tp, new OffsetAndMetadata(c.getAsLong()));
            }
        }
        return m;
    }

    private void publishGauges() {
        long now = nanos.getAsLong();
        if (now - lastGaugeNs < GAUGE_INTERVAL_NS) return;
        lastGaugeNs = now;
        Set<TopicPartition> assignment = consumer.assignment();
        long unreplicated = 0;
        for (TopicPartition tp : assignment) {
            OptionalLong behind = consumer.currentLag(tp);
            if (behind.isPresent()) unreplicated += behind.getAsLong();
            OptionalLong c = tracker.committable(tp.partition());
            if (c.isPresent()) unreplicated += tracker.consumedUpTo(tp.partition()) - c.getAsLong();
        }
        CircuitBreaker.State s = guard.breakerState();
        metrics.breakerState.labelValues(name).set(switch (s) {
            case CLOSED -> 0;
            case HALF_OPEN -> 1;
            case OPEN, FORCED_OPEN -> 2;
            default -> 3;
        });
        metrics.lag.labelValues(name).set(unreplicated);
        metrics.pendingPaths.labelValues(name).set(coalescer.pendingCount());
        metrics.inFlightCommands.labelValues(name).set(inFlight.size() + retries.size());
        metrics.paused.labelValues(name).set(paused ? 1 : 0);
        status = new PipelineStatus(name, ready, s.name(), paused, coalescer.pendingCount(), inFlight.size(),
            retries.size(), unreplicated, assignment.size());
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            if (parts.isEmpty()) return;
            try {
                commitNow(parts);
            } catch (RuntimeException e) {
                log.warn("destination {}: commit on revocation of {} failed (their events replay): {}", name, parts,
                    e.toString());
            }
            drop(parts, "revoked");
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> parts) {
            if (!parts.isEmpty()) drop(parts, "lost");
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
            if (!parts.isEmpty()) log.info("destination {}: assigned {}", name, parts);
            // Fix every position now, before the pipeline counts as ready: otherwise a partition without a committed
            // offset is only found to be one on a later poll, and events published in between would be taken for
            // an unknown history (a full-root sync) instead of new changes.
            List<TopicPartition> noOffset = new ArrayList<>();
            for (TopicPartition tp : parts) {
                try {
                    consumer.position(tp, POSITION_TIMEOUT);
                } catch (NoOffsetForPartitionException e) {
                    noOffset.add(tp);
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    log.warn("destination {}: no position for {} within {}; the next poll resolves it", name, tp,
                        POSITION_TIMEOUT);
                }
            }
            startFromBeginning(noOffset, "has no committed offset (new destination, or the group's offsets expired)");
            assignedOnce = true;
        }

        private void drop(Collection<TopicPartition> parts, String how) {
            Set<Integer> gone = new HashSet<>();
            for (TopicPartition tp : parts) gone.add(tp.partition());
            tracker.forget(gone);
            coalescer.dropPartitions(gone::contains);
            gone.forEach(p -> {
                resetUntil.remove(p);
                lastCommitted.remove(p);
            });
            log.info("destination {}: partitions {} {}; their pending paths are dropped (the new owner replays them)",
                name, parts, how);
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
