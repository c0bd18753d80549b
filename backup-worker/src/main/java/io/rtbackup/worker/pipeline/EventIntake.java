package io.rtbackup.worker.pipeline;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CapturePosition;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.worker.coalesce.Coalescer;
import io.rtbackup.worker.coalesce.PathKey;
import io.rtbackup.worker.coalesce.ReplicatedSince;
import io.rtbackup.worker.deadletter.DeadLetters;
import io.rtbackup.worker.metrics.WorkerMetrics;
import io.rtbackup.worker.offsets.EventRef;
import io.rtbackup.worker.offsets.OffsetControl;
import io.rtbackup.worker.route.DestinationRoutes;
import io.rtbackup.worker.route.RootKey;
import io.rtbackup.worker.transport.DeadLetter;
import io.rtbackup.worker.signing.RecordAuthenticity;
import java.nio.ByteBuffer;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes one consumed event record of a destination and either hands it to the coalescer or settles it at once, in
 * this order:
 * <ol>
 *   <li>it counts as consumed (it holds back its partition's commits until done);</li>
 *   <li>undecodable: to the DLQ;</li>
 *   <li>not routed to this destination: done;</li>
 *   <li>ids or path unusable (they would end up in remote paths): to the DLQ;</li>
 *   <li>not signed by the host it names ({@link RecordAuthenticity}): to the DLQ, changing nothing;</li>
 *   <li>replayed after an offset reset: joins a full-root sync of its (host, root);</li>
 *   <li>captured before a successful sync of its path (or root) started, by the agent's capture order
 *       ({@link CapturePosition}, no clock): already replicated, done;</li>
 *   <li>otherwise offered by its op: a root-wide overflow, a subtree rescan, or a change of one path.</li>
 * </ol>
 *
 * <p>Single-threaded (the pipeline thread).
 */
final class EventIntake {
    private static final Logger log = LoggerFactory.getLogger(EventIntake.class);
    private final String destination;
    private final DestinationRoutes routes;
    private final OffsetControl offsets;
    private final Coalescer coalescer;
    private final ReplicatedSince replicated;
    private final DeadLetters deadLetters;
    private final WorkerMetrics metrics;
    private final RecordAuthenticity authenticity;
    private final AvroCodec<FileEvent> codec = AvroCodec.fileEvents();

    EventIntake(String destination, DestinationRoutes routes, OffsetControl offsets, Coalescer coalescer,
                ReplicatedSince replicated, DeadLetters deadLetters, WorkerMetrics metrics,
                RecordAuthenticity authenticity) {
        this.authenticity = authenticity;
        this.destination = destination;
        this.routes = routes;
        this.offsets = offsets;
        this.coalescer = coalescer;
        this.replicated = replicated;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
    }

    /** {@link #accept} for each of a poll's records, their signatures verified ahead on every core first. */
    void acceptAll(Iterable<ConsumerRecord<byte[], byte[]>> records) {
        authenticity.verifyAhead(records); // a storm's events would otherwise be verified one by one here
        for (ConsumerRecord<byte[], byte[]> r : records) accept(r);
    }

    void accept(ConsumerRecord<byte[], byte[]> r) {
        int p = r.partition();
        long o = r.offset();
        offsets.consumed(p, o);
        metrics.eventsConsumed.labelValues(destination).inc();
        FileEvent ev;
        try {
            ev = codec.decode(r.value());
        } catch (UndecodableRecordException e) {
            deadLetters.sendEvent(r, DeadLetter.KIND_UNDECODABLE_EVENT, e.getMessage());
            return;
        }
        RootKey key = new RootKey(ev.getHostId(), ev.getRootId());
        if (!routes.routed(key)) {
            offsets.done(p, o);
            return;
        }
        byte[] path = bytes(ev.getPath());
        String problem = problem(key, path);
        if (problem != null) {
            deadLetters.sendEvent(r, DeadLetter.KIND_INVALID_EVENT,
                "event from host '" + RootKey.printable(key.host()) + "': " + problem);
            return;
        }
        Optional<RecordAuthenticity.Refusal> forged = authenticity.eventRefusal(r, key.host(),
            ev.getOp() == FileOp.RESCAN);
        if (forged.isPresent()) {
            deadLetters.sendEvent(r, RecordAuthenticity.UNAUTHENTICATED_EVENT,
                "event about host '" + key.host() + "': " + forged.get().text());
            return;
        }
        EventRef ref = new EventRef(p, o);
        long eventTimeNs = ev.getEventTimeNs();
        if (offsets.replaying(p, o)) {
            coalescer.offerFullSync(key, ref, eventTimeNs);
            return;
        }
        // The agent's capture order, not its clock: a step of the clock must not make a later change look older.
        CapturePosition position = CapturePosition.of(ev);
        boolean rootWide = ev.getOp() == FileOp.OVERFLOW || path.length == 0;
        if (replicated.covers(key, rootWide ? null : PathKey.of(path), position)) {
            log.debug("destination {}: {} event at {}-{} for {} '{}' (capture position {}) already replicated by an "
                + "OK sync", destination, ev.getOp(), p, o, key, PathKey.printable(path), position);
            offsets.done(p, o);
            metrics.eventsAlreadyReplicated.labelValues(destination).inc();
            return;
        }
        switch (ev.getOp()) {
            case OVERFLOW -> coalescer.offerFullSync(key, ref, eventTimeNs, position);
            case RESCAN -> coalescer.offerSubtree(key, PathKey.of(path), ref, eventTimeNs, position);
            default -> coalescer.offerPath(key, PathKey.of(path), ev.getDirectory(), ref, eventTimeNs, position);
        }
    }

    /** Why the event's ids or path cannot be used, or null. */
    private static String problem(RootKey key, byte[] path) {
        String problem = RootKey.problem(key.host(), key.root());
        if (problem != null) return problem;
        String pathProblem = PathKey.problem(path);
        return pathProblem == null ? null : pathProblem + ": '" + PathKey.printable(path) + "'";
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
