package io.rtbackup.bench.contender;

import java.io.IOException;

/** A replication tool under test: rtbackup or lsyncd. */
public sealed interface Contender permits RtbUp, RtbSplit, Lsyncd {

    /** Column heading in the tables. */
    String label();

    /** Short id for file names. */
    String id();

    /** Launches it on the site and returns once its initial sync is done. */
    Running start(Site site) throws IOException;

    /** True for rtbackup (the numerator of the ratios). */
    default boolean isRtbackup() {
        return !(this instanceof Lsyncd);
    }
}
