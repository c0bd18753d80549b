package io.rtbackup.agent.capture.fanotify;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The direct-mapped calls ({@link FanotifyLib.Direct}) leave errno where {@link Native#getLastError()} reads it:
 * {@link HandleResolver} tells a file that is gone (ESTALE) from a passing failure by it, and a lost errno would
 * read as fd 0.
 */
class FanotifyLibDirectTest {

    private static final int EBADF = 9;
    private static final int ENOENT = 2;

    @Test
    void failedCallsReportTheirErrno() {
        assertThat(FanotifyLib.Direct.close(-1)).isEqualTo(-1);
        assertThat(Native.getLastError()).isEqualTo(EBADF);

        Memory handle = new Memory(8 + FanotifyRecordDecoder.MAX_HANDLE_BYTES);
        handle.clear();
        handle.setInt(0, 8);
        assertThat(FanotifyLib.Direct.open_by_handle_at(-1, handle, FanotifyLib.O_PATH)).isEqualTo(-1);
        assertThat(Native.getLastError()).isEqualTo(EBADF);

        FanotifyLib.StatBuf stat = new FanotifyLib.StatBuf();
        assertThat(stat.lstat(FanotifyLib.cstr("/nonexistent/rtb".getBytes(StandardCharsets.US_ASCII)))).isFalse();
        assertThat(Native.getLastError()).isEqualTo(ENOENT);
    }

    @Test
    void statAndReadlinkReadWhatIsThere(@TempDir Path dir) throws Exception {
        Path target = Files.writeString(dir.resolve("target"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        FanotifyLib.StatBuf stat = new FanotifyLib.StatBuf();
        assertThat(stat.lstat(FanotifyLib.cstr(link.toString().getBytes(StandardCharsets.UTF_8)))).isTrue();
        assertThat(stat.mode() & FanotifyLib.S_IFMT).isEqualTo(FanotifyLib.S_IFLNK);
        byte[] buf = new byte[4096];
        long n = FanotifyLib.Direct.readlink(FanotifyLib.cstr(link.toString().getBytes(StandardCharsets.UTF_8)), buf,
                buf.length);
        assertThat(new String(buf, 0, (int) n, StandardCharsets.UTF_8)).isEqualTo(target.toString());
    }
}
