package io.rtbackup.dist;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * The Debian 12 root the install test starts from: debootstrapped once per machine into a cache directory
 * (~/.cache/rtbackup by default) and reused by later runs, which each take a fresh copy. A root is cached only once
 * debootstrap has finished, so an interrupted run leaves nothing half-made behind to be reused.
 */
final class DebianBase {
    static final String SUITE = "bookworm";
    static final String MIRROR = "http://deb.debian.org/debian";
    /**
     * Not dependencies of the .deb but the tools the test uses inside the root: systemd-analyze, and man, which
     * systemd-analyze verify uses to check each unit's Documentation=man: pages.
     */
    static final String TEST_TOOLS = "systemd,man-db";

    private DebianBase() {
    }

    static Path defaultCacheDir() {
        return Path.of(System.getProperty("user.home"), ".cache", "rtbackup");
    }

    /** The cached root, made first if this machine has none. */
    static Path cached(Path cacheDir) throws IOException {
        Path base = cacheDir.resolve(SUITE + "-minbase-" + TEST_TOOLS.replace(',', '-'));
        if (Files.isDirectory(base)) return base;
        Files.createDirectories(cacheDir);
        Path partial = cacheDir.resolve(base.getFileName() + ".partial-" + ProcessHandle.current().pid());
        remove(partial);
        Exec.ok(Duration.ofMinutes(30), null, "debootstrap", "--variant=minbase", "--include=" + TEST_TOOLS, SUITE,
            partial.toString(), MIRROR);
        try {
            Files.move(partial, base, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException raced) {
            // another run cached one first: use that
            if (!Files.isDirectory(base)) throw raced;
            remove(partial);
        }
        return base;
    }

    /** A new copy of the base at {@code dir} (replacing what was there), ready to reach Debian's mirror. */
    static Chroot freshCopy(Path base, Path dir) throws IOException {
        remove(dir);
        Files.createDirectories(dir.getParent());
        Exec.ok(Duration.ofMinutes(10), null, "cp", "-a", base.toString(), dir.toString());
        Files.copy(Path.of("/etc/resolv.conf"), dir.resolve("etc/resolv.conf"), StandardCopyOption.REPLACE_EXISTING);
        return new Chroot(dir);
    }

    /** Deletes a root; --one-file-system so that a mount left inside could never take the host's files with it. */
    static void remove(Path dir) {
        if (Files.exists(dir)) Exec.ok(Duration.ofMinutes(5), null, "rm", "-rf", "--one-file-system", dir.toString());
    }
}
