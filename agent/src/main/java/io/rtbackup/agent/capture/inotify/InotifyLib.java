package io.rtbackup.agent.capture.inotify;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** The libc calls inotify capture needs, bound with JNA; errno through {@link Native#getLastError()}. */
final class InotifyLib {

    interface C extends Library {
        int inotify_init1(int flags);

        int inotify_add_watch(int fd, byte[] pathname, int mask);

        int inotify_rm_watch(int fd, int wd);

        long read(int fd, Pointer buf, long count);

        int close(int fd);

        int poll(Pointer fds, long nfds, int timeoutMs);
    }

    static final C C = Native.load("c", C.class);

    static final int IN_NONBLOCK = 0x800;
    static final int IN_CLOEXEC = 0x80000;

    static final int IN_MODIFY = 0x2;
    static final int IN_ATTRIB = 0x4;
    static final int IN_CLOSE_WRITE = 0x8;
    static final int IN_MOVED_FROM = 0x40;
    static final int IN_MOVED_TO = 0x80;
    static final int IN_CREATE = 0x100;
    static final int IN_DELETE = 0x200;
    static final int IN_DELETE_SELF = 0x400;
    static final int IN_MOVE_SELF = 0x800;
    static final int IN_UNMOUNT = 0x2000;
    static final int IN_Q_OVERFLOW = 0x4000;
    static final int IN_IGNORED = 0x8000;
    static final int IN_ONLYDIR = 0x01000000;
    static final int IN_DONT_FOLLOW = 0x02000000;
    static final int IN_EXCL_UNLINK = 0x04000000;
    static final int IN_ISDIR = 0x40000000;

    static final short POLLIN = 0x1;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int ENOENT = 2;
    static final int ENOTDIR = 20;
    static final int ENOSPC = 28;
    static final int EMFILE = 24;

    private InotifyLib() {
    }

    static byte[] cstr(byte[] path) {
        byte[] c = new byte[path.length + 1];
        System.arraycopy(path, 0, c, 0, path.length);
        return c;
    }
}
