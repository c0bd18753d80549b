package io.rtbackup.fs;

import java.io.IOException;

/** Receives the entries of {@link ByteFs#walk(byte[], TreeVisitor)}. */
@FunctionalInterface
public interface TreeVisitor {

    /**
     * Called once per entry below the root (not for the root itself), a directory before its contents, the
     * entries of one directory in unsigned byte order of their names.
     *
     * @param relPath the entry's path relative to the root, no leading slash
     * @param stat    the entry's lstat (symlinks are reported, never followed)
     * @return for a directory: whether to walk into it; ignored for other entries
     */
    boolean visit(byte[] relPath, Stat stat) throws IOException;
}
