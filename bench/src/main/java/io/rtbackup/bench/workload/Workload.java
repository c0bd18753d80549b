package io.rtbackup.bench.workload;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.report.Measure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * One benchmark: builds a source tree once, then for each contender (started fresh on a replica pre-seeded to
 * equal the source) applies the same changes and measures. The metric names are the table's rows.
 */
public interface Workload {

    /** Short id (command-line selection and file names). */
    String id();

    String title();

    /** What the workload does, printed above its table. */
    String description();

    /** Creates the source tree in {@code src} (exists, empty). */
    void prepare(Path src) throws IOException;

    /** Puts the source back to its prepared layout before the next contender (after moves). */
    default void reset(Path src) throws IOException {
    }

    /** Directories in the source (root included), for lsyncd's watch count; 0 when not needed. */
    default int expectedDirs() {
        return 0;
    }

    /** Whether this contender takes part. */
    boolean includes(Contender c);

    Map<String, Measure> measure(Contender c, Site site, DaemonLog daemonLog) throws IOException;
}
