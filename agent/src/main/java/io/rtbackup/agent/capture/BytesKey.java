package io.rtbackup.agent.capture;

import java.util.Arrays;

/**
 * A byte string as a hash key, compared by content, its hash computed once (file handles, raw paths). The array
 * is not copied: callers hand over arrays they no longer change.
 */
public final class BytesKey {
    public final byte[] bytes;
    private final int hash;

    public BytesKey(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BytesKey k && k.hash == hash && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
