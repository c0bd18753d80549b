package io.rtbackup.broker;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The embedded broker's claim on its log dir, held from before its controller starts until it stopped. Kafka's own
 * lock ({@code .lock}) is taken by the broker's log manager only, after the controller has started on the same dir:
 * without this one, a second {@code rtb up} or {@code rtb broker} on a live broker's state dir would elect its own
 * controller on the live metadata log (and, after a crash, take the registration of a broker that is not dead off it:
 * {@link PreviousIncarnation}) before Kafka refused it.
 *
 * <p>Contract: {@link #acquire} returns the held lock or throws an {@link IOException} naming the dir; the lock is an
 * OS file lock on {@value #FILE_NAME}, so a killed process leaves none behind.
 */
final class LogDirLock implements AutoCloseable {
    static final String FILE_NAME = "rtb-broker.lock";

    private final FileChannel channel;

    private LogDirLock(FileChannel channel) {
        this.channel = channel;
    }

    /** Locks {@code logDir} (which must exist) for this process, or says which broker holds it. */
    static LogDirLock acquire(Path logDir) throws IOException {
        Path file = logDir.resolve(FILE_NAME);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this JVM already
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new IOException("the log dir " + logDir + " is in use by another running broker (" + file + " is "
                + "locked): another rtb up or rtb broker on the same state dir? Stop that one, or give this one a "
                + "state dir of its own");
        }
        return new LogDirLock(channel);
    }

    /** Releases the lock (closing the channel does). */
    @Override
    public void close() throws IOException {
        channel.close();
    }
}
