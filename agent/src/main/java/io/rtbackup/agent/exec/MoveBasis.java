package io.rtbackup.agent.exec;

import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.exec.ReplicationJob.Paths;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.fs.BytePaths;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which renamed paths of a run can travel as a delta against the replica's copy under their old name, and where
 * that copy is. A run's own passes find no basis under another name: they go with {@code -H} and so without
 * {@code --fuzzy} (see {@link RsyncPlanner}), so every renamed file would be sent in full. For the present paths
 * of a run that this agent saw renamed ({@link RecentMoves}):
 * <ul>
 *   <li>a file renamed within its directory: listed in {@link Bases#inPlace()}, whose basis pass finds the old copy
 *   beside it with {@code --fuzzy} (same size and mtime, or else a similar name);</li>
 *   <li>a renamed directory D (was O): a {@link Relocation} of all of D, with O as basis (each file finds its old
 *   copy under the same name below it);</li>
 *   <li>files moved into D from other directories O1..On: a {@link Relocation} of their names in D, with O1..On
 *   as bases (at most {@value #MAX_BASES}, rsync's limit); a file renamed as well as moved is matched there by
 *   {@code --fuzzy --fuzzy}.</li>
 * </ul>
 * {@link RsyncPlanner} turns them into basis passes that run before the run's own passes, so the old copies still
 * exist when they serve as basis. A relocation's directory names go into rsync arguments, so only plain names
 * qualify ({@link #plain}); anything else is simply sent without a basis, which costs bandwidth, not correctness.
 * In-place renames go on stdin and need no such care. Pure: it reads neither the source nor the destination.
 */
final class MoveBasis {
    /** rsync accepts at most 20 --copy-dest/--compare-dest/--link-dest directories. */
    static final int MAX_BASES = 20;

    /**
     * Present paths under {@code newDir} (root-relative, "" for the root) whose earlier copies are in
     * {@code oldDirs} (root-relative): the whole directory when {@code names} is empty, else those names in it.
     */
    record Relocation(String newDir, List<String> oldDirs, Optional<List<byte[]>> names) {
        Relocation {
            oldDirs = List.copyOf(oldDirs);
            names = names.map(List::copyOf);
        }
    }

    /**
     * The basis passes a run wants: {@code relocations} (a directory's before the files moved into it), and
     * {@code inPlace}, the root-relative paths of files renamed within their directory (none below a relocated
     * directory, whose pass covers them).
     */
    record Bases(List<Relocation> relocations, List<byte[]> inPlace) {
        static final Bases NONE = new Bases(List.of(), List.of());

        Bases {
            relocations = List.copyOf(relocations);
            inPlace = List.copyOf(inPlace);
        }
    }

    private final RecentMoves moves;

    MoveBasis(RecentMoves moves) {
        this.moves = moves;
    }

    /** The basis passes for {@code job}'s renamed paths. */
    Bases bases(ReplicationJob job) {
        if (!(job.selection() instanceof Paths paths)) return Bases.NONE;
        Map<String, Set<String>> wholeDirs = new LinkedHashMap<>();
        Map<String, Set<String>> fileBases = new LinkedHashMap<>();
        Map<String, List<byte[]>> fileNames = new LinkedHashMap<>();
        List<byte[]> inPlace = new ArrayList<>();
        for (ListedPath l : paths.paths()) {
            if (l.presence() != Presence.REGULAR && l.presence() != Presence.DIRECTORY) continue;
            byte[] path = l.rawPath();
            Optional<byte[]> from = moves.from(job.rootId(), path);
            if (from.isEmpty()) continue;
            if (l.presence() == Presence.DIRECTORY) {
                Optional<String> d = plain(path);
                Optional<String> o = plain(from.get());
                if (d.isPresent() && o.isPresent() && !d.get().isEmpty() && !o.get().isEmpty()) {
                    wholeDirs.computeIfAbsent(d.get(), k -> new LinkedHashSet<>()).add(o.get());
                }
                continue;
            }
            if (Arrays.equals(BytePaths.parent(path), BytePaths.parent(from.get()))) {
                inPlace.add(path);
                continue;
            }
            Optional<String> d = plain(BytePaths.parent(path));
            Optional<String> o = plain(BytePaths.parent(from.get()));
            if (d.isEmpty() || o.isEmpty()) continue;
            fileBases.computeIfAbsent(d.get(), k -> new LinkedHashSet<>()).add(o.get());
            fileNames.computeIfAbsent(d.get(), k -> new ArrayList<>()).add(BytePaths.name(path));
        }
        List<Relocation> out = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : wholeDirs.entrySet()) {
            if (under(e.getKey(), wholeDirs, false)) continue; // the enclosing directory's pass covers it
            // files moved into the renamed directory itself find their old copies in their own old dirs
            Set<String> bases = new LinkedHashSet<>(e.getValue());
            bases.addAll(fileBases.getOrDefault(e.getKey(), Set.of()));
            out.add(new Relocation(e.getKey(), first(bases), Optional.empty()));
        }
        for (Map.Entry<String, Set<String>> e : fileBases.entrySet()) {
            if (under(e.getKey(), wholeDirs, true)) continue;
            out.add(new Relocation(e.getKey(), first(e.getValue()), Optional.of(fileNames.get(e.getKey()))));
        }
        List<byte[]> stay = new ArrayList<>();
        for (byte[] p : inPlace) {
            Optional<String> d = plain(BytePaths.parent(p));
            if (d.isEmpty() || !under(d.get(), wholeDirs, true)) stay.add(p);
        }
        return new Bases(out, stay);
    }

    /** Whether {@code dir} lies below (or, with {@code orSame}, is) a key of {@code dirs}. */
    private static boolean under(String dir, Map<String, ?> dirs, boolean orSame) {
        if (orSame && dirs.containsKey(dir)) return true;
        for (int i = dir.indexOf('/'); i >= 0; i = dir.indexOf('/', i + 1)) {
            if (dirs.containsKey(dir.substring(0, i))) return true;
        }
        return false;
    }

    private static List<String> first(Set<String> bases) {
        return bases.stream().limit(MAX_BASES).toList();
    }

    /**
     * The path as a string when every byte is a letter, digit, space or one of {@code ._-+,=@%~/} and no component
     * is empty, "." or "..": such a name means the same to every rsync argument parser (no wildcard, no
     * backslash, no ':' that could read as a host, nothing the JVM's argument encoding could alter).
     */
    static Optional<String> plain(byte[] path) {
        for (byte b : path) {
            boolean ok = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                || " ._-+,=@%~/".indexOf(b) >= 0;
            if (!ok) return Optional.empty();
        }
        String s = new String(path, StandardCharsets.US_ASCII);
        if (s.isEmpty()) return Optional.of(s);
        for (String c : s.split("/", -1)) {
            if (c.isEmpty() || c.equals(".") || c.equals("..")) return Optional.empty();
        }
        return Optional.of(s);
    }
}
