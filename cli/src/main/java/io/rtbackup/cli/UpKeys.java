package io.rtbackup.cli;

import io.rtbackup.schema.signing.SigningKey;
import io.rtbackup.schema.signing.SigningSettings;
import io.rtbackup.secure.OwnerOnly;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * The keys of {@code rtb up}, so that one is signed out of the box: in {@code STATE/keys/} (0700) a host key
 * ({@code <host>.key}) and a worker key ({@code worker.key}), made at the first start and kept; the agent's keyring
 * ({@code agent-keyring/}) holds the worker's public key, the worker's ({@code worker-keyring/}) the host's (and the
 * worker's own, so that {@code rtb dlq replay --signing-key STATE/keys/worker.key} may sign rescans). The
 * pause and resume of {@code rtb pause --state-dir} and the status page sign with the worker key.
 */
final class UpKeys {
    static final String WORKER = "worker";

    private final Path dir;
    private final String host;

    private UpKeys(Path dir, String host) {
        this.dir = dir;
        this.host = host;
    }

    /** The keys of the rtb up of {@code stateDir} for host {@code host}, made where missing. */
    static UpKeys ensure(Path stateDir, String host) throws IOException {
        Path dir = keysDir(stateDir);
        OwnerOnly.privateDirectory(dir).ifPresent(w -> System.err.println("rtb up: warning: " + w));
        for (String name : new String[] {host, WORKER}) {
            if (!Files.exists(dir.resolve(name + ".key"))) SigningKey.generate(dir, name);
        }
        copy(dir.resolve(WORKER + ".pub"), dir.resolve("agent-keyring"));
        copy(dir.resolve(host + ".pub"), dir.resolve("worker-keyring"));
        // rtb dlq replay --signing-key STATE/keys/worker.key: its RESCANs are signed by a key the worker knows
        copy(dir.resolve(WORKER + ".pub"), dir.resolve("worker-keyring"));
        return new UpKeys(dir, host);
    }

    static Path keysDir(Path stateDir) {
        return stateDir.resolve("keys");
    }

    /** The worker key that signs the switches of {@code rtb pause}/{@code resume} for this state dir. */
    static Path workerKey(Path stateDir) {
        return keysDir(stateDir).resolve(WORKER + ".key");
    }

    void applyToAgent(Properties p) {
        p.setProperty(SigningSettings.KEY, dir.resolve(host + ".key").toAbsolutePath().toString());
        p.setProperty(SigningSettings.KEYRING, dir.resolve("agent-keyring").toAbsolutePath().toString());
    }

    void applyToWorker(Properties p) {
        p.setProperty(SigningSettings.KEY, dir.resolve(WORKER + ".key").toAbsolutePath().toString());
        p.setProperty(SigningSettings.KEYRING, dir.resolve("worker-keyring").toAbsolutePath().toString());
    }

    private static void copy(Path pub, Path ring) throws IOException {
        OwnerOnly.createDirectories(ring);
        Files.copy(pub, ring.resolve(pub.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    }
}
