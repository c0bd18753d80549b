package io.rtbackup.agent.versions;

import io.rtbackup.agent.versions.VersionStore.Entry;
import io.rtbackup.agent.versions.VersionStore.Listed;
import io.rtbackup.agent.versions.VersionStore.Mirror;
import io.rtbackup.agent.versions.VersionStore.Source;
import io.rtbackup.agent.versions.VersionStore.Version;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.Stat;
import java.io.IOException;
import java.nio.ByteBuffer;
import io.rtbackup.agent.config.ExecConfig;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Brings back a file or a directory of one replica tree as it was at a point in time.
 *
 * <p>The rule. A version dir stamped {@code ts} holds what the sync starting at {@code ts} overwrote or
 * deleted: the state that was live in the mirror just before {@code ts}. So the state of a path at {@code T}
 * is its copy in the <em>earliest</em> version dir with {@code ts > T} that holds the path (the first sync
 * after {@code T} that changed it saved it), or, when no later sync touched it, the current mirror. If that
 * copy's mtime is later than {@code T} the path did not exist at {@code T}: it was created after {@code T}
 * (rsync {@code -a} keeps mtimes). A directory is restored by applying the rule to every file, symlink and
 * special file below it.
 *
 * <p>Limits, all of them consequences of reading only what rsync kept:
 * <ul>
 *   <li>Resolution is the sync, not the write: two writes between two syncs are one version, and the state
 *   "at T" is what the mirror held at T (a change made just before T but synced after T counts as after).</li>
 *   <li>The mtime test is wrong for files whose mtime does not tell their age: a file created after T with an
 *   old mtime (cp -p, tar, rsync -t) is restored as if it existed at T; a file whose mtime was set into the
 *   future is reported as created after T.</li>
 *   <li>After pruning, a time whose later versions may have been pruned (older than the age limit, or any
 *   time once the count limit is reached) is answered from what is left, which may be newer than the state at
 *   T; the restorer warns then.</li>
 *   <li>Empty directories are not restored (a directory comes back with the files in it).</li>
 * </ul>
 */
public final class Restorer {
    private final VersionStore store;
    private final Clock clock;

    public Restorer(VersionStore store) {
        this(store, Clock.systemUTC());
    }

    /** {@code clock} tells which versions the destination's retention may already have pruned. */
    public Restorer(VersionStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** What happened to one path. */
    public sealed interface Outcome permits Restored, CreatedLater {
        byte[] path();
    }

    /** Copied from {@code source}. */
    public record Restored(byte[] path, Source source) implements Outcome {
    }

    /** Did not exist at the time: the only copy there is has a later mtime. */
    public record CreatedLater(byte[] path, Source source) implements Outcome {
    }

    /**
     * The report of one restore.
     *
     * @param outcomes   every path considered, restored or not
     * @param versions   how many version dirs exist
     * @param warning    set when versions that decide the answer may have been pruned, or none exist
     */
    public record Report(List<Outcome> outcomes, int versions, Optional<String> warning) {
        public List<Restored> restored() {
            return outcomes.stream().filter(o -> o instanceof Restored).map(o -> (Restored) o).toList();
        }
    }

    /** Thrown when nothing can be restored; the message says why. */
    public static final class NothingToRestoreException extends IOException {
        public NothingToRestoreException(String message) {
            super(message);
        }
    }

    /**
     * Restores {@code rel} (relative to the root; empty: the whole root) as it was at {@code at} to
     * {@code toDir/rel}. {@code toDir/rel} must not exist: a restore never overwrites anything.
     */
    public Report restore(byte[] rel, Instant at, byte[] toDir) throws IOException {
        return restore(rel, toDir, at, null);
    }

    /**
     * Restores {@code rel} as it was just before the sync stamped {@code version} replaced it: what that version
     * dir holds of it exactly (whatever its mtime says), and for a directory the rest from the rule above at the
     * version's time. {@code toDir/rel} must not exist.
     */
    public Report restoreBefore(byte[] rel, VersionStamp version, byte[] toDir) throws IOException {
        return restore(rel, toDir, version.at(), version);
    }

    /** {@code trusted}: a version dir whose copies need no mtime test (they were live just before it). */
    private Report restore(byte[] rel, byte[] toDir, Instant at, VersionStamp trusted) throws IOException {
        byte[] target = rel.length == 0 ? toDir : BytePaths.join(toDir, rel);
        if (rel.length == 0 ? ByteFs.lstat(toDir).filter(s -> !s.isDir()).isPresent()
                || ByteFs.lstat(toDir).isPresent() && !ByteFs.list(toDir).isEmpty()
                : VersionStore.exists(target)) {
            throw new IOException("'" + BytePaths.show(target) + "' already exists; restore to another --to "
                + "directory (a restore never overwrites)");
        }
        List<VersionStamp> all = store.versions();
        if (trusted != null && !all.contains(trusted)) {
            throw new NothingToRestoreException("no version dir " + trusted.name() + " on " + store.describe());
        }
        List<VersionStamp> later = all.stream()
            .filter(s -> trusted != null ? s.compareTo(trusted) >= 0 : s.at().isAfter(at)).toList();
        List<Listed> listed = store.list(rel, later, true);

        // The earliest source per path: versions in time order, then the mirror.
        Map<ByteBuffer, Listed> chosen = new TreeMap<>();
        for (Listed l : listed) {
            if (l.entry().isDirectory()) continue;
            ByteBuffer key = ByteBuffer.wrap(l.entry().path());
            Listed prev = chosen.get(key);
            if (prev == null || earlier(l.source(), prev.source())) chosen.put(key, l);
        }
        Source exact = trusted == null ? null : new Version(trusted);
        if (exact != null && chosen.values().stream().noneMatch(l -> l.source().equals(exact))) {
            throw new NothingToRestoreException("version " + trusted.name() + " of " + store.describe() + " holds no "
                + "copy of " + describe(rel));
        }
        if (chosen.isEmpty()) {
            throw new NothingToRestoreException(describe(rel) + " is neither in the mirror nor in any version dir "
                + "after " + at + " of " + store.describe() + (all.isEmpty() ? " (no version dirs at all)" : ""));
        }

        long atSecond = at.getEpochSecond();
        List<Outcome> outcomes = new ArrayList<>();
        Map<Source, List<byte[]>> pulls = new LinkedHashMap<>();
        for (Listed l : chosen.values()) {
            Entry e = l.entry();
            if (e.mtimeSecond() > atSecond && !l.source().equals(exact)) {
                outcomes.add(new CreatedLater(e.path(), l.source()));
            } else {
                pulls.computeIfAbsent(l.source(), s -> new ArrayList<>()).add(e.path());
            }
        }
        ByteFs.mkdirs(toDir);
        long atNanos = atSecond * 1_000_000_000L + at.getNano();
        for (var pull : pulls.entrySet()) {
            store.pull(pull.getKey(), pull.getValue(), toDir);
            for (byte[] p : pull.getValue()) {
                byte[] abs = BytePaths.join(toDir, p);
                Optional<Stat> st = ByteFs.lstat(abs);
                if (st.isPresent() && st.get().mtimeNs() > atNanos && !pull.getKey().equals(exact)) {
                    // Same second as the time asked for, later nanoseconds: created after it.
                    ByteFs.delete(abs);
                    removeEmptyParents(BytePaths.parent(abs), target, toDir);
                    outcomes.add(new CreatedLater(p, pull.getKey()));
                } else {
                    outcomes.add(new Restored(p, pull.getKey()));
                }
            }
        }
        outcomes.sort((a, b) -> BytePaths.ORDER.compare(a.path(), b.path()));
        if (outcomes.stream().noneMatch(o -> o instanceof Restored)) {
            throw new NothingToRestoreException(describe(rel) + " did not exist at " + at + " on " + store.describe()
                + ": its oldest copy after that time was created later");
        }
        Optional<String> warning = Optional.empty();
        if (all.isEmpty()) {
            warning = Optional.of("no version dirs exist on " + store.describe() + ": restored from the current "
                + "mirror (is keep-versions on for this destination?)");
        } else if (mayBePruned(at, all.size())
                && outcomes.stream().anyMatch(o -> o instanceof Restored r && !r.source().equals(exact))) {
            warning = Optional.of(at + " is outside the retention of destination '" + store.destination().name()
                + "' (versions-keep-days=" + store.destination().versions().keepDays() + ", versions-keep="
                + store.destination().versions().keepCount() + "; oldest kept version " + all.get(0).name()
                + "): versions made after that time may have been pruned, so what was restored may be newer than "
                + "the state at that time");
        }
        return new Report(outcomes, all.size(), warning);
    }

    /**
     * Whether pruning may have removed a version dir stamped after {@code at}: only dirs older than the age limit,
     * or beyond the count limit once it is reached, are ever pruned.
     */
    private boolean mayBePruned(Instant at, int kept) {
        ExecConfig.Versions v = store.destination().versions();
        boolean byAge = v.maxAge().map(age -> at.isBefore(clock.instant().minus(age))).orElse(false);
        boolean byCount = v.keepCount() > 0 && kept >= v.keepCount();
        return byAge || byCount;
    }

    private static boolean earlier(Source a, Source b) {
        if (a instanceof Mirror) return false;
        if (b instanceof Mirror) return true;
        return ((Version) a).stamp().compareTo(((Version) b).stamp()) < 0;
    }

    /** Removes directories left empty by a dropped file, up to and including the restore target, never toDir. */
    private static void removeEmptyParents(byte[] dir, byte[] target, byte[] toDir) throws IOException {
        byte[] d = dir;
        while (BytePaths.startsWith(d, target) && !java.util.Arrays.equals(d, toDir)
                && d.length > toDir.length && ByteFs.list(d).isEmpty()) {
            ByteFs.delete(d);
            d = BytePaths.parent(d);
        }
    }

    private static String describe(byte[] rel) {
        return rel.length == 0 ? "the root" : "'" + BytePaths.show(rel) + "'";
    }
}
