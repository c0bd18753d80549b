package io.rtbackup.agent.rsync;

import io.rtbackup.agent.config.ExecConfig.DaemonTarget;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.config.ExecConfig.LocalTarget;
import io.rtbackup.agent.config.ExecConfig.Password;
import io.rtbackup.agent.config.ExecConfig.Target;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How every rsync run against one destination connects: the binary, whether the far end is a daemon, the I/O
 * inactivity limit, the metadata the destination stores, and the daemon password. The rules that follow from
 * these are written here and nowhere else:
 * <ul>
 *   <li>{@code --timeout} is the I/O inactivity limit (at least 1 s: rsync reads 0 as "no limit");</li>
 *   <li>{@code --contimeout} (the same limit) only for a daemon: a destination cut off by the network drops the
 *   connection attempt silently, and without it each run would wait for the kernel's TCP connect timeout (about
 *   two minutes). It only means something for a daemon connection;</li>
 *   <li>{@code --no-motd}: a daemon's message of the day would mix into the output that callers parse;</li>
 *   <li>the password goes to the child's {@code RSYNC_PASSWORD} environment variable, never onto a command line
 *   (where every user of the host could read it), read anew for every run (a password file may be rotated);</li>
 *   <li>the child runs in the C locale (rsync escapes every non-printable byte of a name as {@code \#ooo}, so
 *   output lines are unambiguous) and in UTC (times in listings).</li>
 * </ul>
 * {@link #toString()} never shows the secret ({@link Password} does not).
 */
public record RsyncEndpoint(String rsyncPath, boolean daemon, Duration ioTimeout, boolean acls, boolean xattrs,
        Optional<Password> password) {

    public RsyncEndpoint {
        if (rsyncPath.isEmpty()) throw new IllegalArgumentException("empty rsync path");
        if (password.isPresent() && !daemon) {
            throw new IllegalArgumentException("a local destination takes no password");
        }
    }

    /** The endpoint of a configured destination. */
    public static RsyncEndpoint of(String rsyncPath, Destination d) {
        return new RsyncEndpoint(rsyncPath, d.target() instanceof DaemonTarget, d.ioTimeout(), d.acls(), d.xattrs(),
            d.password());
    }

    /** The options every invocation against this endpoint carries, in order. */
    public List<String> connectionOptions() {
        String seconds = Long.toString(Math.max(1, ioTimeout.toSeconds()));
        return daemon
            ? List.of("--no-motd", "--timeout=" + seconds, "--contimeout=" + seconds)
            : List.of("--no-motd", "--timeout=" + seconds);
    }

    /**
     * The value of a directory-valued option ({@code --backup-dir}, {@code --copy-dest}) naming {@code relativeDir}
     * under {@code target}: always absolute. For a daemon module rsync resolves an absolute path inside the
     * module, with {@code use chroot = yes} (the module is the root) or without (rsync sanitizes it to the module);
     * a relative {@code ../x} works only with chroot (without, the daemon strips the ".."), and a relative basis
     * dir fails rsync's verification of every file delta'd against it on Debian 12's 3.2.7-1+deb12u6 (checked:
     * "failed verification -- update discarded"; absolute works). For a local directory it is the absolute path.
     */
    public static String directoryOption(Target target, String relativeDir) {
        String prefix = target instanceof DaemonTarget d ? "/" + (d.prefix().isEmpty() ? "" : d.prefix() + "/")
            : withSlash(((LocalTarget) target).directory());
        return prefix + relativeDir;
    }

    private static String withSlash(String dir) {
        return dir.endsWith("/") ? dir : dir + "/";
    }

    /**
     * The environment entries to add to the child's (inherited) environment: locale, time zone and, for a daemon
     * with a password, {@code RSYNC_PASSWORD}.
     *
     * @throws IOException when the password file cannot be read
     */
    public Map<String, String> environment() throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("LC_ALL", "C");
        env.put("TZ", "UTC");
        if (password.isPresent()) env.put("RSYNC_PASSWORD", password.get().secret());
        return Map.copyOf(env);
    }
}
