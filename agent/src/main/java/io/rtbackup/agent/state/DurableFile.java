package io.rtbackup.agent.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * How the agent replaces a file of its state directory so that a crash or power cut leaves either the old or the
 * new content, never a mix or nothing: a temporary file of its own (mode 0600), fsync, atomic rename over the old
 * one, fsync of the directory.
 */
final class DurableFile {
    private DurableFile() {}

    static void write(Path file, byte[] content) throws IOException {
        Path dir = file.getParent();
        // a name of its own: agents of several hosts may share a state directory (tests, a netns fleet)
        Path tmp = Files.createTempFile(dir, file.getFileName() + ".", ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("the state directory does not support atomic renames", e);
        }
        // the rename itself must survive a power cut, or the next start could read the old content
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
