package io.rtbackup.bench.contender;

import io.rtbackup.testkit.RsyncDaemon;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a contender runs: the source folder (always named {@code src}, so rtbackup's root id is stable), the
 * destination daemon and module, and a scratch directory for its state and logs. Both contenders replicate into
 * {@code <module>/bench/src}: rtbackup because it lays out {@code <host-id>/<root-id>} under the module, lsyncd
 * because its target URL is pointed there; so one pre-seeded replica serves both. {@code more} are further
 * destinations (fan-out), laid out the same way; contenders replicate to all of them.
 */
public record Site(Path source, RsyncDaemon daemon, String module, Path workDir, int expectedDirs,
                   List<Destination> more) {

    public static final String HOST_ID = "bench";

    /** A further destination: a daemon's module. */
    public record Destination(RsyncDaemon daemon, String module) {
        public Path replica() {
            return Path.of(new String(daemon.moduleDir(module), StandardCharsets.US_ASCII)).resolve(HOST_ID).resolve("src");
        }
    }

    public Site {
        if (!source.getFileName().toString().equals("src")) {
            throw new IllegalArgumentException("source folder must be named src, got " + source);
        }
        more = List.copyOf(more);
    }

    public Site(Path source, RsyncDaemon daemon, String module, Path workDir, int expectedDirs) {
        this(source, daemon, module, workDir, expectedDirs, List.of());
    }

    /** The same site replicating to these further destinations too. */
    public Site withMore(List<Destination> destinations) {
        return new Site(source, daemon, module, workDir, expectedDirs, destinations);
    }

    public Path moduleDir() {
        return Path.of(new String(daemon.moduleDir(module), StandardCharsets.US_ASCII));
    }

    public Path replica() {
        return moduleDir().resolve(HOST_ID).resolve("src");
    }

    /** rsync://127.0.0.1:PORT/module (rtbackup adds host-id/root-id). */
    public String moduleUrl() {
        return daemon.url(module);
    }
}
