package io.rtbackup.agent.rsync;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local rsync must be at least {@value #MINIMUM}: runs use {@code --mkpath} ({@link RsyncArgs#mkpath()}),
 * which arrived in 3.2.3. The same minimum holds for destination daemons, which only a run can find out.
 */
public final class RsyncVersion {
    public static final String MINIMUM = "3.2.3";
    private static final int MINIMUM_NUMBER = 30203;
    private static final Pattern VERSION = Pattern.compile("version\\s+(\\d+)\\.(\\d+)\\.(\\d+)");
    private static final Duration LIMIT = Duration.ofSeconds(10);

    private RsyncVersion() {
    }

    /**
     * Runs {@code <rsyncPath> --version}; fails with a message that says what to do unless it runs, looks like
     * rsync and is new enough.
     *
     * @throws IllegalStateException when it is not usable
     */
    public static void check(String rsyncPath) {
        RsyncResult r;
        try (RsyncLauncher launcher = new RsyncLauncher()) {
            r = launcher.run("rsync-version", List.of(rsyncPath, "--version"), Map.of("LC_ALL", "C"),
                RsyncStdin.NONE, LIMIT, 4096);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run '" + rsyncPath + "': " + e.getMessage()
                + "; install rsync >= " + MINIMUM + " or set rsync.path", e);
        }
        switch (r.ending()) {
            case TIMED_OUT -> throw new IllegalStateException("'" + rsyncPath + " --version' did not finish within "
                + LIMIT.toSeconds() + " s");
            case INTERRUPTED -> throw new IllegalStateException("interrupted while checking the rsync version");
            case EXITED -> {
            }
        }
        String out = r.stdoutText();
        Matcher m = VERSION.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("'" + rsyncPath + " --version' does not look like rsync: "
                + out.lines().findFirst().orElse(r.stderrTail().isEmpty() ? "" : r.stderrTail().get(0)));
        }
        int v = Integer.parseInt(m.group(1)) * 10000 + Integer.parseInt(m.group(2)) * 100 + Integer.parseInt(m.group(3));
        if (v < MINIMUM_NUMBER) {
            throw new IllegalStateException("rsync " + m.group(1) + "." + m.group(2) + "." + m.group(3) + " at '"
                + rsyncPath + "' is too old: the executor needs >= " + MINIMUM + " (--mkpath); upgrade it or set "
                + "rsync.path");
        }
    }
}
