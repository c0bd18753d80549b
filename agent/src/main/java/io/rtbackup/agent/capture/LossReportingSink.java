package io.rtbackup.agent.capture;

import io.rtbackup.fs.BytePaths;
import io.rtbackup.process.FatalErrorHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink a capture source actually delivers into: it passes each change on, and when the downstream sink
 * throws on one, the change is lost, so it reports an {@link RawChange.Overflow} of the directory the change
 * happened in (a rescan covering it) to the same sink. When that report is rejected too, or the rejected change
 * was itself a loss report, nothing inside the process can cover the loss: the {@link FatalErrorHandler} ends it
 * (the next start-up rescan does), and this sink takes nothing more.
 *
 * <p>Sources wrap the sink they are started with in one of these, so a reader thread never dies from, or
 * silently drops, a change that downstream could not take.
 */
public final class LossReportingSink implements ChangeSink {

    private static final Logger log = LoggerFactory.getLogger(LossReportingSink.class);

    private final String source;
    private final ChangeSink downstream;
    private final FatalErrorHandler fatal;
    private volatile boolean failed;

    /** @param source the source's name, for the logs */
    public LossReportingSink(String source, ChangeSink downstream, FatalErrorHandler fatal) {
        this.source = source;
        this.downstream = downstream;
        this.fatal = fatal;
    }

    @Override
    public void accept(RawChange change) {
        if (failed) return; // the process is ending; its successor's start-up rescan covers this
        try {
            downstream.accept(change);
            return;
        } catch (RuntimeException e) {
            if (change instanceof RawChange.Overflow || change instanceof RawChange.Rescan) {
                giveUp("a rescan request: " + show(change), e);
                return;
            }
            log.error("{} capture: the pipeline rejected {}; requesting a rescan of {} instead", source,
                    show(change), BytePaths.show(scope(change)), e);
        }
        try {
            downstream.accept(new RawChange.Overflow(scope(change), 1, change.timeNs()));
        } catch (RuntimeException e) {
            giveUp("the rescan covering " + show(change), e);
        }
    }

    private void giveUp(String what, RuntimeException e) {
        failed = true;
        fatal.fatal(source + " capture: the pipeline rejected " + what, e);
    }

    /** The directory whose rescan covers {@code change}: where it happened (both places for a rename). */
    static byte[] scope(RawChange change) {
        if (change instanceof RawChange.PathChange c) return BytePaths.parent(c.path());
        if (change instanceof RawChange.Rename r) {
            return commonAncestor(BytePaths.parent(r.from()), BytePaths.parent(r.to()));
        }
        if (change instanceof RawChange.Rescan r) return r.path();
        return ((RawChange.Overflow) change).scope();
    }

    /** For logs: byte paths shown readably (a record's own toString shows array identities). */
    static String show(RawChange change) {
        if (change instanceof RawChange.PathChange c) return c.op() + " " + BytePaths.show(c.path());
        if (change instanceof RawChange.Rename r) {
            return "rename " + BytePaths.show(r.from()) + " -> " + BytePaths.show(r.to());
        }
        if (change instanceof RawChange.Rescan r) return "rescan of " + BytePaths.show(r.path());
        RawChange.Overflow o = (RawChange.Overflow) change;
        return "overflow of " + (o.scope() == null ? "every root" : BytePaths.show(o.scope()));
    }

    private static byte[] commonAncestor(byte[] a, byte[] b) {
        byte[] dir = a;
        while (!BytePaths.startsWith(b, dir)) {
            byte[] up = BytePaths.parent(dir);
            if (up.length == dir.length) return up; // "/" or "": the top
            dir = up;
        }
        return dir;
    }
}
