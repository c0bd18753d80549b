package io.rtbackup.agent.versions;

import java.util.List;
import java.util.Optional;

/**
 * The ids {@code rtb versions} shows and {@code rtb restore --version} accepts. A version's short id is its
 * stamp's tag (the first 8 characters of the command that made it), or the whole version dir name when another
 * version dir has the same tag; {@value #CURRENT} is the copy in the mirror. An id given back is matched against
 * the full name, then the tag, then as a prefix of the name, and must name exactly one version dir.
 */
public final class VersionId {
    /** The id of the current copy, in the mirror. */
    public static final String CURRENT = "current";

    private VersionId() {
    }

    /** The short id of {@code stamp} among {@code all}. */
    public static String shortId(VersionStamp stamp, List<VersionStamp> all) {
        long sameTag = all.stream().filter(s -> s.tag().equals(stamp.tag())).count();
        return sameTag > 1 ? stamp.name() : stamp.tag();
    }

    /**
     * The version dir {@code id} names among {@code all}; empty for {@value #CURRENT}.
     *
     * @throws IllegalArgumentException when it names none or several
     */
    public static Optional<VersionStamp> resolve(String id, List<VersionStamp> all) {
        String i = id.trim();
        if (i.equalsIgnoreCase(CURRENT)) return Optional.empty();
        for (VersionStamp s : all) if (s.name().equals(i)) return Optional.of(s);
        List<VersionStamp> byTag = all.stream().filter(s -> s.tag().equals(i)).toList();
        if (byTag.size() == 1) return Optional.of(byTag.get(0));
        List<VersionStamp> byPrefix = i.isEmpty() ? List.of() : all.stream().filter(s -> s.name().startsWith(i)).toList();
        if (byPrefix.size() == 1) return Optional.of(byPrefix.get(0));
        List<VersionStamp> several = byTag.size() > 1 ? byTag : byPrefix;
        if (several.size() > 1) {
            throw new IllegalArgumentException("version '" + id + "' is ambiguous: it matches " + several.stream()
                .map(VersionStamp::name).toList() + "; give the whole name");
        }
        throw new IllegalArgumentException("no version '" + id + "' (of " + all.size() + " kept; 'rtb versions PATH' "
            + "lists them; '" + CURRENT + "' is the copy in the mirror)");
    }
}
