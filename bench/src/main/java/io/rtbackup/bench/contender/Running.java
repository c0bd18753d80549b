package io.rtbackup.bench.contender;

import java.util.OptionalDouble;

/** A started contender, ready (its initial sync done) when {@link Contender#start} returned. */
public interface Running extends AutoCloseable {

    /** The process whose memory and CPU are reported. */
    long measuredPid();

    /** What that process contains, for the table's notes. */
    String measuredWhat();

    /** System.nanoTime() when the process was launched. */
    long startedNanos();

    /** When it was watching for changes (capture running / all inotify watches added). */
    long watchingNanos();

    /** When its initial sync of the source had finished. */
    long readyNanos();

    /** Change events it captured and published, where it tells (rtbackup's metrics). */
    OptionalDouble eventsPublished();

    /** A counter or histogram sum/count from its metrics endpoint (summed over labels), where it has one. */
    default OptionalDouble metric(String name) {
        return OptionalDouble.empty();
    }

    @Override
    void close();
}
