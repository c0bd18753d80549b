package io.rtbackup.agent.exec;

import io.rtbackup.fs.BytePaths;
import java.util.Arrays;

/**
 * One root-relative path of a validated command, as rsync will receive it, with what the validator found there.
 * The path may be shorter than the one the worker sent: when a parent directory is gone, the topmost missing
 * component is listed instead, because rsync cannot delete "gone/x" from the destination when "gone" is missing
 * on the source (it reports the implied directory as vanished and deletes nothing).
 */
public record ListedPath(byte[] path, Presence presence) {

    /** What the path is on the source, seen just before rsync runs. */
    public enum Presence {
        REGULAR, DIRECTORY, OTHER, MISSING
    }

    public ListedPath {
        path = path.clone();
    }

    @Override
    public byte[] path() {
        return path.clone();
    }

    byte[] rawPath() {
        return path;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ListedPath l && Arrays.equals(l.path, path) && l.presence == presence;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(path) * 31 + presence.hashCode();
    }

    @Override
    public String toString() {
        return BytePaths.show(path) + "(" + presence + ")";
    }
}
