package io.rtbackup.dist;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A Debian root directory in which shell commands run as root through chroot. Each command gets its own mount and
 * PID namespace (unshare) with /proc and /dev mounted inside it: the mounts exist only in that namespace, so they
 * go away with the command however it ends (exit, kill, a crashed test JVM), and killing the command takes every
 * process it started with it. The environment inside is a plain root login's, not the build's.
 */
final class Chroot {
    private static final String ENTER = "mount -t proc proc \"$1/proc\" && mount --bind /dev \"$1/dev\" && exec chroot \"$1\" "
        + "/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "
        + "/bin/sh -c \"$2\"";

    private final Path root;

    Chroot(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    /** A path inside the root, as seen from the host. */
    Path path(String inside) {
        return root.resolve(inside.replaceFirst("^/+", ""));
    }

    private List<String> command(String script) {
        // --kill-child: if unshare itself is killed, the namespace's init (and with it everything inside) dies too
        return List.of("unshare", "--mount", "--pid", "--fork", "--propagation", "private", "--kill-child",
            "sh", "-c", ENTER, "enter", root.toString(), script);
    }

    Exec run(Duration limit, String script) {
        return Exec.run(limit, null, command(script));
    }

    /** Runs the script and fails with its output unless it exits 0; returns the output. */
    String ok(Duration limit, String script) {
        Exec r = run(limit, script);
        if (r.exitCode() != 0) throw new AssertionError("in " + root + ": " + script + " exited " + r.exitCode() + ":\n" + r.output());
        return r.output();
    }

    /** Starts the script in the background with its output (stdout and stderr) going to {@code log}. */
    Process start(String script, Path log) {
        try {
            return new ProcessBuilder(command(script)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + script + " in " + root, e);
        }
    }
}
