package io.rtbackup.agent.capture.fanotify;

import static io.rtbackup.agent.capture.fanotify.FanotifyLib.C;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import io.rtbackup.agent.capture.CaptureSource;
import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.capture.ChangeSink;
import io.rtbackup.agent.capture.LossReportingSink;
import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.ReadAheadQueue;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.schema.FileOp;
import io.rtbackup.process.FatalErrorHandler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fanotify with a filesystem mark per root's filesystem and directory-fid + name reporting: start-up costs one
 * mark per filesystem whatever the tree size. A filesystem mark reports the whole disk, so events are resolved
 * ({@link HandleResolver}: directory handle -> path, cached) and kept only when they fall under a
 * root. The file's own id comes along too: a link count change (link, unlink, rename over a name) is reported
 * with nothing else, and a multi-link file that lost or gained a name is reported under a name it keeps. The kernel queue is bounded; when it overflows the kernel says so and this source reports an
 * {@link RawChange.Overflow}. The bytes read are decoded by {@link FanotifyRecordDecoder}; an event it calls
 * malformed is reported as an overflow too (a rescan covers whatever it was), and so is a read whose processing
 * failed; a change the sink rejects becomes a rescan of its directory ({@link LossReportingSink}).
 */
public final class FanotifySource implements CaptureSource {

    private static final Logger log = LoggerFactory.getLogger(FanotifySource.class);
    private static final int READ_BUFFER = 256 * 1024;
    /** The shortest time between two reads of the kernel queue while events keep coming. */
    private static final long COALESCE_NANOS = 5_000_000;
    private static final long BASE_MASK = FanotifyLib.FAN_MODIFY | FanotifyLib.FAN_ATTRIB
            | FanotifyLib.FAN_CLOSE_WRITE | FanotifyLib.FAN_CREATE | FanotifyLib.FAN_DELETE | FanotifyLib.FAN_ONDIR;

    private final int cacheCapacity;
    private final long readAheadBytes;
    private final FatalErrorHandler fatal;
    private final AtomicLong unresolved = new AtomicLong();
    private final AtomicLong eventsRead = new AtomicLong();
    private volatile boolean running;
    private int fanFd = -1;
    private final Map<Long, Integer> mountFds = new HashMap<>();
    private List<byte[]> roots = List.of();
    private Thread reader;
    private Thread processor;

    /** @param fatal told when not even a rescan covering a rejected change can be delivered */
    public FanotifySource(FatalErrorHandler fatal) {
        this(65_536, 16L << 20, fatal);
    }

    /**
     * @param cacheCapacity  directory handles whose paths are remembered
     * @param readAheadBytes raw events held in user space while processing lags behind the kernel queue; 0 for
     *     none (one thread reads and processes, and only the kernel queue buffers)
     * @param fatal          told when not even a rescan covering a rejected change can be delivered
     */
    public FanotifySource(int cacheCapacity, long readAheadBytes, FatalErrorHandler fatal) {
        this.cacheCapacity = cacheCapacity;
        this.readAheadBytes = readAheadBytes;
        this.fatal = fatal;
    }

    @Override
    public String name() {
        return "fanotify";
    }

    @Override
    public io.rtbackup.schema.CaptureSource kind() {
        return io.rtbackup.schema.CaptureSource.FANOTIFY;
    }

    /** Events whose directory was already gone when read (ESTALE): a later event on an ancestor covers them. */
    public long unresolvedEvents() {
        return unresolved.get();
    }

    public long eventsRead() {
        return eventsRead.get();
    }

    @Override
    public synchronized void start(List<WatchedRoot> watched, ChangeSink sink) throws CaptureUnavailableException {
        if (running) throw new IllegalStateException("fanotify source already started");
        int fd = C.fanotify_init(FanotifyLib.FAN_CLASS_NOTIF | FanotifyLib.FAN_CLOEXEC | FanotifyLib.FAN_NONBLOCK
                | FanotifyLib.FAN_REPORT_DFID_NAME | FanotifyLib.FAN_REPORT_FID,
                FanotifyLib.O_RDONLY | FanotifyLib.O_LARGEFILE | FanotifyLib.O_CLOEXEC);
        if (fd < 0) {
            int errno = Native.getLastError();
            throw new CaptureUnavailableException("fanotify_init(FAN_REPORT_DFID_NAME) failed, errno " + errno
                    + (errno == FanotifyLib.EPERM ? " (needs CAP_SYS_ADMIN: run the agent as root)"
                    : errno == FanotifyLib.EINVAL ? " (kernel older than 5.9)" : ""));
        }
        fanFd = fd;
        List<byte[]> rootPaths = new ArrayList<>();
        boolean renameEvents = true;
        try {
            Memory statfs = new Memory(FanotifyLib.STATFS_SIZE);
            for (WatchedRoot root : watched) {
                byte[] path = root.absolutePath();
                rootPaths.add(path);
                byte[] cpath = FanotifyLib.cstr(path);
                int mfd = C.open(cpath, FanotifyLib.O_RDONLY | FanotifyLib.O_DIRECTORY | FanotifyLib.O_CLOEXEC);
                if (mfd < 0) {
                    throw new CaptureUnavailableException("cannot open root " + root + ": errno "
                            + Native.getLastError());
                }
                if (C.fstatfs(mfd, statfs) != 0) {
                    C.close(mfd);
                    throw new CaptureUnavailableException("fstatfs on root " + root + " failed: errno "
                            + Native.getLastError());
                }
                long fsid = statfs.getLong(FanotifyLib.STATFS_FSID);
                Integer previous = mountFds.putIfAbsent(fsid, mfd);
                if (previous != null) {
                    C.close(mfd);
                    continue; // same filesystem as an earlier root: its mark already covers this one
                }
                long mask = BASE_MASK | (renameEvents ? FanotifyLib.FAN_RENAME : 0);
                int rc = C.fanotify_mark(fd, FanotifyLib.FAN_MARK_ADD | FanotifyLib.FAN_MARK_FILESYSTEM, mask,
                        FanotifyLib.AT_FDCWD, cpath);
                if (rc != 0 && renameEvents && Native.getLastError() == FanotifyLib.EINVAL) {
                    // FAN_RENAME needs 5.17; before that a rename arrives as separate moved-from/moved-to
                    renameEvents = false;
                    mask = BASE_MASK | FanotifyLib.FAN_MOVED_FROM | FanotifyLib.FAN_MOVED_TO;
                    rc = C.fanotify_mark(fd, FanotifyLib.FAN_MARK_ADD | FanotifyLib.FAN_MARK_FILESYSTEM, mask,
                            FanotifyLib.AT_FDCWD, cpath);
                }
                if (rc != 0) {
                    int errno = Native.getLastError();
                    throw new CaptureUnavailableException("fanotify_mark(FAN_MARK_FILESYSTEM) on root " + root
                            + " refused, errno " + errno + " (the filesystem may not support file handles);"
                            + " use capture.source=inotify for this root");
                }
            }
        } catch (CaptureUnavailableException | RuntimeException e) {
            releaseFds();
            throw e;
        }
        roots = rootPaths;
        running = true;
        ReadAheadQueue ahead = readAheadBytes > 0 ? new ReadAheadQueue(readAheadBytes) : null;
        Reader r = new Reader(new LossReportingSink(name(), sink, fatal), ahead);
        reader = new Thread(fatal.guard("fanotify capture reader", r::drainLoop), "rtb-capture-fanotify");
        reader.setDaemon(true);
        if (ahead != null) {
            processor = new Thread(fatal.guard("fanotify capture processor", r::processLoop),
                    "rtb-capture-fanotify-events");
            processor.setDaemon(true);
            processor.start();
        }
        reader.start();
        log.info("fanotify capture started on {} root(s), {} filesystem mark(s), rename events: {}",
                watched.size(), mountFds.size(), renameEvents);
    }

    @Override
    public void close() {
        Thread t;
        Thread p;
        synchronized (this) {
            if (!running) return;
            running = false;
            t = reader;
            p = processor;
        }
        ReadAheadQueue.awaitStopped(t, p);
        synchronized (this) {
            releaseFds();
        }
    }

    private void releaseFds() {
        for (int mfd : mountFds.values()) C.close(mfd);
        mountFds.clear();
        if (fanFd >= 0) C.close(fanFd);
        fanFd = -1;
    }

    private static long nowNs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /**
     * Two threads: {@link #drainLoop} only empties the kernel queue into the read-ahead buffer, so a slow
     * consumer does not overflow the kernel; {@link #processLoop} resolves and delivers, in order.
     */
    private final class Reader {
        private final ChangeSink sink;
        private final ReadAheadQueue ahead;
        private final FanotifyRecordDecoder decoder = new FanotifyRecordDecoder();
        private final HandleResolver resolver;
        private final Memory buf = new Memory(READ_BUFFER);
        private final Memory pollfd = new Memory(8);
        private final FanotifyLib.StatBuf stat = new FanotifyLib.StatBuf();

        Reader(ChangeSink sink, ReadAheadQueue ahead) {
            this.sink = sink;
            this.ahead = ahead;
            this.resolver = new HandleResolver(mountFds, cacheCapacity,
                    () -> deliver(new RawChange.Overflow(null, 0, nowNs())));
        }

        void processLoop() {
            try {
                while (running || !ahead.isEmpty()) {
                    byte[] chunk = ahead.poll(100);
                    if (chunk == null) continue;
                    if (chunk == ReadAheadQueue.LOST) {
                        resolver.clear();
                        log.warn("fanotify events were lost in user space (processing lagged by more than {} bytes"
                                + " of events); requesting a rescan of every root", readAheadBytes);
                        deliver(new RawChange.Overflow(null, 0, nowNs()));
                        continue;
                    }
                    process(chunk);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Parses and delivers one read; a failure loses what it held, so every root is rescanned. */
        private void process(byte[] chunk) {
            try {
                parse(chunk);
            } catch (RuntimeException e) {
                resolver.clear();
                log.error("fanotify: processing a {}-byte read failed; requesting a rescan of every root",
                        chunk.length, e);
                deliver(new RawChange.Overflow(null, 0, nowNs()));
            }
        }

        /**
         * Reads at once when the queue was quiet; while events keep coming (other processes' too: the mark covers
         * the filesystem), at most one read per {@link #COALESCE_NANOS}, so a stream costs a bounded number of
         * wake-ups a second, each taking many events, for at most that much added delay.
         */
        void drainLoop() {
            final int fd = fanFd;
            pollfd.setInt(0, fd);
            pollfd.setShort(4, FanotifyLib.POLLIN);
            long lastDrain = System.nanoTime() - COALESCE_NANOS;
            while (running) {
                pollfd.setShort(6, (short) 0);
                int rc = FanotifyLib.Direct.poll(pollfd, 1, 200);
                if (rc <= 0) continue;
                long early = lastDrain + COALESCE_NANOS - System.nanoTime();
                if (early > 0) LockSupport.parkNanos(early);
                lastDrain = System.nanoTime();
                drain(fd);
            }
        }

        private void drain(int fd) {
            while (running) {
                long n = FanotifyLib.Direct.read(fd, buf, READ_BUFFER);
                if (n < 0) {
                    int errno = Native.getLastError();
                    if (errno == FanotifyLib.EAGAIN) return;
                    if (errno == FanotifyLib.EINTR) continue;
                    log.error("reading the fanotify queue failed, errno {}; reporting an overflow", errno);
                    if (ahead != null) {
                        ahead.markLost();
                    } else {
                        resolver.clear();
                        deliver(new RawChange.Overflow(null, 0, nowNs()));
                    }
                    sleepQuietly();
                    return;
                }
                if (n == 0) return;
                byte[] chunk = new byte[(int) n];
                buf.read(0, chunk, 0, (int) n);
                if (ahead != null) {
                    ahead.offer(chunk);
                } else {
                    process(chunk);
                }
            }
        }

        private void parse(byte[] chunk) {
            // one capture time for the events of one read: they were all in the kernel queue by then
            long now = nowNs();
            for (FanotifyRecord r : decoder.decode(chunk)) {
                if (r instanceof FanotifyRecord.Malformed m) {
                    if (!m.restSkipped()) eventsRead.incrementAndGet();
                    log.error("malformed fanotify event at offset {} of a {}-byte read ({}); reporting an overflow",
                            m.offset(), chunk.length, m.reason());
                    deliver(new RawChange.Overflow(null, 0, nowNs()));
                    continue;
                }
                eventsRead.incrementAndGet();
                if (r instanceof FanotifyRecord.QueueOverflow) {
                    resolver.clear();
                    log.warn("fanotify queue overflowed: events were lost, requesting a rescan of every root");
                    deliver(new RawChange.Overflow(null, 0, nowNs()));
                    continue;
                }
                FanotifyRecord.Event event = (FanotifyRecord.Event) r;
                try {
                    handleEvent(event, now);
                } catch (RuntimeException e) {
                    log.error("fanotify event with mask {} could not be handled; reporting an overflow",
                            Long.toHexString(event.mask()), e);
                    deliver(new RawChange.Overflow(null, 0, nowNs()));
                }
            }
        }

        private void handleEvent(FanotifyRecord.Event event, long now) {
            long mask = event.mask();
            byte[] path = null;
            byte[] oldPath = null;
            byte[] newPath = null;
            boolean unresolvable = false;
            FanotifyRecord.Fid self = null;
            for (FanotifyRecord.Info info : event.infos()) {
                if (!(info instanceof FanotifyRecord.Fid fid)) continue;
                // The file's own id: used only when no record names an entry (see fileLostOrGainedAName)
                if (fid.type() == FanotifyRecord.FidType.FID) self = fid;
                // DFID records name no entry: not used
                if (!fid.type().named()) continue;
                byte[] p = resolver.resolve(fid);
                if (p == null) {
                    unresolvable = true;
                } else if (fid.type() == FanotifyRecord.FidType.OLD_DFID_NAME) {
                    oldPath = p;
                } else if (fid.type() == FanotifyRecord.FidType.NEW_DFID_NAME) {
                    newPath = p;
                } else {
                    path = p;
                }
            }
            boolean dir = (mask & FanotifyLib.FAN_ONDIR) != 0;
            if ((mask & FanotifyLib.FAN_RENAME) != 0) {
                if (dir) {
                    if (oldPath != null) resolver.invalidate(oldPath);
                    if (newPath != null) resolver.invalidate(newPath);
                }
                boolean oldIn = oldPath != null && underRoot(oldPath);
                boolean newIn = newPath != null && underRoot(newPath);
                if (oldPath != null && newPath != null && (oldIn || newIn)) {
                    deliver(new RawChange.Rename(oldPath, newPath, dir, now));
                } else if (oldIn) {
                    deliver(new RawChange.PathChange(FileOp.MOVE_FROM, oldPath, dir, now, NO_INODE));
                } else if (newIn) {
                    deliver(new RawChange.PathChange(FileOp.MOVE_TO, newPath, dir, now, NO_INODE));
                }
                if (unresolvable && oldPath == null && newPath == null) unresolved.incrementAndGet();
                return;
            }
            if (path == null) {
                if (!unresolvable && !dir && self != null && (mask & FanotifyLib.FAN_ATTRIB) != 0) {
                    fileLostOrGainedAName(self, now);
                    return;
                }
                // no name record: the directory is already deleted, and its own removal event covers what
                // happened inside
                if (unresolvable) unresolved.incrementAndGet();
                return;
            }
            if (dir && (mask & (FanotifyLib.FAN_DELETE | FanotifyLib.FAN_MOVED_FROM)) != 0) {
                resolver.invalidate(path);
            }
            if (!underRoot(path)) return;
            if ((mask & FanotifyLib.FAN_CREATE) != 0) {
                deliver(created(path, dir, now));
            }
            if ((mask & FanotifyLib.FAN_MOVED_TO) != 0) {
                deliver(new RawChange.PathChange(FileOp.MOVE_TO, path, dir, now, NO_INODE));
            }
            if ((mask & FanotifyLib.FAN_MODIFY) != 0) {
                deliver(new RawChange.PathChange(FileOp.MODIFY, path, dir, now, NO_INODE));
            }
            if ((mask & FanotifyLib.FAN_ATTRIB) != 0) {
                deliver(new RawChange.PathChange(FileOp.ATTRIB, path, dir, now, NO_INODE));
            }
            if ((mask & FanotifyLib.FAN_CLOSE_WRITE) != 0) {
                deliver(new RawChange.PathChange(FileOp.CLOSE_WRITE, path, dir, now, NO_INODE));
            }
            if ((mask & FanotifyLib.FAN_MOVED_FROM) != 0) {
                deliver(new RawChange.PathChange(FileOp.MOVE_FROM, path, dir, now, NO_INODE));
            }
            if ((mask & FanotifyLib.FAN_DELETE) != 0) {
                deliver(new RawChange.PathChange(dir ? FileOp.RMDIR : FileOp.DELETE, path, dir, now, NO_INODE));
            }
        }

        /**
         * The attrib without a name that comes with a link count change (link, unlink, rename over a name): the
         * file has other names. A change written through a name that is then removed was reported under that name
         * only, and the removed name's sync finds nothing to send, so the names the file keeps would stay stale in
         * the replica (issue 15). Reported as an attrib of a name the file has now, whose sync reaches every name
         * (the agent's validator widens a run to all of a multi-link file's names). A file that is gone (its last
         * name removed) needs nothing: that removal was reported by name.
         */
        private void fileLostOrGainedAName(FanotifyRecord.Fid self, long now) {
            byte[] kept = resolver.resolveFile(self, FanotifySource.this::underRoot);
            if (kept != null && underRoot(kept)) {
                deliver(new RawChange.PathChange(FileOp.ATTRIB, kept, false, now, NO_INODE));
            }
        }

        /** A new directory entry: tell symlinks and extra hard links apart from plain creates. */
        private RawChange created(byte[] path, boolean dir, long now) {
            if (dir) return new RawChange.PathChange(FileOp.MKDIR, path, true, now, NO_INODE);
            if (!stat.lstat(FanotifyLib.cstr(path))) {
                return new RawChange.PathChange(FileOp.CREATE, path, false, now, NO_INODE);
            }
            int type = stat.mode() & FanotifyLib.S_IFMT;
            FileOp op = type == FanotifyLib.S_IFLNK ? FileOp.SYMLINK
                    : type != FanotifyLib.S_IFDIR && stat.nlink() > 1 ? FileOp.LINK : FileOp.CREATE;
            return new RawChange.PathChange(op, path, false, now, stat.ino());
        }

        private void deliver(RawChange change) {
            sink.accept(change); // a LossReportingSink: a rejected change becomes a rescan there
        }

        private void sleepQuietly() {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static final long NO_INODE = RawChange.PathChange.NO_INODE;

    private boolean underRoot(byte[] path) {
        for (byte[] root : roots) {
            if (within(path, root)) return true;
        }
        return false;
    }

    static boolean within(byte[] path, byte[] root) {
        if (root.length == 1) return path.length >= 1 && path[0] == '/';
        if (path.length < root.length) return false;
        if (!Arrays.equals(path, 0, root.length, root, 0, root.length)) return false;
        return path.length == root.length || path[root.length] == '/';
    }
}
