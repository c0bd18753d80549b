package io.rtbackup.agent.rsync;

import io.rtbackup.agent.rsync.RsyncResult.Ending;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link RsyncPackage} answered by dpkg (Debian, Ubuntu and their derivatives): {@code dpkg -S} for the owner of
 * the binary, {@code dpkg-query} for the installed version and {@code dpkg --compare-versions} for the ordering
 * (Debian version ordering has rules of its own, so dpkg is asked rather than imitated). A host without dpkg, or a
 * query that fails or times out, answers "no package", which {@link RsyncVersion} treats as "not shown patched".
 */
public final class DpkgRsyncPackage implements RsyncPackage {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static final String PACKAGE = "rsync";

    @Override
    public Optional<String> versionOwning(Path binary) {
        Optional<String> owners = run(List.of("dpkg", "-S", binary.toString()));
        if (owners.isEmpty() || !ownedByRsync(owners.get(), binary.toString())) return Optional.empty();
        return run(List.of("dpkg-query", "-W", "-f=${Version}", PACKAGE)).map(String::trim).filter(v -> !v.isEmpty());
    }

    /** {@code dpkg -S} prints {@code package[:arch][, package...]: path} per match; diversion lines differ. */
    static boolean ownedByRsync(String dpkgOutput, String path) {
        return dpkgOutput.lines().anyMatch(line -> {
            if (!line.endsWith(": " + path)) return false;
            String packages = line.substring(0, line.length() - path.length() - 2);
            return List.of(packages.split(",\\s*")).stream()
                .anyMatch(p -> p.equals(PACKAGE) || p.startsWith(PACKAGE + ":"));
        });
    }

    @Override
    public boolean atLeast(String version, String floor) {
        return exitCode(List.of("dpkg", "--compare-versions", version, "ge", floor)) == 0;
    }

    private static Optional<String> run(List<String> args) {
        RsyncResult r = start(args);
        return r != null && r.ending() == Ending.EXITED && r.exitCode() == 0 ? Optional.of(r.stdoutText())
            : Optional.empty();
    }

    private static int exitCode(List<String> args) {
        RsyncResult r = start(args);
        return r != null && r.ending() == Ending.EXITED ? r.exitCode() : -1;
    }

    /** Null when the command cannot be started (no dpkg on this host). */
    private static RsyncResult start(List<String> args) {
        try (RsyncLauncher launcher = new RsyncLauncher()) {
            return launcher.run("dpkg", args, Map.of("LC_ALL", "C"), RsyncStdin.NONE, LIMIT, 64 * 1024);
        } catch (IOException e) {
            return null;
        }
    }
}
