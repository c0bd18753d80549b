package io.rtbackup.process;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production {@link FatalErrorHandler}: logs the error with its component, then ends the JVM with
 * {@link #EXIT_SOFTWARE} through {@link Runtime#exit} (shutdown hooks run, so consumers commit and capture
 * stops cleanly), and halts it if those hooks have not finished within the grace period. Only the first report
 * acts; later ones are logged.
 *
 * <p>The exit runs on a thread of its own: the reporting thread is often one that a shutdown hook waits for,
 * and {@code Runtime.exit} on it would never return.
 */
public final class ExitingFatalErrorHandler implements FatalErrorHandler {

    private static final Logger log = LoggerFactory.getLogger(ExitingFatalErrorHandler.class);

    /** {@code EX_SOFTWARE} from sysexits.h: an internal error. */
    public static final int EXIT_SOFTWARE = 70;

    private final String process;
    private final Duration grace;
    private final IntConsumer exit;
    private final IntConsumer halt;
    private final AtomicBoolean fired = new AtomicBoolean();

    /**
     * @param process names the process in the log, e.g. {@code "rtb agent"}
     * @param grace   how long shutdown hooks may take before the JVM is halted
     * @param exit    ends the JVM running shutdown hooks ({@code Runtime.getRuntime()::exit} in production)
     * @param halt    ends it at once ({@code Runtime.getRuntime()::halt} in production)
     */
    public ExitingFatalErrorHandler(String process, Duration grace, IntConsumer exit, IntConsumer halt) {
        this.process = Objects.requireNonNull(process);
        this.grace = Objects.requireNonNull(grace);
        this.exit = Objects.requireNonNull(exit);
        this.halt = Objects.requireNonNull(halt);
    }

    /** For the running JVM: {@link Runtime#exit}, then {@link Runtime#halt} after {@code grace}. */
    public static ExitingFatalErrorHandler forThisJvm(String process, Duration grace) {
        Runtime rt = Runtime.getRuntime();
        return new ExitingFatalErrorHandler(process, grace, rt::exit, rt::halt);
    }

    @Override
    public void fatal(String component, Throwable cause) {
        if (!fired.compareAndSet(false, true)) {
            log.error("{}: {} also failed while the process is already ending", process, component, cause);
            return;
        }
        log.error("{}: {} failed and cannot recover; ending the process with status {} so that it is restarted",
            process, component, EXIT_SOFTWARE, cause);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(grace.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            log.error("{}: shutdown did not finish within {} s; halting", process, grace.toSeconds());
            halt.accept(EXIT_SOFTWARE);
        }, "rtb-fatal-halt");
        watchdog.setDaemon(true); // must not itself keep the JVM alive once the exit completed
        watchdog.start();
        Thread exiter = new Thread(() -> exit.accept(EXIT_SOFTWARE), "rtb-fatal-exit");
        exiter.start();
    }

    /** True once an error was reported. */
    public boolean fired() {
        return fired.get();
    }
}
