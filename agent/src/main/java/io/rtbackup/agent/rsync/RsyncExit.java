package io.rtbackup.agent.rsync;

import io.rtbackup.schema.SyncOutcome;

/**
 * What rsync's exit codes mean (from its manual) and which of them callers treat specially: a transfer that
 * left some files behind is {@link SyncOutcome#PARTIAL}, anything else non-zero {@link SyncOutcome#FAILED}.
 */
public final class RsyncExit {
    /** Some files could not be transferred; the rest arrived. */
    public static final int PARTIAL_TRANSFER = 23;
    /** Source files vanished while rsync ran; the rest arrived. */
    public static final int VANISHED_SOURCE = 24;
    /** Error in file I/O (also a failed mkdir on the receiver). */
    public static final int FILE_IO = 11;

    private RsyncExit() {
    }

    /** 0 is OK, 23 and 24 (some files did not arrive) are PARTIAL, every other code FAILED. */
    public static SyncOutcome outcome(int exitCode) {
        if (exitCode == 0) return SyncOutcome.OK;
        if (exitCode == PARTIAL_TRANSFER || exitCode == VANISHED_SOURCE) return SyncOutcome.PARTIAL;
        return SyncOutcome.FAILED;
    }

    /** The meaning of an exit code, for messages. */
    public static String describe(int code) {
        return switch (code) {
            case 0 -> "success";
            case 1 -> "syntax or usage error";
            case 2 -> "protocol incompatibility";
            case 3 -> "errors selecting input/output files, dirs";
            case 4 -> "requested action not supported";
            case 5 -> "error starting client-server protocol; e.g. authentication failed or unknown module";
            case 6 -> "daemon unable to append to log-file";
            case 10 -> "error in socket I/O; is the destination daemon reachable?";
            case 11 -> "error in file I/O";
            case 12 -> "error in rsync protocol data stream";
            case 13 -> "errors with program diagnostics";
            case 14 -> "error in IPC code";
            case 20 -> "received SIGUSR1 or SIGINT";
            case 21 -> "some error returned by waitpid()";
            case 22 -> "error allocating core memory buffers";
            case 23 -> "partial transfer due to error";
            case 24 -> "partial transfer due to vanished source files";
            case 25 -> "the --max-delete limit stopped deletions";
            case 30 -> "timeout in data send/receive";
            case 35 -> "timeout waiting for daemon connection";
            default -> "unknown exit code";
        };
    }

    /**
     * {@code --mkpath} lost a race: another rsync created the same directory between this one's check and its
     * mkdir (EEXIST, exit 11). Running again settles it.
     */
    public static boolean isMkpathRace(int exitCode, String stderr) {
        return exitCode == FILE_IO && stderr.contains("mkdir") && stderr.contains("File exists (17)");
    }

    /**
     * The source directory asked for does not exist (exit 23 with ENOENT): for a pull from a destination, nothing
     * was synced or kept there yet.
     */
    public static boolean isMissingSource(int exitCode, String stderr) {
        return exitCode == PARTIAL_TRANSFER && stderr.contains("No such file or directory");
    }
}
