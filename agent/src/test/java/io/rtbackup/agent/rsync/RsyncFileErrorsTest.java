package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.rsync.RsyncFileErrors.FileError;
import io.rtbackup.agent.rsync.RsyncFileErrors.Kind;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Messages as Debian's rsync 3.2.7 printed them (C locale) in runs recorded for these cases. */
class RsyncFileErrorsTest {
    private static final String ROOT = "/tmp/stk/src";

    private static byte[] bytes(String isoLatin1) {
        return isoLatin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void senderMessagesNameSourcePathsWithTheirEscapesUndone() {
        String stderr = """
            rsync: [sender] link_stat "/tmp/stk/src/gone" failed: No such file or directory (2)
            rsync: [sender] send_files failed to open "/tmp/stk/src/bad name\\#012x": Permission denied (13)
            rsync: [sender] send_files failed to open "/tmp/stk/src/h\\#001\\#377#q": Permission denied (13)
            rsync: [sender] send_files failed to open "/tmp/stk/src/b\\#134#012s": Permission denied (13)
            rsync: [sender] send_files failed to open "/tmp/stk/src/q"uo": x": Permission denied (13)
            rsync: [sender] send_files failed to open "/tmp/stk/src/tab\tn\\#303\\#251": Permission denied (13)
            rsync: [sender] opendir "/tmp/stk/src/locked" failed: Permission denied (13)
            rsync: [sender] link_stat "/tmp/stk/src/locked2/x/f" failed: Permission denied (13)
            file has vanished: "/tmp/stk/src/b_small"
            rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1347) [sender=3.2.7]
            """;
        RsyncFileErrors e = RsyncFileErrors.ofPush(stderr, true, ROOT);

        assertThat(e.destinationOrUnknown()).isFalse();
        assertThat(e.errors()).containsExactly(
            new FileError(Kind.SOURCE_VANISHED, bytes("gone"), "link_stat failed: No such file or directory (2)"),
            new FileError(Kind.SOURCE_UNREADABLE, bytes("bad name\nx"),
                "send_files failed to open: Permission denied (13)"),
            new FileError(Kind.SOURCE_UNREADABLE, bytes("h\u0001\u00ff#q"),
                "send_files failed to open: Permission denied (13)"),
            new FileError(Kind.SOURCE_UNREADABLE, bytes("b\\#012s"),
                "send_files failed to open: Permission denied (13)"),
            new FileError(Kind.SOURCE_UNREADABLE, bytes("q\"uo\": x"),
                "send_files failed to open: Permission denied (13)"),
            new FileError(Kind.SOURCE_UNREADABLE, bytes("tab\tn\u00c3\u00a9"),
                "send_files failed to open: Permission denied (13)"),
            new FileError(Kind.SOURCE_UNREADABLE, bytes("locked"), "opendir failed: Permission denied (13)"),
            new FileError(Kind.SOURCE_UNREADABLE, bytes("locked2/x/f"), "link_stat failed: Permission denied (13)"),
            new FileError(Kind.SOURCE_VANISHED, bytes("b_small"), "file has vanished"));
        assertThat(e.unreadable()).hasSize(7);
    }

    @Test
    void receiverAndGeneratorMessagesAreTheDestinations() {
        String stderr = """
            rsync: [generator] failed to set times on "/r/." (in m): Operation not permitted (1)
            rsync: [generator] recv_generator: mkdir "/r/locked" (in m) failed: Operation not permitted (1)
            *** Skipping any contents from this failed directory ***
            rsync: [receiver] mkstemp "/r/ro/.f.A0nt91" (in m) failed: Operation not permitted (1)
            rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1347) [sender=3.2.7]
            """;
        RsyncFileErrors e = RsyncFileErrors.ofPush(stderr, true, ROOT);

        assertThat(e.errors()).extracting(FileError::kind).containsOnly(Kind.DESTINATION).hasSize(3);
        assertThat(e.destinationOrUnknown()).isTrue();
        assertThat(e.unreadable()).isEmpty();
    }

    @Test
    void aLineThatCannotBePlacedOrACutOffOutputIsUnknown() {
        assertThat(RsyncFileErrors.ofPush("could not make way for new regular file: x\n", true, ROOT).errors())
            .extracting(FileError::kind).containsExactly(Kind.UNKNOWN);
        assertThat(RsyncFileErrors.ofPush("rsync: [sender] read errors mapping \"/elsewhere/f\": Input/output "
            + "error (5)\n", true, ROOT).destinationOrUnknown()).isTrue();
        assertThat(RsyncFileErrors.ofPush("rsync: [sender] opendir \"/tmp/stk/src/.\" failed: Permission denied "
            + "(13)\n", true, ROOT).errors()).extracting(FileError::kind).containsExactly(Kind.UNKNOWN);
        RsyncFileErrors cut = RsyncFileErrors.ofPush("rsync: [sender] opendir \"/tmp/stk/src/d\" failed: "
            + "Permission denied (13)\n", false, ROOT);
        assertThat(cut.unreadable()).hasSize(1);
        assertThat(cut.destinationOrUnknown()).isTrue();
    }

    @Test
    void aRootGivenWithItsTrailingSlashReadsTheSame() {
        assertThat(RsyncFileErrors.ofPush("file has vanished: \"/tmp/stk/src/a\"\n", true, ROOT + "/").errors())
            .containsExactly(new FileError(Kind.SOURCE_VANISHED, bytes("a"), "file has vanished"));
    }
}
