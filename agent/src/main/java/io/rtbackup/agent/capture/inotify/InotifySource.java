package io.rtbackup.agent.capture.inotify;

import static io.rtbackup.agent.capture.inotify.InotifyLib.C;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import io.rtbackup.agent.capture.CaptureSource;
import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.capture.ChangeSink;
import io.rtbackup.agent.capture.LossReportingSink;
import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.ReadAheadQueue;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.ErrnoException;
import io.rtbackup.fs.Stat;
import io.rtbackup.schema.FileOp;
import io.rtbackup.process.FatalErrorHandler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * inotify with one watch per directory, for hosts where fanotify is not permitted. A new directory is watched
 * first and listed afterwards, so whatever appeared in it before the watch existed is still reported. A lost
 * queue ({@code IN_Q_OVERFLOW}) or an exhausted watch limit becomes an {@link RawChange.Overflow}.
 */
public final class InotifySource implements CaptureSource {

    private static final Logger log = LoggerFactory.getLogger(InotifySource.class);
    private static final int READ_BUFFER = 256 * 1024;
    private static final int MASK = InotifyLib.IN_MODIFY | InotifyLib.IN_ATTRIB | InotifyLib.IN_CLOSE_WRITE
            | InotifyLib.IN_MOVED_FROM | InotifyLib.IN_MOVED_TO | InotifyLib.IN_CREATE | InotifyLib.IN_DELETE
            | InotifyLib.IN_ONLYDIR | InotifyLib.IN_DONT_FOLLOW | InotifyLib.IN_EXCL_UNLINK;

    private final long readAheadBytes;
    private final FatalErrorHandler fatal;
    private volatile boolean running;
    private int fd = -1;
    private Thread reader;
    private Thread processor;
    private List<WatchedRoot> roots = List.of();
    private ChangeSink sink;

    // touched only by start() before the threads exist, then only by the one thread that processes events
    private final Map<Integer, byte[]> pathByWd = new HashMap<>();
    private final TreeMap<byte[], Integer> wdByPath = new TreeMap<>(Arrays::compareUnsigned);
    private boolean limitLogged;
    private volatile int watchCount;

    /** @param fatal told when not even a rescan covering a rejected change can be delivered */
    public InotifySource(FatalErrorHandler fatal) {
        this(16L << 20, fatal);
    }

    /**
     * @param readAheadBytes raw events held in user space while processing lags behind the kernel queue; 0 for
     *     none (one thread reads and processes, and only the kernel queue buffers)
     * @param fatal          told when not even a rescan covering a rejected change can be delivered, or a
     *     reader thread fails while handling a loss
     */
    public InotifySource(long readAheadBytes, FatalErrorHandler fatal) {
        this.readAheadBytes = readAheadBytes;
        this.fatal = fatal;
    }

    @Override
    public String name() {
        return "inotify";
    }

    @Override
    public io.rtbackup.schema.CaptureSource kind() {
        return io.rtbackup.schema.CaptureSource.INOTIFY;
    }

    /** Directories currently watched. */
    public int watches() {
        return watchCount;
    }

    @Override
    public synchronized void start(List<WatchedRoot> watched, ChangeSink sink) throws CaptureUnavailableException {
        if (running) throw new IllegalStateException("inotify source already started");
        int f = C.inotify_init1(InotifyLib.IN_NONBLOCK | InotifyLib.IN_CLOEXEC);
        if (f < 0) {
            int errno = Native.getLastError();
            throw new CaptureUnavailableException("inotify_init1 failed, errno " + errno
                    + (errno == InotifyLib.EMFILE ? " (fs.inotify.max_user_instances reached)" : ""));
        }
        fd = f;
        this.sink = new LossReportingSink(name(), sink, fatal);
        this.roots = List.copyOf(watched);
        long t0 = System.nanoTime();
        for (WatchedRoot root : watched) {
            byte[] path = root.absolutePath();
            if (addWatch(path) < 0 && !limitLogged) {
                C.close(fd);
                fd = -1;
                throw new CaptureUnavailableException("cannot watch root " + root + " with inotify");
            }
            watchTree(path, false);
        }
        running = true;
        ReadAheadQueue ahead = readAheadBytes > 0 ? new ReadAheadQueue(readAheadBytes) : null;
        reader = new Thread(fatal.guard("inotify capture reader", () -> drainLoop(ahead)), "rtb-capture-inotify");
        reader.setDaemon(true);
        if (ahead != null) {
            processor = new Thread(fatal.guard("inotify capture processor", () -> processLoop(ahead)),
                    "rtb-capture-inotify-events");
            processor.setDaemon(true);
            processor.start();
        }
        reader.start();
        log.info("inotify capture started on {} root(s): {} directories watched in {} ms", watched.size(),
                pathByWd.size(), (System.nanoTime() - t0) / 1_000_000);
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
            if (fd >= 0) C.close(fd);
            fd = -1;
        }
    }

    /** Adds a watch; returns the wd, or -1 when the directory is gone or the watch limit is reached. */
    private int addWatch(byte[] dir) {
        int wd = C.inotify_add_watch(fd, InotifyLib.cstr(dir), MASK);
        if (wd < 0) {
            int errno = Native.getLastError();
            if (errno == InotifyLib.ENOSPC) {
                if (!limitLogged) {
                    log.error("inotify watch limit reached while watching {}: raise fs.inotify.max_user_watches"
                            + " (sysctl -w fs.inotify.max_user_watches=N) or use fanotify; that subtree is"
                            + " rescanned but later changes in unwatched directories are not seen",
                            BytePaths.show(dir));
                    limitLogged = true;
                }
                deliver(new RawChange.Overflow(dir, 0, nowNs()));
            } else if (errno != InotifyLib.ENOENT && errno != InotifyLib.ENOTDIR) {
                log.warn("inotify_add_watch({}) failed, errno {}; rescanning it", BytePaths.show(dir), errno);
                deliver(new RawChange.Rescan(dir, nowNs()));
            }
            return -1;
        }
        byte[] old = pathByWd.put(wd, dir);
        if (old != null && !Arrays.equals(old, dir)) wdByPath.remove(old);
        wdByPath.put(dir, wd);
        watchCount = pathByWd.size();
        return wd;
    }

    /**
     * Watches every directory below {@code dir} (already watched itself). Each directory is watched before it
     * is listed, so nothing created meanwhile slips through; with {@code report} every entry found is reported
     * as created, because it may have appeared before any watch could see it.
     */
    private void watchTree(byte[] dir, boolean report) {
        try {
            ByteFs.walk(dir, (rel, st) -> {
                byte[] abs = BytePaths.join(dir, rel);
                if (report) deliver(created(abs, st));
                if (st.isDir()) return addWatch(abs) >= 0;
                return false;
            });
        } catch (ErrnoException e) {
            if (e.errno() != InotifyLib.ENOENT && e.errno() != InotifyLib.ENOTDIR) {
                log.warn("listing {} failed: {}; rescanning it", BytePaths.show(dir), e.getMessage());
                deliver(new RawChange.Rescan(dir, nowNs()));
            }
        } catch (IOException e) {
            log.warn("listing {} failed: {}; rescanning it", BytePaths.show(dir), e.getMessage());
            deliver(new RawChange.Rescan(dir, nowNs()));
        }
    }

    private static RawChange created(byte[] abs, Stat st) {
        FileOp op = st.isDir() ? FileOp.MKDIR : st.isSymlink() ? FileOp.SYMLINK
                : st.nlink() > 1 ? FileOp.LINK : FileOp.CREATE;
        return new RawChange.PathChange(op, abs, st.isDir(), nowNs(), st.ino());
    }

    /** Empties the kernel queue; with a read-ahead buffer the processing happens on {@link #processLoop}. */
    private void drainLoop(ReadAheadQueue ahead) {
        Memory pollfd = new Memory(8);
        Memory buf = new Memory(READ_BUFFER);
        pollfd.setInt(0, fd);
        pollfd.setShort(4, InotifyLib.POLLIN);
        while (running) {
            try {
                pollfd.setShort(6, (short) 0);
                int rc = C.poll(pollfd, 1, ahead == null && pendingMove != null ? 5 : 200);
                if (rc <= 0) {
                    if (ahead == null) flushPendingMove(); // nothing followed a moved-from: it left the tree
                    continue;
                }
                while (running) {
                    long n = C.read(fd, buf, READ_BUFFER);
                    if (n < 0) {
                        int errno = Native.getLastError();
                        if (errno == InotifyLib.EINTR) continue;
                        if (errno != InotifyLib.EAGAIN) {
                            log.error("reading the inotify queue failed, errno {}; reporting an overflow", errno);
                            if (ahead != null) {
                                ahead.markLost();
                            } else {
                                lost();
                            }
                            Thread.sleep(100);
                        }
                        break;
                    }
                    if (n == 0) break;
                    byte[] chunk = new byte[(int) n];
                    buf.read(0, chunk, 0, (int) n);
                    if (ahead != null) {
                        ahead.offer(chunk);
                    } else {
                        parse(ByteBuffer.wrap(chunk).order(ByteOrder.nativeOrder()), chunk.length);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // what the failed read held is covered by a rescan of every root; the next read goes on
                log.error("inotify reader hit an unexpected error; requesting a rescan of every root", e);
                if (ahead != null) {
                    ahead.markLost(); // the processing thread rescans and re-watches, in order
                } else {
                    lost();
                }
            }
        }
        if (ahead == null) flushPendingMove();
    }

    private void processLoop(ReadAheadQueue ahead) {
        while (running || !ahead.isEmpty()) {
            try {
                byte[] chunk = ahead.poll(pendingMove != null ? 5 : 100);
                if (chunk == null) {
                    flushPendingMove(); // nothing followed a moved-from: it left the watched tree
                } else if (chunk == ReadAheadQueue.LOST) {
                    log.warn("inotify events were lost in user space (processing lagged by more than {} bytes)",
                            readAheadBytes);
                    lost();
                } else {
                    parse(ByteBuffer.wrap(chunk).order(ByteOrder.nativeOrder()), chunk.length);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // what the failed chunk held (maybe a new directory to watch) is covered by lost()
                log.error("inotify event processing failed; requesting a rescan of every root", e);
                lost();
            }
        }
        flushPendingMove();
    }

    /** Events were lost: rescan every root, and watch directories whose creation went unseen. */
    private void lost() {
        flushPendingMove();
        deliver(new RawChange.Overflow(null, 0, nowNs()));
        for (WatchedRoot root : roots) {
            byte[] path = root.absolutePath();
            if (addWatch(path) >= 0) watchTree(path, false);
        }
    }

    private record PendingMove(int cookie, byte[] from, boolean dir, long timeNs) {}

    private volatile PendingMove pendingMove;

    private void parse(ByteBuffer bb, int n) {
        int off = 0;
        while (off + 16 <= n) {
            int wd = bb.getInt(off);
            int mask = bb.getInt(off + 4);
            int cookie = bb.getInt(off + 8);
            int len = bb.getInt(off + 12);
            int nameEnd = off + 16;
            while (nameEnd < off + 16 + len && bb.get(nameEnd) != 0) nameEnd++;
            byte[] name = new byte[nameEnd - off - 16];
            bb.get(off + 16, name);
            off += 16 + len;
            handle(wd, mask, cookie, name);
        }
    }

    private void handle(int wd, int mask, int cookie, byte[] name) {
        long now = nowNs();
        if ((mask & InotifyLib.IN_Q_OVERFLOW) != 0) {
            log.warn("inotify queue overflowed: events were lost, requesting a rescan of every root");
            lost();
            return;
        }
        if ((mask & InotifyLib.IN_IGNORED) != 0) {
            byte[] p = pathByWd.remove(wd);
            if (p != null && Integer.valueOf(wd).equals(wdByPath.get(p))) wdByPath.remove(p);
            watchCount = pathByWd.size();
            return;
        }
        byte[] dirPath = pathByWd.get(wd);
        if (dirPath == null || name.length == 0) return; // stale watch, or an event on the directory itself
        byte[] path = BytePaths.join(dirPath, name);
        boolean dir = (mask & InotifyLib.IN_ISDIR) != 0;

        if (pendingMove != null && !((mask & InotifyLib.IN_MOVED_TO) != 0 && cookie == pendingMove.cookie)) {
            flushPendingMove();
        }
        if ((mask & InotifyLib.IN_MOVED_FROM) != 0) {
            pendingMove = new PendingMove(cookie, path, dir, now);
            return;
        }
        if ((mask & InotifyLib.IN_MOVED_TO) != 0) {
            PendingMove from = pendingMove;
            pendingMove = null;
            if (from != null) {
                if (dir) renameWatches(from.from, path);
                deliver(new RawChange.Rename(from.from, path, dir, now));
            } else {
                deliver(new RawChange.PathChange(FileOp.MOVE_TO, path, dir, now, RawChange.PathChange.NO_INODE));
                if (dir && addWatch(path) >= 0) {
                    watchTree(path, false);
                    deliver(new RawChange.Rescan(path, nowNs())); // moved in from elsewhere: its whole content
                }
            }
            return;
        }
        if ((mask & InotifyLib.IN_CREATE) != 0) {
            if (dir) {
                deliver(new RawChange.PathChange(FileOp.MKDIR, path, true, now, RawChange.PathChange.NO_INODE));
                if (addWatch(path) >= 0) watchTree(path, true);
            } else {
                deliver(createdFile(path, now));
            }
        }
        if ((mask & InotifyLib.IN_MODIFY) != 0) {
            deliver(new RawChange.PathChange(FileOp.MODIFY, path, dir, now, RawChange.PathChange.NO_INODE));
        }
        if ((mask & InotifyLib.IN_ATTRIB) != 0) {
            deliver(new RawChange.PathChange(FileOp.ATTRIB, path, dir, now, RawChange.PathChange.NO_INODE));
        }
        if ((mask & InotifyLib.IN_CLOSE_WRITE) != 0) {
            deliver(new RawChange.PathChange(FileOp.CLOSE_WRITE, path, dir, now, RawChange.PathChange.NO_INODE));
        }
        if ((mask & InotifyLib.IN_DELETE) != 0) {
            deliver(new RawChange.PathChange(dir ? FileOp.RMDIR : FileOp.DELETE, path, dir, now,
                    RawChange.PathChange.NO_INODE));
        }
    }

    private RawChange createdFile(byte[] path, long now) {
        try {
            Optional<Stat> st = ByteFs.lstat(path);
            if (st.isPresent()) {
                Stat s = st.get();
                FileOp op = s.isSymlink() ? FileOp.SYMLINK : s.nlink() > 1 && !s.isDir() ? FileOp.LINK
                        : FileOp.CREATE;
                return new RawChange.PathChange(op, path, false, now, s.ino());
            }
        } catch (ErrnoException e) {
            // gone already: still a create, the delete follows
        }
        return new RawChange.PathChange(FileOp.CREATE, path, false, now, RawChange.PathChange.NO_INODE);
    }

    /** A moved-from without its moved-to: the entry left the watched tree. */
    private void flushPendingMove() {
        PendingMove p = pendingMove;
        if (p == null) return;
        pendingMove = null;
        if (p.dir) dropWatches(p.from);
        deliver(new RawChange.PathChange(FileOp.MOVE_FROM, p.from, p.dir, p.timeNs, RawChange.PathChange.NO_INODE));
    }

    /** The watches follow the inodes; only our path bookkeeping changes. */
    private void renameWatches(byte[] from, byte[] to) {
        List<Map.Entry<byte[], Integer>> moved = new ArrayList<>(subtree(from));
        for (Map.Entry<byte[], Integer> e : moved) wdByPath.remove(e.getKey());
        for (Map.Entry<byte[], Integer> e : moved) {
            byte[] newPath = BytePaths.concat(to, Arrays.copyOfRange(e.getKey(), from.length, e.getKey().length));
            wdByPath.put(newPath, e.getValue());
            pathByWd.put(e.getValue(), newPath);
        }
    }

    private void dropWatches(byte[] dir) {
        List<Map.Entry<byte[], Integer>> gone = new ArrayList<>(subtree(dir));
        for (Map.Entry<byte[], Integer> e : gone) {
            wdByPath.remove(e.getKey());
            pathByWd.remove(e.getValue());
            C.inotify_rm_watch(fd, e.getValue());
        }
        watchCount = pathByWd.size();
    }

    /** Entries for {@code dir} and every path below it. */
    private List<Map.Entry<byte[], Integer>> subtree(byte[] dir) {
        List<Map.Entry<byte[], Integer>> out = new ArrayList<>();
        Integer exact = wdByPath.get(dir);
        if (exact != null) out.add(Map.entry(dir, exact));
        byte[] from = Arrays.copyOf(dir, dir.length + 1);
        from[dir.length] = '/';
        byte[] to = Arrays.copyOf(dir, dir.length + 1);
        to[dir.length] = '/' + 1;
        Iterator<Map.Entry<byte[], Integer>> it = wdByPath.subMap(from, true, to, false).entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<byte[], Integer> e = it.next();
            out.add(Map.entry(e.getKey(), e.getValue()));
        }
        return out;
    }

    private void deliver(RawChange change) {
        sink.accept(change); // a LossReportingSink: a rejected change becomes a rescan there
    }

    private static long nowNs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
