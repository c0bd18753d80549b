package io.rtbackup.agent.capture.fanotify;

import java.util.Arrays;
import java.util.List;

/** The absolute paths of the watched roots, and whether a path lies under one (a filesystem mark sees the disk). */
final class RootPaths {
    private final List<byte[]> roots;

    RootPaths(List<byte[]> roots) {
        this.roots = List.copyOf(roots);
    }

    /** True when {@code path} is a root or lies under one. */
    boolean contains(byte[] path) {
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
