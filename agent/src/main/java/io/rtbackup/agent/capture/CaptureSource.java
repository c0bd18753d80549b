package io.rtbackup.agent.capture;

import java.util.List;

/**
 * One way of learning that files changed (kernel module, fanotify, inotify, a scan).
 *
 * <p>A source only reports <em>absolute</em> byte paths; mapping them onto configured roots, excludes,
 * merging and publishing happen downstream, the same for every source. A source owns its reader thread and
 * must keep the kernel queue drained: when it cannot keep up it reports an {@link RawChange.Overflow} rather
 * than blocking the kernel or dropping silently.
 */
public interface CaptureSource extends AutoCloseable {

    /** Short name used in config and logs: {@code kmod}, {@code fanotify}, {@code inotify}, {@code scan}. */
    String name();

    /** The value written into {@code FileEvent.source}. */
    io.rtbackup.schema.CaptureSource kind();

    /**
     * Starts watching {@code roots} and delivering changes to {@code sink} from a thread owned by this source.
     *
     * @throws CaptureUnavailableException when this source cannot run on this host (device absent, kernel too
     *     old, missing capability); auto-selection then tries the next source.
     */
    void start(List<WatchedRoot> roots, ChangeSink sink) throws CaptureUnavailableException;

    /** Stops the reader and releases kernel resources. Idempotent. */
    @Override
    void close();
}
