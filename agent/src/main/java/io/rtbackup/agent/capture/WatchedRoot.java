package io.rtbackup.agent.capture;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A configured root as the capture layer sees it: its id and its absolute path as bytes, without a trailing
 * slash (except for "/" itself).
 */
public record WatchedRoot(String id, byte[] absolutePath) {
    public WatchedRoot {
        if (id == null || id.isEmpty()) throw new IllegalArgumentException("root id must not be empty");
        if (absolutePath == null || absolutePath.length == 0 || absolutePath[0] != '/') {
            throw new IllegalArgumentException("root '" + id + "' must have an absolute path");
        }
        absolutePath = absolutePath.clone();
    }

    public static WatchedRoot of(String id, String absolutePath) {
        return new WatchedRoot(id, absolutePath.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public byte[] absolutePath() {
        return absolutePath.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WatchedRoot r && r.id.equals(id) && Arrays.equals(r.absolutePath, absolutePath);
    }

    @Override
    public int hashCode() {
        return id.hashCode() * 31 + Arrays.hashCode(absolutePath);
    }

    @Override
    public String toString() {
        return id + "=" + new String(absolutePath, StandardCharsets.UTF_8);
    }
}
