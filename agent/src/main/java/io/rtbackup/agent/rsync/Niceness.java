package io.rtbackup.agent.rsync;

import io.rtbackup.agent.config.TransferTuning.IoClass;
import io.rtbackup.agent.config.TransferTuning.IoPriority;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU and I/O priority an rsync process runs at, as the words that go before the rsync binary in its argument
 * list: {@code nice -n N} (coreutils) when {@code nice > 0}, then {@code ionice -c CLASS [-n LEVEL]} (util-linux)
 * unless the I/O class is left alone. Both programs set the priority and exec the next word, so the process that
 * {@link RsyncLauncher} starts, waits for and kills is rsync itself. Priorities pass to everything rsync forks (a
 * local copy's receiver and generator, the {@code ssh} client), never to the far end.
 */
public record Niceness(int nice, IoPriority io) {
    /** The agent's own priorities: no prefix. */
    public static final Niceness UNCHANGED = new Niceness(0, IoPriority.UNCHANGED);

    public Niceness {
        if (nice < 0 || nice > 19) throw new IllegalArgumentException("nice " + nice + " outside 0-19");
    }

    /** The words before the binary; empty when nothing changes. */
    public List<String> prefix() {
        List<String> words = new ArrayList<>();
        if (nice > 0) words.addAll(List.of("nice", "-n", Integer.toString(nice)));
        if (io.ioClass() != IoClass.NONE) {
            words.addAll(List.of("ionice", "-c", Integer.toString(io.ioClass().number())));
            io.level().ifPresent(l -> words.addAll(List.of("-n", Integer.toString(l))));
        }
        return List.copyOf(words);
    }
}
