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
import io.rtbackup.process.FatalErrorHandler;
import java.time.Instant;
import java.util.ArrayList;
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
 * with nothing else, and a multi-link file that lost or gained a name is reported under a name it keeps
 * ({@link FanotifyEventTranslator}). The kernel queue is bounded; when it overflows the kernel says so and this
 * source reports an
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
    private RootPaths roots = new RootPaths(List.of());
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
        roots = new RootPaths(rootPaths);
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
        private final FanotifyEventTranslator translator;

        Reader(ChangeSink sink, ReadAheadQueue ahead) {
            this.sink = sink;
            this.ahead = ahead;
            this.resolver = new HandleResolver(mountFds, cacheCapacity,
                    () -> deliver(new RawChange.Overflow(null, 0, nowNs())));
            this.translator = new FanotifyEventTranslator(resolver, roots, this::deliver, unresolved);
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
                    translator.translate(event, now);
                } catch (RuntimeException e) {
                    log.error("fanotify event with mask {} could not be handled; reporting an overflow",
                            Long.toHexString(event.mask()), e);
                    deliver(new RawChange.Overflow(null, 0, nowNs()));
                }
            }
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

}
