package io.rtbackup.agent.capture.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A directory handle that {@code open_by_handle_at} cannot open for any reason but ESTALE (the directory is gone,
 * and its removal was reported) leaves an event unplaced: the resolver must ask for a rescan instead of dropping it.
 */
class HandleResolverTest {

    private final AtomicInteger rescans = new AtomicInteger();
    // fd -1 as filesystem 42's mount fd: open_by_handle_at fails with EBADF, a failure that is not "gone"
    private final HandleResolver resolver = new HandleResolver(Map.of(42L, -1), 16, rescans::incrementAndGet);

    /** A named directory record on filesystem {@code fsid}. */
    private static FanotifyRecord.Fid named(long fsid) {
        FanotifyRecord.FileHandle fh = new FanotifyRecord.FileHandle(fsid, 1, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        return new FanotifyRecord.Fid(FanotifyRecord.FidType.DFID_NAME, fh, "f".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aHandleThatCannotBeOpenedForAnyReasonButEstaleRequestsARescan() {
        assertThat(resolver.resolve(named(42L))).isNull();
        assertThat(rescans).hasValue(1);
    }

    @Test
    void aHandleOnAFilesystemNoRootLivesOnIsNotOurs() {
        assertThat(resolver.resolve(named(7L))).isNull();
        assertThat(rescans).hasValue(0);
    }
}
