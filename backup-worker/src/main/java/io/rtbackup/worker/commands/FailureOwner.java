package io.rtbackup.worker.commands;

import io.rtbackup.schema.SyncResult;
import java.util.Set;

/**
 * Whose fault a FAILED result is: the destination's (it counts towards the destination's breaker) or the source
 * host's (its own backoff, see {@code HostQuarantine}). Silence (no result at all) is always the host's: a
 * destination that is down still lets the agents answer, with the rsync exit codes below.
 */
public enum FailureOwner {
    HOST,
    DESTINATION;

    /**
     * rsync exit codes that report the other end or the way to it (see the agent's {@code RsyncExit}): 5 the daemon
     * refused the session (authentication, unknown module), 10 socket I/O (refused, unreachable), 11 file I/O (on
     * the receiver: a failed mkdir, a full disk), 12 the protocol stream broke (the daemon died, disk full on the
     * receiver), 30 timeout in data send/receive, 35 timeout waiting for the daemon connection.
     */
    private static final Set<Integer> DESTINATION_EXIT_CODES = Set.of(5, 10, 11, 12, 30, 35);

    /**
     * The owner of a FAILED result. Exit code -1 means rsync did not run or was stopped by the agent (the command
     * expired or was not authenticated, the root could not be opened, rsync could not start, the agent's command
     * timeout or its stall watch killed it): the host's. Any other exit code not listed above is the local rsync's (usage, selecting
     * source files, IPC, memory): the host's too.
     */
    public static FailureOwner of(SyncResult failed) {
        return DESTINATION_EXIT_CODES.contains(failed.getExitCode()) ? DESTINATION : HOST;
    }
}
