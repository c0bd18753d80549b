package io.rtbackup.status;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.UndecodableRecordException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The unconsumed events of one destination that were read, tallied per (host, root).
 *
 * @param oldestMs timestamp of the oldest event read, {@link Long#MAX_VALUE} when none was
 * @param complete false when a partition's backlog was longer than the scan limit, so the tallies are lower bounds
 * @param roots    per (host, root); events that do not decode count under {@code ("?", "?")}
 */
record Backlog(long oldestMs, boolean complete, Map<RootTally.Key, RootTally> roots) {

    /** Tallies the events read from the events topic. */
    static Backlog tally(List<ConsumerRecord<byte[], byte[]>> events, boolean complete, AvroCodec<FileEvent> codec) {
        Map<RootTally.Key, RootTally> roots = new HashMap<>();
        long oldest = Long.MAX_VALUE;
        for (ConsumerRecord<byte[], byte[]> r : events) {
            oldest = Math.min(oldest, r.timestamp());
            RootTally.Key key;
            try {
                FileEvent ev = codec.decode(r.value());
                key = new RootTally.Key(ev.getHostId(), ev.getRootId());
            } catch (UndecodableRecordException e) {
                key = new RootTally.Key("?", "?"); // the worker sends these to the DLQ; they still count as lag
            }
            roots.computeIfAbsent(key, k -> new RootTally()).unconsumed(r.timestamp());
        }
        return new Backlog(oldest, complete, roots);
    }
}
