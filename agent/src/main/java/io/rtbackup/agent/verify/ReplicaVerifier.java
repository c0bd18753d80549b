package io.rtbackup.agent.verify;

import io.rtbackup.agent.rsync.RsyncArgs;
import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.agent.rsync.RsyncExcludes;
import io.rtbackup.agent.rsync.RsyncLauncher;
import io.rtbackup.agent.rsync.RsyncResult;
import io.rtbackup.agent.rsync.RsyncStdin;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares a source root with its replica by content: an rsync dry run from the root to the replica with
 * checksums ({@code -a -H --numeric-ids --checksum --delete}, so size, time, mode, owner, links, hard links and
 * content all count) that itemizes what a sync would change, read back as one line per differing path. Nothing is
 * written on either side. The root's excludes apply as they do to every sync ({@link RsyncExcludes}): what they
 * match is neither compared nor, where the replica still holds it, reported as extra.
 *
 * <p>Names come out as rsync escapes them in the C locale: every control and non-ASCII byte as {@code \#ooo}
 * (octal), so each path stays on one line whatever bytes it holds, and the output is plain ASCII. A line rsync
 * printed that cannot be read is reported as a difference, never dropped.
 *
 * <p>There is no wall-clock limit: checksumming a big tree takes as long as it takes; the endpoint's I/O
 * timeout still ends a comparison that stalls.
 */
public final class ReplicaVerifier {
    /** {@code %i %n}: 11 itemize characters (or {@code *deleting}), spaces, the (escaped) name. */
    private static final Pattern ITEM = Pattern.compile("([<>ch.*][^ ]{8,10}|\\*deleting) +(.+)");

    private final RsyncEndpoint endpoint;
    private final RsyncExcludes excludes;

    /**
     * @param excludes exclude globs of the root, as {@code root.<id>.exclude} gives them
     * @throws IllegalArgumentException for a glob rsync cannot be given ({@link RsyncExcludes#of})
     */
    public ReplicaVerifier(RsyncEndpoint endpoint, List<String> excludes) {
        this.endpoint = endpoint;
        this.excludes = RsyncExcludes.of(excludes);
    }

    /** What a comparison found. */
    public sealed interface Outcome permits Compared, Failed, NotStarted {
    }

    /** rsync compared both sides; {@code differences} is empty when they are equal. */
    public record Compared(List<String> differences) implements Outcome {
        public Compared {
            differences = List.copyOf(differences);
        }
    }

    /** rsync could not compare (unreachable destination, permissions...): its exit code and its complaint. */
    public record Failed(int exitCode, String stderr) implements Outcome {
    }

    /** rsync could not be started (not installed, not executable): the system's reason. */
    public record NotStarted(String reason) implements Outcome {
    }

    /**
     * Compares {@code rootDir} (absolute) with the replica at {@code replica} (an rsync destination argument
     * ending in "/").
     *
     * @throws IOException when the password cannot be read
     */
    public Outcome compare(Path rootDir, String replica) throws IOException {
        RsyncArgs a = RsyncArgs.to(endpoint).archive().add("-H", "--dry-run", "--checksum", "--itemize-changes",
            "--delete", "--out-format=%i %n");
        a.addAll(excludes.filterArgs());
        List<String> args = a.build(rootDir + "/", replica);
        Map<String, String> env = endpoint.environment();
        RsyncResult r;
        try (RsyncLauncher launcher = new RsyncLauncher()) {
            r = launcher.run("rsync-verify", args, env, RsyncStdin.NONE, RsyncLauncher.NO_TIME_LIMIT,
                RsyncLauncher.ALL_OUTPUT);
        } catch (IOException e) {
            return new NotStarted(e.getMessage());
        }
        return switch (r.ending()) {
            case EXITED -> r.exitCode() == 0 ? new Compared(differences(r.stdoutText()))
                : new Failed(r.exitCode(), endpoint.diagnosis(r).orElse(r.stderr().strip()));
            case TIMED_OUT, STALLED, INTERRUPTED -> new Failed(-1, r.problem());
        };
    }

    /** One line per differing path: what differs, then the path (rsync-escaped, relative to the root). */
    static List<String> differences(String itemized) {
        List<String> lines = new ArrayList<>();
        for (String line : itemized.split("\n")) {
            if (line.isEmpty()) continue;
            Matcher m = ITEM.matcher(line);
            if (!m.matches()) {
                lines.add("unparsed " + line); // never drop what rsync reported: a line we cannot read is a difference
                continue;
            }
            String code = m.group(1);
            String name = m.group(2);
            String kind;
            if (code.equals("*deleting")) kind = "extra  ";
            else if (code.length() > 2 && code.substring(2).startsWith("+++++++")) kind = "missing";
            else kind = "changed";
            lines.add(kind + " " + name + (kind.equals("changed") ? "  [" + code + "]" : ""));
        }
        return lines;
    }
}
