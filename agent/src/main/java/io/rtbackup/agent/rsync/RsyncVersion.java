package io.rtbackup.agent.rsync;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the local rsync may run: the one place for the rules on its version.
 * <ul>
 *   <li>At least {@value #MINIMUM}: runs use {@code --mkpath} ({@link RsyncArgs#mkpath()}), which arrived in
 *   3.2.3. The same minimum holds for destination daemons, which only a run can find out. No setting waives it.</li>
 *   <li>The fixes of January 2025 ({@value #CVES}): a malicious daemon or peer could read the agent's memory,
 *   write outside the destination or leak files through symlinks. Upstream fixed them in {@value #SECURE}; an
 *   older version number is accepted only when the distribution's package manager shows that its package
 *   installed this very binary and is at least the first build carrying the fixes ({@link #PATCHED_BUILDS}; on
 *   Debian 12 {@code 3.2.7-1+deb12u1}). Otherwise the start is refused, saying why and what to do; an operator who
 *   knows the build is patched sets {@code rsync.allow-unpatched=true}, which is logged as a warning at every
 *   start.</li>
 * </ul>
 */
public final class RsyncVersion {
    private static final Logger log = LoggerFactory.getLogger(RsyncVersion.class);
    public static final String MINIMUM = "3.2.3";
    /** The first upstream release with the January 2025 security fixes. */
    public static final String SECURE = "3.4.0";
    static final String CVES = "CVE-2024-12084, CVE-2024-12085, CVE-2024-12086, CVE-2024-12087, CVE-2024-12088, "
        + "CVE-2024-12747";
    /**
     * Distribution builds with an older upstream version that carry the fixes: upstream version -> first fixed
     * package version. Debian 12: the security upload 3.2.7-1+deb12u1, whose changelog lists CVE-2024-12084 to
     * CVE-2024-12088 and CVE-2024-12747.
     */
    static final Map<String, String> PATCHED_BUILDS = Map.of("3.2.7", "3.2.7-1+deb12u1");
    private static final Pattern VERSION = Pattern.compile("version\\s+(\\d+)\\.(\\d+)\\.(\\d+)");
    private static final Duration LIMIT = Duration.ofSeconds(10);

    private RsyncVersion() {
    }

    /** What {@link #judge} decided; {@code text} says why (and, when refused, what to do). */
    public record Verdict(Kind kind, String text) {
        public enum Kind { ACCEPTED, ACCEPTED_UNPATCHED, REFUSED }
    }

    /** {@link #check(String, boolean, RsyncPackage)} without the opt-out, asking dpkg. */
    public static void check(String rsyncPath) {
        check(rsyncPath, false, new DpkgRsyncPackage());
    }

    /**
     * Runs {@code <rsyncPath> --version} and applies the rules; fails with a message that says what to do unless
     * it runs, looks like rsync and is acceptable. An accepted unpatched rsync is logged as a warning.
     *
     * @param allowUnpatched {@code rsync.allow-unpatched}
     * @throws IllegalStateException when it is not usable
     */
    public static void check(String rsyncPath, boolean allowUnpatched, RsyncPackage distribution) {
        RsyncResult r;
        try (RsyncLauncher launcher = new RsyncLauncher()) {
            r = launcher.run("rsync-version", List.of(rsyncPath, "--version"), Map.of("LC_ALL", "C"),
                RsyncStdin.NONE, LIMIT, 4096);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run '" + rsyncPath + "': " + e.getMessage()
                + "; install rsync >= " + MINIMUM + " (>= " + SECURE + " or a patched distribution build) or set "
                + "rsync.path", e);
        }
        switch (r.ending()) {
            case TIMED_OUT, STALLED -> throw new IllegalStateException("'" + rsyncPath + " --version' did not finish within "
                + LIMIT.toSeconds() + " s");
            case INTERRUPTED -> throw new IllegalStateException("interrupted while checking the rsync version");
            case EXITED -> {
            }
        }
        String out = r.stdoutText();
        if (!VERSION.matcher(out).find()) {
            throw new IllegalStateException("'" + rsyncPath + " --version' does not look like rsync: "
                + out.lines().findFirst().orElse(r.stderrTail().isEmpty() ? "" : r.stderrTail().get(0)));
        }
        Verdict v = judge(rsyncPath, out, resolve(rsyncPath), distribution, allowUnpatched);
        switch (v.kind()) {
            case REFUSED -> throw new IllegalStateException(v.text());
            case ACCEPTED_UNPATCHED -> log.warn("SECURITY: {}", v.text());
            case ACCEPTED -> log.info("{}", v.text());
        }
    }

    /**
     * The decision, from what {@code rsync --version} printed, the binary's real path (empty when it cannot be
     * found) and the distribution's answers.
     */
    public static Verdict judge(String rsyncPath, String versionOutput, Optional<Path> binary,
            RsyncPackage distribution, boolean allowUnpatched) {
        Matcher m = VERSION.matcher(versionOutput);
        if (!m.find()) {
            return new Verdict(Verdict.Kind.REFUSED, "'" + rsyncPath + " --version' does not look like rsync");
        }
        String version = m.group(1) + "." + m.group(2) + "." + m.group(3);
        int number = number(m.group(1), m.group(2), m.group(3));
        String where = "rsync " + version + " at '" + rsyncPath + "'";
        if (number < number(MINIMUM)) {
            return new Verdict(Verdict.Kind.REFUSED, where + " is too old: the executor needs >= " + MINIMUM
                + " (--mkpath); upgrade it or set rsync.path");
        }
        if (number >= number(SECURE)) {
            return new Verdict(Verdict.Kind.ACCEPTED, where + " (>= " + SECURE + ", with the January 2025 fixes)");
        }
        String floor = PATCHED_BUILDS.get(version);
        Optional<String> pkg = binary.flatMap(distribution::versionOwning);
        String why;
        if (pkg.isEmpty()) {
            why = "no distribution package is known to have installed " + binary.map(Path::toString).orElse(rsyncPath)
                + ", so nothing shows that this build carries them";
        } else if (!upstreamOf(pkg.get()).equals(version) && !upstreamOf(pkg.get()).startsWith(version + "+")) {
            why = "the binary reports " + version + " but the installed rsync package is " + pkg.get()
                + ", so it is not that package's build";
        } else if (floor == null) {
            why = "rsync package " + pkg.get() + " is not a build known to carry them (known: "
                + PATCHED_BUILDS.values() + " and later)";
        } else if (!distribution.atLeast(pkg.get(), floor)) {
            why = "rsync package " + pkg.get() + " is older than " + floor + ", the first build carrying them";
        } else {
            return new Verdict(Verdict.Kind.ACCEPTED, where + " (package " + pkg.get() + " >= " + floor
                + ", which carries the January 2025 fixes)");
        }
        String risk = where + " may lack the security fixes of January 2025 (" + CVES + ": a malicious daemon or "
            + "peer could read memory, write outside the destination or leak files); upstream fixed them in "
            + SECURE + ", and " + why;
        if (allowUnpatched) {
            return new Verdict(Verdict.Kind.ACCEPTED_UNPATCHED, risk + ". Running it anyway because "
                + "rsync.allow-unpatched=true.");
        }
        return new Verdict(Verdict.Kind.REFUSED, risk + ". Upgrade rsync to >= " + SECURE + " or to your "
            + "distribution's patched package (Debian 12: apt-get install --only-upgrade rsync, giving >= "
            + PATCHED_BUILDS.get("3.2.7") + "), or point rsync.path at such a build; if you know this build carries "
            + "the fixes, set rsync.allow-unpatched=true in the agent config.");
    }

    /** The upstream part of a Debian package version: no epoch, no Debian revision. */
    static String upstreamOf(String packageVersion) {
        String v = packageVersion.substring(packageVersion.indexOf(':') + 1);
        int dash = v.lastIndexOf('-');
        return dash < 0 ? v : v.substring(0, dash);
    }

    /** The binary that {@code rsyncPath} starts, links resolved: a bare name is looked up on PATH as exec does. */
    static Optional<Path> resolve(String rsyncPath) {
        try {
            if (rsyncPath.contains("/")) return Optional.of(Path.of(rsyncPath).toRealPath());
            String path = System.getenv("PATH");
            if (path == null) return Optional.empty();
            for (String dir : path.split(File.pathSeparator)) {
                if (dir.isEmpty()) continue;
                Path candidate = Path.of(dir, rsyncPath);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate.toRealPath());
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // judged as "no package owns it": refused unless allowed
        }
    }

    private static int number(String version) {
        String[] p = version.split("\\.");
        return number(p[0], p[1], p[2]);
    }

    private static int number(String major, String minor, String patch) {
        return Integer.parseInt(major) * 10000 + Integer.parseInt(minor) * 100 + Integer.parseInt(patch);
    }
}
