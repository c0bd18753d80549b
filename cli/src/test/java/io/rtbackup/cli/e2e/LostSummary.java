package io.rtbackup.cli.e2e;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The "nothing is lost" suite's tally, printed once when the test run ends: scenarios run, file-system operations
 * applied, faults injected, bad records tried, differences found. Any test class of the suite registers this
 * extension; the tally lives in the root context's store, so JUnit closes it (and prints it) after the last class.
 */
final class LostSummary implements BeforeAllCallback {
    static final AtomicLong SCENARIOS = new AtomicLong();
    static final AtomicLong OPERATIONS = new AtomicLong();
    static final AtomicLong FAULTS = new AtomicLong();
    static final AtomicLong BAD_RECORDS = new AtomicLong();
    static final AtomicLong DIFFERENCES = new AtomicLong();
    static final long STARTED = System.nanoTime();

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
            .getOrComputeIfAbsent(LostSummary.class.getName(), k -> new Printer(), Printer.class);
    }

    static String line() {
        return String.format("nothing-lost summary: %d scenarios run, %d operations applied, %d faults injected, "
                + "%d bad records tried, %d differences found (must be 0), %d s", SCENARIOS.get(), OPERATIONS.get(),
            FAULTS.get(), BAD_RECORDS.get(), DIFFERENCES.get(), (System.nanoTime() - STARTED) / 1_000_000_000L);
    }

    private static final class Printer implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            System.out.println(line());
        }
    }
}
