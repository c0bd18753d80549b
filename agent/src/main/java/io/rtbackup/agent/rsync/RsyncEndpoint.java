package io.rtbackup.agent.rsync;

import io.rtbackup.agent.config.ExecConfig.DaemonTarget;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.config.ExecConfig.LocalTarget;
import io.rtbackup.agent.config.ExecConfig.Password;
import io.rtbackup.agent.config.ExecConfig.Target;
import io.rtbackup.agent.config.ExecConfig.SshTarget;
import io.rtbackup.agent.config.TransferTuning;
import io.rtbackup.agent.config.TransferTuning.Compression;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
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
 *   <li>{@code --sockopts=TCP_NODELAY} only for a daemon (rsync applies it to its own TCP socket, which only a daemon
 *   connection has): rsync's protocol exchanges many small messages, and with Nagle's algorithm each one waits
 *   for the daemon's delayed ACK. Measured with rsync 3.2.7 against a local daemon, one small file took 110–130 ms
 *   without it and 35–40 ms with it (15 ms when the daemon's module also sets it). An ssh connection is ssh's
 *   socket, not rsync's, so the option would change nothing there;</li>
 *   <li>{@code --no-motd}: a daemon's message of the day would mix into the output that callers parse;</li>
 *   <li>the password goes to the child's {@code RSYNC_PASSWORD} environment variable, never onto a command line
 *   (where every user of the host could read it), read anew for every run (a password file may be rotated);</li>
 *   <li>an ssh destination is reached through its {@link SshTransport} ({@code --rsh}, pinned host key);</li>
 *   <li>the destination's {@link TransferTuning}: {@code --bwlimit}; {@code --compress} (rsync negotiates the
 *   algorithm) or {@code --compress --compress-choice=NAME}, never for a local directory; and the run's
 *   {@link Niceness};</li>
 *   <li>the child runs in the C locale (rsync escapes every non-printable byte of a name as {@code \#ooo}, so
 *   output lines are unambiguous) and in UTC (times in listings).</li>
 * </ul>
 * {@link #toString()} never shows the secret ({@link Password} does not).
 */
public record RsyncEndpoint(String rsyncPath, boolean daemon, Duration ioTimeout, boolean acls, boolean xattrs,
        Optional<Password> password, Optional<SshTransport> ssh, TransferTuning tuning) {
    /** The socket option of every daemon connection (see the class comment). */
    static final String NO_DELAY = "--sockopts=TCP_NODELAY";

    public RsyncEndpoint {
        if (rsyncPath.isEmpty()) throw new IllegalArgumentException("empty rsync path");
        if (password.isPresent() && !daemon) {
            throw new IllegalArgumentException("a local or ssh destination takes no password; only a daemon does");
        }
        if (daemon && ssh.isPresent()) throw new IllegalArgumentException("a daemon is not reached over ssh");
        if (tuning.compression() != Compression.NONE && !daemon && ssh.isEmpty()) {
            throw new IllegalArgumentException("no compression for a local directory");
        }
    }

    /** An endpoint with rsync's default transfer settings and the agent's priorities. */
    public RsyncEndpoint(String rsyncPath, boolean daemon, Duration ioTimeout, boolean acls, boolean xattrs,
            Optional<Password> password, Optional<SshTransport> ssh) {
        this(rsyncPath, daemon, ioTimeout, acls, xattrs, password, ssh, TransferTuning.DEFAULT);
    }

    /** An endpoint without ssh: a daemon or a local directory. */
    public RsyncEndpoint(String rsyncPath, boolean daemon, Duration ioTimeout, boolean acls, boolean xattrs,
            Optional<Password> password) {
        this(rsyncPath, daemon, ioTimeout, acls, xattrs, password, Optional.empty());
    }

    /** The endpoint of a configured destination. */
    public static RsyncEndpoint of(String rsyncPath, Destination d) {
        Optional<SshTransport> ssh = d.target() instanceof SshTarget t
            ? Optional.of(new SshTransport(d.name(), t, d.ioTimeout())) : Optional.empty();
        return new RsyncEndpoint(rsyncPath, d.target() instanceof DaemonTarget, d.ioTimeout(), d.acls(), d.xattrs(),
            d.password(), ssh, d.tuning());
    }

    /** The options every invocation against this endpoint carries, in order. */
    public List<String> connectionOptions() {
        String seconds = Long.toString(Math.max(1, ioTimeout.toSeconds()));
        List<String> options = new ArrayList<>(List.of("--no-motd", "--timeout=" + seconds));
        if (daemon) {
            options.add("--contimeout=" + seconds);
            options.add(NO_DELAY);
        }
        ssh.ifPresent(s -> options.add(s.rshOption()));
        tuning.bwlimit().ifPresent(b -> options.add("--bwlimit=" + b));
        if (tuning.compression() != Compression.NONE) options.add("--compress");
        tuning.compression().choice().ifPresent(c -> options.add("--compress-choice=" + c));
        return List.copyOf(options);
    }

    /** The priority every rsync process against this endpoint runs at. */
    public Niceness niceness() {
        return new Niceness(tuning.nice(), tuning.ioPriority());
    }

    /**
     * The value of a directory-valued option ({@code --backup-dir}, {@code --copy-dest}) naming {@code relativeDir}
     * under {@code target}: always absolute. For a daemon module rsync resolves an absolute path inside the
     * module, with {@code use chroot = yes} (the module is the root) or without (rsync sanitizes it to the module);
     * a relative {@code ../x} works only with chroot (without, the daemon strips the ".."), and a relative basis
     * dir fails rsync's verification of every file delta'd against it on Debian 12's 3.2.7-1+deb12u6 (checked:
     * "failed verification -- update discarded"; absolute works). For a local directory it is the absolute path, for
     * ssh the destination's path on the host.
     */
    public static String directoryOption(Target target, String relativeDir) {
        if (target instanceof DaemonTarget d) return "/" + (d.prefix().isEmpty() ? "" : d.prefix() + "/") + relativeDir;
        // ssh: the destination's path on the host; behind rrsync DIR (which refuses "..") read inside DIR
        if (target instanceof SshTarget s) return withSlash(s.path()) + relativeDir;
        return withSlash(((LocalTarget) target).directory()) + relativeDir;
    }

    private static String withSlash(String dir) {
        return dir.endsWith("/") ? dir : dir + "/";
    }

    /**
     * What went wrong in a failed run, in one line: {@link RsyncResult#problem()}, preceded by what it means for
     * this endpoint where that is known (an ssh host key that is not the pinned one).
     */
    public String problem(RsyncResult r) {
        return diagnosis(r).map(d -> d + " [" + r.problem() + "]").orElseGet(r::problem);
    }

    /** What a failed run means for this endpoint, when that is known (see {@link SshTransport#diagnose}). */
    public Optional<String> diagnosis(RsyncResult r) {
        return ssh.flatMap(s -> s.diagnose(r.stderr()));
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
        ssh.ifPresent(s -> env.putAll(s.environment()));
        return Map.copyOf(env);
    }
}
