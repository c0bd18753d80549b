package io.rtbackup.bench.contender;

import io.rtbackup.testkit.RsyncDaemon;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where a contender runs: the source folder (always named {@code src}, so rtbackup's root id is stable), the
 * destination daemon and module, and a scratch directory for its state and logs. Both contenders replicate into
 * {@code <module>/bench/src}: rtbackup because it lays out {@code <host-id>/<root-id>} under the module, lsyncd
 * because its target URL is pointed there; so one pre-seeded replica serves both.
 */
public record Site(Path source, RsyncDaemon daemon, String module, Path workDir, int expectedDirs) {

    public static final String HOST_ID = "bench";

    public Site {
        if (!source.getFileName().toString().equals("src")) {
            throw new IllegalArgumentException("source folder must be named src, got " + source);
        }
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
