package io.rtbackup.agent.versions;

import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.rsync.RsyncArgs;
import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.agent.rsync.RsyncExit;
import io.rtbackup.agent.rsync.RsyncLauncher;
import io.rtbackup.agent.rsync.RsyncNames;
import io.rtbackup.agent.rsync.RsyncResult;
import io.rtbackup.agent.rsync.RsyncStdin;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The kept versions and the mirror of one replica tree (a destination and a remote dir such as
 * {@code <host>/<root>}), read and pruned with rsync alone: listings are dry-run pulls into an empty directory
 * with {@code --out-format}, restores are real pulls with a NUL-separated {@code --files-from} list, and pruning
 * syncs an empty directory over the versions tree with {@code --delete} and filters that select only the
 * stamped dirs to remove. The same code serves a daemon module, an ssh destination and a local directory, and
 * needs nothing on the backup host but rsync (no shell commands).
 */
public final class VersionStore {
    private static final DateTimeFormatter LIST_TIME = DateTimeFormatter.ofPattern("uuuu/MM/dd-HH:mm:ss");

    private final String rsyncPath;
    private final Destination destination;
    private final RsyncEndpoint endpoint;
    private final String remoteDir;
    /** Nothing runs between calls, so nothing is left to close. */
    private final RsyncLauncher launcher = new RsyncLauncher();

    public VersionStore(String rsyncPath, Destination destination, String remoteDir) {
        this.rsyncPath = rsyncPath;
        this.destination = destination;
        this.endpoint = RsyncEndpoint.of(rsyncPath, destination);
        this.remoteDir = remoteDir;
    }

    public Destination destination() {
        return destination;
    }

    public String remoteDir() {
        return remoteDir;
    }

    /** Where entries come from: the mirror, or one version dir. */
    public sealed interface Source permits Mirror, Version {
    }

    public record Mirror() implements Source {
        @Override
        public String toString() {
            return "current mirror";
        }
    }

    public record Version(VersionStamp stamp) implements Source {
        @Override
        public String toString() {
            return "version " + stamp.name();
        }
    }

    /**
     * One listed entry: its path relative to the replica root, its rsync type ({@code f} file, {@code d}
     * directory, {@code L} symlink, {@code D}/{@code S} device or special), its mtime in whole seconds
     * (rsync's listing precision; the restorer checks the nanoseconds on the pulled copy) and its size in bytes
     * (a symlink: its target's length; a directory: what the file system reports for it).
     */
    public record Entry(byte[] path, char type, long mtimeSecond, long size) {
        public boolean isDirectory() {
            return type == 'd';
        }
    }

    /** The version dirs, oldest first; none when the versions tree does not exist yet. */
    public List<VersionStamp> versions() throws IOException {
        List<String> args = RsyncArgs.to(endpoint).add("--list-only")
            .build(VersionLayout.versionsArgument(destination.target(), remoteDir));
        RsyncResult r = call(args, RsyncStdin.NONE);
        if (!r.ok()) {
            if (isMissingDir(r)) return List.of();
            throw new IOException("cannot list the versions of " + describe() + ": " + endpoint.problem(r));
        }
        TreeSet<VersionStamp> out = new TreeSet<>();
        for (String line : r.stdoutText().split("\n")) {
            int sp = line.lastIndexOf(' ');
            if (line.startsWith("d") && sp > 0) VersionStamp.parse(line.substring(sp + 1)).ifPresent(out::add);
        }
        return new ArrayList<>(out);
    }

    /**
     * Every entry at or below {@code rel} (root-relative; empty for the whole root) in each of {@code sources},
     * recursively. One rsync for all version dirs and one for the mirror.
     */
    public List<Listed> list(byte[] rel, Collection<VersionStamp> stamps, boolean mirror) throws IOException {
        List<Listed> out = new ArrayList<>();
        if (!stamps.isEmpty()) {
            ByteArrayOutputStream files = new ByteArrayOutputStream();
            for (VersionStamp s : stamps) {
                files.writeBytes(s.name().getBytes(StandardCharsets.US_ASCII));
                if (rel.length > 0) {
                    files.write('/');
                    files.writeBytes(rel);
                }
                files.write(0);
            }
            for (Entry e : dryRun(VersionLayout.versionsArgument(destination.target(), remoteDir), files.toByteArray())) {
                byte[] p = e.path();
                int slash = indexOf(p, (byte) '/');
                String first = new String(p, 0, slash < 0 ? p.length : slash, StandardCharsets.ISO_8859_1);
                Optional<VersionStamp> s = VersionStamp.parse(first);
                if (s.isEmpty() || slash < 0) continue; // the stamp dir itself
                byte[] inside = java.util.Arrays.copyOfRange(p, slash + 1, p.length);
                if (inside.length == 0) continue;
                out.add(new Listed(new Version(s.get()), new Entry(inside, e.type(), e.mtimeSecond(), e.size())));
            }
        }
        if (mirror) {
            byte[] line = rel.length == 0 ? new byte[] {'.', 0} : BytePaths.concat(new byte[] {'.', '/'}, rel, new byte[] {0});
            for (Entry e : dryRun(destination.target().argument(remoteDir), line)) {
                if (e.path().length == 0 || BytePaths.show(e.path()).equals(".")) continue;
                out.add(new Listed(new Mirror(), e));
            }
        }
        return out;
    }

    /** An entry and where it was listed. */
    public record Listed(Source source, Entry entry) {
    }

    /** Copies {@code paths} (root-relative) from {@code source} to the same relative paths under {@code toDir}. */
    public void pull(Source source, List<byte[]> paths, byte[] toDir) throws IOException {
        if (paths.isEmpty()) return;
        List<String> args = RsyncArgs.to(endpoint).archive().filesFromStdin()
            .build(sourceArgument(source), new String(toDir, StandardCharsets.ISO_8859_1) + "/");
        RsyncResult r = call(args, new RsyncStdin.FileList(paths));
        if (!r.ok()) {
            throw new IOException("cannot copy " + paths.size() + " path(s) from the " + source + " of " + describe()
                + ": " + endpoint.problem(r));
        }
    }

    /**
     * Deletes the version dirs {@code stamps}: an empty directory synced over the versions tree with
     * {@code --delete}, where filters include only those dirs (and everything in them) and exclude the rest,
     * which protects it from the deletion.
     */
    public void delete(Collection<VersionStamp> stamps) throws IOException {
        if (stamps.isEmpty()) return;
        Path empty = Files.createTempDirectory("rtb-prune-");
        try {
            List<String> args = RsyncArgs.to(endpoint).add("-r", "--delete", "--force", "--include-from=-", "--exclude=*")
                .build(empty + "/", VersionLayout.versionsArgument(destination.target(), remoteDir));
            StringBuilder rules = new StringBuilder();
            for (VersionStamp s : stamps) rules.append('/').append(s.name()).append("/***\n");
            RsyncResult r = call(args, new RsyncStdin.Bytes(rules.toString().getBytes(StandardCharsets.US_ASCII)));
            if (!r.ok()) throw new IOException("cannot delete old versions of " + describe() + ": " + endpoint.problem(r));
        } finally {
            Files.deleteIfExists(empty);
        }
    }

    public String describe() {
        return "destination '" + destination.name() + "' (" + destination.target().argument(remoteDir) + ")";
    }

    private String sourceArgument(Source source) {
        return source instanceof Version v
            ? VersionLayout.versionArgument(destination.target(), remoteDir, v.stamp())
            : destination.target().argument(remoteDir);
    }

    /** A dry-run pull of the listed paths into an empty directory: rsync prints every entry it would create. */
    private List<Entry> dryRun(String sourceArgument, byte[] fileList) throws IOException {
        Path empty = Files.createTempDirectory("rtb-list-");
        try {
            // The list is formatted by the caller: version dir names need no "./", and the mirror's root is ".".
            List<String> args = RsyncArgs.to(endpoint).add("-a", "-r", "-n").filesFromStdin()
                .add("--ignore-missing-args", "--out-format=%i %M %l %n").build(sourceArgument, empty + "/");
            RsyncResult r = call(args, new RsyncStdin.Bytes(fileList));
            if (!r.ok()) {
                if (isMissingDir(r)) return List.of();
                throw new IOException("cannot list " + sourceArgument + ": " + endpoint.problem(r));
            }
            return parse(r.stdout());
        } finally {
            Files.deleteIfExists(empty);
        }
    }

    /**
     * Lines of {@code %i %M %l %n}: 11 itemize characters, the mtime (UTC, whole seconds), the size in bytes, the
     * escaped name.
     */
    static List<Entry> parse(byte[] stdout) throws IOException {
        List<Entry> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= stdout.length; i++) {
            if (i < stdout.length && stdout[i] != '\n') continue;
            int len = i - start;
            if (len > 0) {
                String line = new String(stdout, start, len, StandardCharsets.ISO_8859_1);
                if (line.length() < 33 || line.charAt(11) != ' ' || line.charAt(31) != ' ') {
                    throw new IOException("unexpected rsync listing line: " + line);
                }
                char type = line.charAt(1);
                long mtime = LocalDateTime.parse(line.substring(12, 31), LIST_TIME).toEpochSecond(ZoneOffset.UTC);
                int sp = line.indexOf(' ', 32);
                if (sp < 33 || !line.substring(32, sp).chars().allMatch(c -> c >= '0' && c <= '9') || sp - 32 > 18) {
                    throw new IOException("unexpected rsync listing line (no size): " + line);
                }
                long size = Long.parseLong(line.substring(32, sp));
                byte[] name = unescape(line.substring(sp + 1));
                if (name.length > 0 && name[name.length - 1] == '/') name = java.util.Arrays.copyOf(name, name.length - 1);
                out.add(new Entry(name, type, mtime, size));
            }
            start = i + 1;
        }
        return out;
    }

    /** rsync's output escaping ({@link RsyncNames}). */
    static byte[] unescape(String s) {
        return RsyncNames.unescape(s);
    }

    private static int indexOf(byte[] a, byte b) {
        for (int i = 0; i < a.length; i++) if (a[i] == b) return i;
        return -1;
    }

    /** One rsync run against the destination, bounded by its command timeout (and a little slack). */
    private RsyncResult call(List<String> args, RsyncStdin stdin) throws IOException {
        Map<String, String> env;
        try {
            env = endpoint.environment();
        } catch (IOException e) {
            throw new IOException("cannot read the password of " + describe() + ": " + e.getMessage(), e);
        }
        RsyncResult r;
        try {
            r = launcher.run("rsync-versions", args, env, stdin,
                destination.commandTimeout().plus(Duration.ofSeconds(5)), RsyncLauncher.ALL_OUTPUT);
        } catch (IOException e) {
            throw new IOException("cannot run '" + rsyncPath + "': " + e.getMessage() + " (install rsync >= 3.2.3)", e);
        }
        switch (r.ending()) {
            case TIMED_OUT, STALLED -> throw new IOException(endpoint.problem(r) + " (" + describe() + ")");
            case INTERRUPTED -> throw new IOException("interrupted while rsync ran");
            case EXITED -> {
            }
        }
        return r;
    }

    /** rsync exit 23 because the directory asked for does not exist (nothing synced or kept there yet). */
    private static boolean isMissingDir(RsyncResult r) {
        return RsyncExit.isMissingSource(r.exitCode(), r.stderr());
    }

    /** True when {@code path} exists on this host (lstat, not following a final symlink). */
    static boolean exists(byte[] path) throws IOException {
        return ByteFs.lstat(path).isPresent();
    }

    static String show(Instant t) {
        return t.toString();
    }
}
