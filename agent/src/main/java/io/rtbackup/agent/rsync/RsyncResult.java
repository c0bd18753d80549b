package io.rtbackup.agent.rsync;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * How one rsync process ended and what it printed. {@code exitCode} is rsync's exit code when it
 * {@link Ending#EXITED}, -1 otherwise. {@code stdout} is raw (up to the limit the caller set), {@code stdoutTail} its
 * last {@link RsyncLauncher#STDOUT_TAIL_BYTES} bytes, {@code deletionLines} how many of its lines start with
 * {@code "deleting "} (names in them are escaped, see {@link RsyncEndpoint}); {@code stderr} is its
 * beginning (up to {@link RsyncLauncher#STDERR_HEAD_CHARS} characters, every byte one ISO-8859-1 character) and
 * {@code stderrTail} its last non-blank lines (up to {@link RsyncLauncher#STDERR_TAIL_LINES}), where rsync's
 * summary of a failure is.
 */
public record RsyncResult(Ending ending, int exitCode, byte[] stdout, byte[] stdoutTail, long deletionLines,
        String stderr, List<String> stderrTail, Duration timeout) {
    /** Longest stderr excerpt in an error message, counted from its end. */
    static final int ERROR_MAX_CHARS = 2000;

    /** Why the process is gone. */
    public enum Ending {
        /** rsync exited by itself (whatever its exit code). */
        EXITED,
        /** The caller's time limit passed; the process tree was killed. */
        TIMED_OUT,
        /**
         * No data moved for the run's {@code --timeout} ({@code timeout} then holds that limit), only keep-alives:
         * the far end stopped answering or rsync deadlocked ({@link RsyncStallWatch}); the process tree was killed.
         */
        STALLED,
        /** The waiting thread was interrupted, or the launcher closed; the process tree was killed. */
        INTERRUPTED
    }

    public RsyncResult {
        stderrTail = List.copyOf(stderrTail);
    }

    /** Exited with 0. */
    public boolean ok() {
        return ending == Ending.EXITED && exitCode == 0;
    }

    /**
     * What stderr says about single files, for a push from {@code sourceRoot} ({@link RsyncFileErrors}); a stderr
     * longer than the launcher keeps counts as incomplete.
     */
    public RsyncFileErrors fileErrors(String sourceRoot) {
        return RsyncFileErrors.ofPush(stderr, stderr.length() < RsyncLauncher.STDERR_HEAD_CHARS, sourceRoot);
    }

    /** stdout as text, one character per byte (file names in it are escaped in the C locale anyway). */
    public String stdoutText() {
        return new String(stdout, StandardCharsets.ISO_8859_1);
    }

    /**
     * The {@code --stats} summary at the end of stdout (zeros for what is absent), its deleted count corrected by
     * the deletion lines of {@code --info=del1}: pushing to a daemon, rsync 3.2.7's client reports
     * "Number of deleted files: 0" although the daemon deleted and the client printed each deletion.
     */
    public RsyncStats stats() {
        RsyncStats s = RsyncStats.parse(new String(stdoutTail, StandardCharsets.ISO_8859_1));
        return s.filesDeleted() >= deletionLines ? s : s.withFilesDeleted(deletionLines);
    }

    /**
     * What went wrong, in one line: {@code rsync exit N (meaning)}, or that it was killed, followed by rsync's last
     * stderr lines; for a run that succeeded, {@code rsync exit 0 (success)}.
     */
    public String problem() {
        String what = switch (ending) {
            case EXITED -> "rsync exit " + exitCode + " (" + RsyncExit.describe(exitCode) + ")";
            case TIMED_OUT -> "rsync did not finish within " + timeout.toSeconds() + " s; killed";
            case STALLED -> stalledProblem();
            case INTERRUPTED -> "interrupted; rsync killed";
        };
        return what + tailSuffix();
    }

    /** The problem of a {@link Ending#STALLED} run, without rsync's stderr lines. */
    public String stalledProblem() {
        return "rsync moved no data for " + timeout.toSeconds() + " s (its --timeout), only keep-alives: the far end "
            + "stopped answering or rsync deadlocked; killed";
    }

    /** {@code ": line | line ..."} of rsync's last stderr lines (at most the last 2000 characters), or "". */
    public String tailSuffix() {
        if (stderrTail.isEmpty()) return "";
        String joined = String.join(" | ", stderrTail);
        if (joined.length() > ERROR_MAX_CHARS) joined = "..." + joined.substring(joined.length() - ERROR_MAX_CHARS);
        return ": " + joined;
    }
}
