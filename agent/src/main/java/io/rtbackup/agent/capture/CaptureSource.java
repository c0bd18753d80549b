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

    /**
     * Changes the watched roots of the running source to {@code roots} (a root was paused or resumed), in place.
     * Changes in roots that stay watched may go unreported while it runs; the caller covers them with a rescan.
     *
     * @return false when this source cannot change its roots while running (the default): the caller then starts a
     *     new source on {@code roots} before it closes this one, so nothing goes unwatched in between
     * @throws CaptureUnavailableException when the new roots could not be set; the source may then watch nothing
     */
    default boolean retarget(List<WatchedRoot> roots) throws CaptureUnavailableException {
        return false;
    }

    /** Stops the reader and releases kernel resources. Idempotent. */
    @Override
    void close();
}
