package io.rtbackup.process;

/**
 * What a component does when it hits an error it can neither retry nor turn into a rescan: it hands the error
 * here and stops its own work. In production the process then ends non-zero and systemd or Kubernetes starts a
 * fresh one, whose start-up (rescan, committed offsets) covers what was in flight; a half-dead process that keeps
 * running would instead lose work silently.
 *
 * <p>The rule for every {@code catch} in rtbackup: retry, turn the loss into a rescan, or call this.
 */
@FunctionalInterface
public interface FatalErrorHandler {

    /**
     * Reports an unrecoverable error. Returns (the exit happens on another thread), so the caller must stop
     * what it was doing after calling this.
     *
     * @param component who failed, e.g. {@code "command executor of host h1"}
     * @param cause     what went wrong
     */
    void fatal(String component, Throwable cause);

    /** A thread body that reports any exception escaping {@code body} as fatal for {@code component}. */
    default Runnable guard(String component, Runnable body) {
        return () -> {
            try {
                body.run();
            } catch (RuntimeException | Error e) {
                fatal(component, e);
            }
        };
    }
}
