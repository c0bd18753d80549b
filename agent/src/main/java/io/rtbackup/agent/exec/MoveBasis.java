package io.rtbackup.agent.exec;

import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.exec.ReplicationJob.Paths;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.fs.BytePaths;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which renamed paths of a run can travel as a delta against the replica's copy under their old name, and where
 * that copy is. rsync only finds a basis in the file's own destination directory ({@code --fuzzy}), so a file moved
 * to another directory, or a renamed directory, would be sent in full. For the present paths of a run that this
 * agent saw renamed ({@link RecentMoves}), grouped by the directory they now live in, a {@link Relocation} says
 * which old directories hold their earlier copies:
 * <ul>
 *   <li>a renamed directory D (was O): all of D, with O as basis (each file finds its old copy under the same
 *   name below it);</li>
 *   <li>files moved into D from other directories O1..On: their names in D, with O1..On as bases (at most
 *   {@value #MAX_BASES}, rsync's limit); a file renamed as well as moved is matched there by {@code --fuzzy}.</li>
 * </ul>
 * {@link RsyncPlanner} turns each into a basis pass ({@code --copy-dest}) that runs before the run's own passes, so
 * the old copies still exist when they serve as basis. The directory names go into rsync arguments, so only plain
 * names qualify ({@link #plain}); anything else is simply sent without a basis, which costs bandwidth, not
 * correctness. Pure: it reads neither the source nor the destination.
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

    private final RecentMoves moves;

    MoveBasis(RecentMoves moves) {
        this.moves = moves;
    }

    /** The relocations of {@code job}'s renamed paths, a directory's before the files moved into it. */
    List<Relocation> relocations(ReplicationJob job) {
        if (!(job.selection() instanceof Paths paths)) return List.of();
        Map<String, Set<String>> wholeDirs = new LinkedHashMap<>();
        Map<String, Set<String>> fileBases = new LinkedHashMap<>();
        Map<String, List<byte[]>> fileNames = new LinkedHashMap<>();
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
            Optional<String> d = plain(BytePaths.parent(path));
            Optional<String> o = plain(BytePaths.parent(from.get()));
            // same directory: --fuzzy finds the old name already
            if (d.isEmpty() || o.isEmpty() || d.get().equals(o.get())) continue;
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
        return out;
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
