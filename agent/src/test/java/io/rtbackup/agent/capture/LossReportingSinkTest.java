package io.rtbackup.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** The one rule for a change the pipeline rejects: a rescan of its directory, or the end of the process. */
class LossReportingSinkTest {

    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
    private final List<RawChange> got = new ArrayList<>();

    private static byte[] b(String s) {
        return BytePaths.utf8(s);
    }

    /** A downstream sink that throws on the changes {@code rejects} picks and keeps the rest. */
    private LossReportingSink sink(Predicate<RawChange> rejects) {
        return new LossReportingSink("test", change -> {
            if (rejects.test(change)) throw new IllegalStateException("downstream bug");
            got.add(change);
        }, fatal);
    }

    @Test
    void aRejectedChangeBecomesAnOverflowOfItsDirectoryAndLaterChangesStillPass() {
        LossReportingSink sink = sink(c -> c instanceof RawChange.PathChange p && p.op() == FileOp.CREATE);

        sink.accept(new RawChange.PathChange(FileOp.CREATE, b("/srv/data/sub/file"), false, 7, 1));
        sink.accept(new RawChange.PathChange(FileOp.DELETE, b("/srv/data/other"), false, 8, 2));

        assertThat(got).hasSize(2);
        assertThat(got.get(0)).isInstanceOfSatisfying(RawChange.Overflow.class, o -> {
            assertThat(BytePaths.show(o.scope())).isEqualTo("/srv/data/sub");
            assertThat(o.timeNs()).isEqualTo(7);
        });
        assertThat(got.get(1)).isInstanceOf(RawChange.PathChange.class);
        fatal.assertNone();
    }

    @Test
    void aRejectedRenameIsCoveredByTheDirectoryHoldingBothNames() {
        LossReportingSink sink = sink(c -> c instanceof RawChange.Rename);

        sink.accept(new RawChange.Rename(b("/srv/data/a/x/f"), b("/srv/data/a/y/g"), false, 1));
        sink.accept(new RawChange.Rename(b("/srv/one/f"), b("/home/two/f"), false, 2));

        assertThat(got).map(c -> BytePaths.show(((RawChange.Overflow) c).scope()))
                .containsExactly("/srv/data/a", "/");
        fatal.assertNone();
    }

    @Test
    void whenTheRescanIsRejectedTooTheProcessEndsAndNothingMoreIsTaken() {
        LossReportingSink sink = sink(c -> true);

        sink.accept(new RawChange.PathChange(FileOp.MODIFY, b("/srv/data/f"), false, 1, 1));
        sink.accept(new RawChange.PathChange(FileOp.MODIFY, b("/srv/data/g"), false, 2, 2));

        assertThat(fatal.reports()).singleElement().satisfies(r -> {
            assertThat(r.component()).contains("test capture").contains("/srv/data/f");
            assertThat(r.cause()).hasMessage("downstream bug");
        });
        assertThat(got).isEmpty();
    }

    @Test
    void aRejectedOverflowEndsTheProcessAtOnce() {
        LossReportingSink sink = sink(c -> c instanceof RawChange.Overflow);

        sink.accept(new RawChange.Overflow(null, 5, 1));

        assertThat(fatal.reports()).hasSize(1);
        assertThat(got).isEmpty();
    }
}
