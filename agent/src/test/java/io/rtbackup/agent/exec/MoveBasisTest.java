package io.rtbackup.agent.exec;

import static io.rtbackup.agent.exec.Commands.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which renamed paths get a basis pass, grouped by their new directory; the destination is not read. */
class MoveBasisTest {
    private final RecentMoves moves = RecentMoves.standard();
    private final MoveBasis basis = new MoveBasis(moves);

    private void moved(String from, String to, boolean dir) {
        moves.observe(new CapturedEvent("r", b(to), FileOp.MOVE_TO, dir, b(from), CaptureSource.FANOTIFY, 0, -1));
    }

    private static ReplicationJob job(ListedPath... paths) {
        return new ReplicationJob("c1", "h", "r", "/src", null, "h/r", new ReplicationJob.Paths(List.of(paths)));
    }

    private static ListedPath file(String p) {
        return new ListedPath(b(p), Presence.REGULAR);
    }

    @Test
    void groupsByNewDirectoryAndListsSameDirectoryRenamesApart() {
        moved("a/x", "c/x", false);
        moved("b/y", "c/y2", false);
        moved("c/old", "c/new", false);        // same directory: the in-place pass's --fuzzy finds it
        moved("top", "top2", false);           // same directory, the root
        moved("s*/o\u00ff", "s*/n\u00ff", false); // on stdin: any name will do
        moved("photos", "albums", true);
        moved("q/z", "albums/sub/z", false);   // below a renamed directory: its pass covers it
        moved("albums/sub/a", "albums/sub/b", false); // the same
        MoveBasis.Bases bases = basis.bases(job(file("c/x"), file("c/y2"), file("c/new"), file("top2"),
            file("s*/n\u00ff"), new ListedPath(b("albums"), Presence.DIRECTORY), file("albums/sub/z"),
            file("albums/sub/b"), file("c/unmoved"), new ListedPath(b("a/x"), Presence.MISSING)));
        assertThat(bases.inPlace()).containsExactly(b("c/new"), b("top2"), b("s*/n\u00ff"));
        List<MoveBasis.Relocation> r = bases.relocations();
        assertThat(r).hasSize(2);
        assertThat(r.get(0).newDir()).isEqualTo("albums");
        assertThat(r.get(0).oldDirs()).containsExactly("photos");
        assertThat(r.get(0).names()).isEmpty();
        assertThat(r.get(1).newDir()).isEqualTo("c");
        assertThat(r.get(1).oldDirs()).containsExactly("a", "b");
        assertThat(r.get(1).names()).hasValueSatisfying(n -> assertThat(n).containsExactly(b("x"), b("y2")));
    }

    @Test
    void directoriesWhoseNamesWouldNotSurviveAnArgumentGoWithoutABasis() {
        moved("a/x", "star*/x", false);
        moved("back\\slash/y", "d/y", false);
        moved("o\u00ff", "n", true);
        moved("ok/z", "fine dir/z", false);
        List<MoveBasis.Relocation> r = basis.bases(job(file("star*/x"), file("d/y"),
            new ListedPath(b("n"), Presence.DIRECTORY), file("fine dir/z"))).relocations();
        assertThat(r).hasSize(1);
        assertThat(r.get(0).newDir()).isEqualTo("fine dir");
        assertThat(r.get(0).oldDirs()).containsExactly("ok");
    }
}
