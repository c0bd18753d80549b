package io.rtbackup.agent.exec;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.testkit.RsyncDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;

/**
 * Test fixture: a real rsync daemon serving {@code module} as destination "dc" of host "h", whose root "r" is
 * {@code src}; with the validator and runner an agent would use for it. Closing stops both.
 */
final class DaemonDestination implements AutoCloseable {
    private final RsyncDaemon daemon;
    final CommandValidator validator;
    final RsyncRunner runner;

    private DaemonDestination(RsyncDaemon daemon, CommandValidator validator, RsyncRunner runner) {
        this.daemon = daemon;
        this.validator = validator;
        this.runner = runner;
    }

    /**
     * Starts the daemon (authenticated when {@code password} is not null) under {@code tmp/daemon}; {@code settings}
     * are further {@code destination.dc.*} settings (name without the prefix).
     */
    static DaemonDestination start(Path tmp, Path src, Path module, RecentMoves moves, String password,
            Map<String, String> settings) throws Exception {
        RsyncDaemon.Builder b = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(tmp.resolve("daemon"))
            .toString()));
        if (password != null) b = b.auth("rtb", password);
        RsyncDaemon daemon = b.module("backup", BytePaths.utf8(module.toString())).start();
        Properties p = new Properties();
        p.setProperty("destination.dc.url", daemon.url("backup"));
        settings.forEach((k, v) -> p.setProperty("destination.dc." + k, v));
        ExecConfig cfg = ExecConfig.from(p, password == null ? Map.of() : Map.of("RSYNC_PASSWORD_DC", password));
        CommandValidator validator = new CommandValidator("h", Map.of("r", BytePaths.utf8(src.toString())),
            cfg.destinations());
        return new DaemonDestination(daemon, validator, new RsyncRunner(cfg.rsyncPath(), moves));
    }

    /** The job of a command the validator accepts. */
    ReplicationJob job(SyncCommand cmd) {
        return ((ValidationResult.Accepted) validator.validate(cmd)).job();
    }

    /** Runs a command the validator accepts. */
    ReplicationReport replicate(SyncCommand cmd) {
        return runner.replicate(job(cmd));
    }

    /** Writes {@code size} random bytes, the same for the same seed. */
    static void randomFile(Path file, int size, long seed) throws Exception {
        byte[] data = new byte[size];
        new SplittableRandom(seed).nextBytes(data);
        Files.write(file, data);
    }

    @Override
    public void close() throws Exception {
        runner.close();
        daemon.close();
    }
}
