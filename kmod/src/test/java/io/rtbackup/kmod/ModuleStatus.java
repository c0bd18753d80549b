package io.rtbackup.kmod;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One reading of {@code /sys/module/rtbackup/parameters/status} (the module's counters, readable while the agent
 * holds the device), as the guest printed it.
 */
record ModuleStatus(long delivered, long ringUsed, int enabled, int roots, int marks) {
    private static final Pattern LINE = Pattern.compile(
            "delivered=(\\d+) dropped=\\d+ ring_used=(\\d+) enabled=(\\d+) roots=(\\d+) marks=(\\d+)");

    static ModuleStatus parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.find()) throw new AssertionError("not the module's status: " + line);
        return new ModuleStatus(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
                Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)));
    }

    /** The hook is off: no root, no mark, nothing waiting to be read. */
    boolean off() {
        return enabled == 0 && roots == 0 && marks == 0 && ringUsed == 0;
    }
}
