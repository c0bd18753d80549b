package io.rtbackup.agent.versions;

import io.rtbackup.agent.versions.VersionStore.Entry;
import io.rtbackup.agent.versions.VersionStore.Listed;
import io.rtbackup.agent.versions.VersionStore.Mirror;
import io.rtbackup.agent.versions.VersionStore.Source;
import io.rtbackup.agent.versions.VersionStore.Version;
import io.rtbackup.fs.BytePaths;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kept copies of one path of a replica tree, newest first: the current copy in the mirror (if the path is
 * there) and then every version dir that holds the path or anything below it. A version dir stamped {@code ts}
 * holds what the sync starting at {@code ts} overwrote or deleted, so its copy was the live one until {@code ts}.
 * Reads with three rsync listings through {@link VersionStore} (the version dirs, their entries, the mirror's),
 * whatever the number of versions.
 */
public final class VersionHistory {
    private VersionHistory() {
    }

    /**
     * One kept copy of the path.
     *
     * @param source            the mirror (the current copy) or a version dir
     * @param type              the path's rsync type in that source: {@code f} file, {@code d} directory,
     *                          {@code L} symlink, {@code D}/{@code S} device or special
     * @param files             1 for a non-directory; for a directory, the non-directories kept below it
     * @param bytes             the size of a file or symlink; for a directory, the sum over the regular files below it
     * @param newestMtimeSecond the copy's mtime; for a directory, the newest mtime below it (0 when empty)
     */
    public record Copy(Source source, char type, long files, long bytes, long newestMtimeSecond) {
        public boolean isCurrent() {
            return source instanceof Mirror;
        }

        public boolean isDirectory() {
            return type == 'd';
        }
    }

    /** The history of {@code rel} (root-relative; empty: the whole root) and every version dir that exists. */
    public record History(List<Copy> copies, List<VersionStamp> allVersions) {
        /** The copies in version dirs (not the current one), newest first. */
        public List<Copy> kept() {
            return copies.stream().filter(c -> !c.isCurrent()).toList();
        }
    }

    public static History of(VersionStore store, byte[] rel) throws IOException {
        List<VersionStamp> all = store.versions();
        Map<Source, Acc> per = new LinkedHashMap<>();
        for (Listed l : store.list(rel, all, true)) {
            Entry e = l.entry();
            boolean self = Arrays.equals(e.path(), rel);
            boolean below = rel.length == 0 || BytePaths.startsWith(e.path(), rel) && e.path().length > rel.length
                && e.path()[rel.length] == '/';
            if (!self && !below) continue; // a parent directory rsync lists on the way to rel
            Acc a = per.computeIfAbsent(l.source(), s -> new Acc());
            if (self) {
                a.self = e;
            } else if (!e.isDirectory()) {
                a.files++;
                if (e.type() == 'f') a.bytes += e.size();
                a.newest = Math.max(a.newest, e.mtimeSecond());
            } else {
                a.any = true;
            }
        }
        List<Copy> out = new ArrayList<>();
        per.forEach((source, a) -> {
            if (a.self != null && !a.self.isDirectory()) {
                out.add(new Copy(source, a.self.type(), 1, a.self.size(), a.self.mtimeSecond()));
            } else if (a.self != null || a.files > 0 || a.any) {
                out.add(new Copy(source, 'd', a.files, a.bytes, a.newest));
            }
        });
        out.sort(NEWEST_FIRST);
        return new History(List.copyOf(out), all);
    }

    /** The mirror first, then version dirs by descending stamp. */
    private static final Comparator<Copy> NEWEST_FIRST = (x, y) -> {
        if (x.source() instanceof Version a && y.source() instanceof Version b) return b.stamp().compareTo(a.stamp());
        return Boolean.compare(y.isCurrent(), x.isCurrent());
    };

    /** What one source holds at and below the path. */
    private static final class Acc {
        Entry self;
        long files;
        long bytes;
        long newest;
        boolean any;
    }
}
