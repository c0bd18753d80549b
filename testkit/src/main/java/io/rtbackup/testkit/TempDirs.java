package io.rtbackup.testkit;

import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.ByteFs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A unique directory under the system temp dir ({@code java.io.tmpdir}), removed with everything below it on
 * {@link #close()}. The removal is byte-exact and never follows symlinks, so trees with hostile names or links
 * pointing outside are cleaned up without touching anything else. The base path itself is ASCII, so it can be
 * handed to ProcessBuilder and java.io.File as a String.
 */
public final class TempDirs implements AutoCloseable {

    private final byte[] base;

    private TempDirs(byte[] base) {
        this.base = base;
    }

    /** Creates {@code <tmpdir>/<prefix><random>} with mode 0700. {@code prefix} must be ASCII. */
    public static TempDirs create(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        String s = dir.toAbsolutePath().toString();
        if (!StandardCharsets.US_ASCII.newEncoder().canEncode(s)) {
            throw new IOException("temp directory '" + s + "' is not ASCII; set -Djava.io.tmpdir to an ASCII path");
        }
        return new TempDirs(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** The base directory. */
    public byte[] path() {
        return base.clone();
    }

    /** The base directory as a String (it is ASCII). */
    public String pathString() {
        return new String(base, StandardCharsets.US_ASCII);
    }

    /** {@code base/part1/part2...} without creating anything. */
    public byte[] resolve(byte[]... parts) {
        return BytePaths.join(base, parts);
    }

    /** {@code base/relative} without creating anything; {@code relative} is UTF-8 encoded. */
    public byte[] resolve(String relative) {
        return BytePaths.join(base, BytePaths.utf8(relative));
    }

    /** Creates {@code base/name} (and missing parents) and returns its path. */
    public byte[] newDir(byte[] name) throws IOException {
        byte[] dir = BytePaths.join(base, name);
        ByteFs.mkdirs(dir);
        return dir;
    }

    /** Creates {@code base/name} (and missing parents) and returns its path; {@code name} is UTF-8 encoded. */
    public byte[] newDir(String name) throws IOException {
        return newDir(BytePaths.utf8(name));
    }

    /** Deletes the base directory recursively. */
    @Override
    public void close() throws IOException {
        ByteFs.deleteTree(base);
    }

    /** {@link #close()} for cleanup code that cannot throw checked exceptions. */
    public void closeUnchecked() {
        try {
            close();
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete temp dir " + pathString(), e);
        }
    }

    @Override
    public String toString() {
        return pathString();
    }
}
