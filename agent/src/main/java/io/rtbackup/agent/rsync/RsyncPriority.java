package io.rtbackup.agent.rsync;

import io.rtbackup.agent.config.TransferTuning.IoPriority;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU and I/O priority an rsync run gets. {@link #LOW} is for background work that may take as long as it
 * needs (periodic reconciliation): the process is started through {@code nice -n 19} (coreutils) and
 * {@code ionice -c3} (util-linux, the idle I/O class, allowed without privileges), both of which exec rsync in
 * place, so the launcher's process is still rsync's and killing its tree still reaches every rsync process.
 */
public enum RsyncPriority {
    /** As the agent runs: replication of captured changes. */
    NORMAL,
    /** Lowest CPU niceness and the idle I/O class. */
    LOW;

    /** The lowest {@link Niceness}: what {@link #LOW} puts before a run, written by the one rule for the words. */
    private static final Niceness LOWEST = new Niceness(19, IoPriority.IDLE);

    /** The command line that runs {@code args} (binary first) at this priority. */
    public List<String> command(List<String> args) {
        if (this == NORMAL) return args;
        List<String> cmd = new ArrayList<>(LOWEST.prefix());
        cmd.addAll(args);
        return cmd;
    }
}
