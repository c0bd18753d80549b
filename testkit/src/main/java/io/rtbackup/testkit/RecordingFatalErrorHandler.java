package io.rtbackup.testkit;

import io.rtbackup.process.FatalErrorHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link FatalErrorHandler} for tests: records each report instead of ending the JVM, so a test can assert
 * that a component gave up (or that none did).
 */
public final class RecordingFatalErrorHandler implements FatalErrorHandler {

    /** One report. */
    public record Report(String component, Throwable cause) {
        @Override
        public String toString() {
            return component + ": " + cause;
        }
    }

    private final List<Report> reports = new CopyOnWriteArrayList<>();

    @Override
    public void fatal(String component, Throwable cause) {
        reports.add(new Report(component, cause));
    }

    /** Every report so far, oldest first. */
    public List<Report> reports() {
        return List.copyOf(reports);
    }

    /** Throws when anything was reported: for tests in which no component may give up. */
    public void assertNone() {
        if (!reports.isEmpty()) {
            AssertionError e = new AssertionError("fatal errors reported: " + reports);
            reports.forEach(r -> e.addSuppressed(r.cause()));
            throw e;
        }
    }
}
