package io.rtbackup.agent.exec;

import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.exec.ReplicationJob.FullRoot;
import io.rtbackup.agent.exec.ReplicationJob.Paths;
import io.rtbackup.agent.exec.ValidationResult.Accepted;
import io.rtbackup.agent.exec.ValidationResult.Rejected;
import io.rtbackup.agent.exec.ValidationResult.Unavailable;
import io.rtbackup.agent.rsync.RsyncExcludes;
import io.rtbackup.agent.versions.VersionLayout;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.ErrnoException;
import io.rtbackup.fs.PathCheck;
import io.rtbackup.fs.Stat;
import io.rtbackup.schema.Identifier;
import io.rtbackup.schema.RemotePrefix;
import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.WirePath;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether this agent runs a {@link SyncCommand}. Commands come from the network, so nothing in them is
 * trusted: the host must be ours, root and destination must be configured here, every path must follow the wire
 * syntax ({@link WirePath}) and its parent directories must resolve inside the root through real directories only
 * (a symlinked parent would make rsync read outside the root), and the remote prefix must follow
 * {@link RemotePrefix}. Workers check the same wire rules at intake, so what fails here is a bug or an attack.
 *
 * <p>Resolution happens just before rsync runs, so a path whose parent directory has meanwhile disappeared is
 * turned into a deletion of the topmost missing directory. What remains is the window between this check and
 * rsync opening the path; rsync has no option to refuse symlinked parents on the sending side.
 */
public final class CommandValidator {
    private static final Logger log = LoggerFactory.getLogger(CommandValidator.class);
    /** Directories larger than this are not scanned for a listed file's other hard-linked names. */
    static final int HARD_LINK_SCAN_MAX_ENTRIES = 4096;

    private final String hostId;
    private final Map<String, byte[]> roots;
    private final Map<String, Destination> destinations;
    private final Map<String, RsyncExcludes> excludes;

    /**
     * Roots without excludes.
     *
     * @param roots root id to absolute root directory; rsync gets the root as an argument, so it must be ASCII
     */
    public CommandValidator(String hostId, Map<String, byte[]> roots, Map<String, Destination> destinations) {
        this(hostId, roots, Map.of(), destinations);
    }

    /**
     * @param roots root id to absolute root directory; rsync gets the root as an argument, so it must be ASCII
     * @param excludes root id to its exclude globs ({@code root.<id>.exclude}); every job of the root carries them
     * @throws IllegalArgumentException for a root or glob rsync cannot be given (see {@link RsyncExcludes#of})
     */
    public CommandValidator(String hostId, Map<String, byte[]> roots, Map<String, List<String>> excludes,
            Map<String, Destination> destinations) {
        this.hostId = hostId;
        Map<String, RsyncExcludes> rules = new LinkedHashMap<>();
        for (var e : excludes.entrySet()) {
            try {
                rules.put(e.getKey(), RsyncExcludes.of(e.getValue()));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("root '" + e.getKey() + "': " + ex.getMessage(), ex);
            }
        }
        this.excludes = Map.copyOf(rules);
        Map<String, byte[]> copy = new LinkedHashMap<>();
        for (var e : roots.entrySet()) {
            byte[] p = e.getValue();
            if (p.length == 0 || p[0] != '/') {
                throw new IllegalArgumentException("root '" + e.getKey() + "': '" + BytePaths.show(p)
                    + "' is not an absolute path");
            }
            for (byte b : p) {
                if (b <= 0 || b == 0x7F) {
                    // The root is a process argument to rsync; the JVM's POSIX locale would mangle such bytes.
                    throw new IllegalArgumentException("root '" + e.getKey() + "': '" + BytePaths.show(p)
                        + "' must be printable ASCII; point the root at a directory (or symlink) with an ASCII name");
                }
            }
            copy.put(e.getKey(), p.clone());
        }
        this.roots = Map.copyOf(copy);
        this.destinations = Map.copyOf(destinations);
    }

    public String hostId() {
        return hostId;
    }

    private RsyncExcludes excludes(String rootId) {
        return excludes.getOrDefault(rootId, RsyncExcludes.NONE);
    }

    public boolean knowsDestination(String name) {
        return destinations.containsKey(name);
    }

    public ValidationResult validate(SyncCommand cmd) {
        if (!hostId.equals(cmd.getHostId())) {
            return new Rejected("command is for host '" + cmd.getHostId() + "' but this agent is '" + hostId + "'");
        }
        byte[] root = roots.get(cmd.getRootId());
        if (root == null) {
            return new Rejected("unknown root '" + cmd.getRootId() + "'; this agent has roots " + roots.keySet());
        }
        Destination dest = destinations.get(cmd.getDestination());
        if (dest == null) {
            return new Rejected("unknown destination '" + cmd.getDestination() + "'; this agent has destinations "
                + destinations.keySet() + " (configure destination." + cmd.getDestination() + ".url)");
        }
        String remoteDir;
        if (cmd.getRemotePrefix() == null) {
            // Host and root passed the same rules when this agent read its configuration; checked again because
            // the default remote directory is built from them.
            Optional<String> bad = Identifier.HOST_ID.problem(cmd.getHostId())
                .or(() -> Identifier.ROOT_ID.problem(cmd.getRootId()));
            if (bad.isPresent()) return new Rejected("default remote directory (host/root): " + bad.get());
            remoteDir = cmd.getHostId() + "/" + cmd.getRootId();
        } else {
            Optional<String> bad = RemotePrefix.problem(cmd.getRemotePrefix());
            if (bad.isPresent()) return new Rejected(bad.get());
            remoteDir = RemotePrefix.directory(cmd.getRemotePrefix());
        }
        String allowed = dest.allowedDirectory(hostId);
        if (!allowed.isEmpty() && !remoteDir.equals(allowed) && !remoteDir.startsWith(allowed + "/")) {
            // A forged or misrouted command must not point a --delete run at another host's replica.
            return new Rejected("remote directory '" + remoteDir + "' is outside '" + allowed + "/', the part of "
                + "destination '" + dest.name() + "' this host may write (destination." + dest.name()
                + ".allowed-prefix, default " + ExecConfig.DEFAULT_ALLOWED_PREFIX + ")");
        }
        if (remoteDir.equals(VersionLayout.VERSIONS_DIR) || remoteDir.startsWith(VersionLayout.VERSIONS_DIR + "/")) {
            // A mirror there would sit inside the kept versions, and its full sync's --delete would remove them.
            return new Rejected("remote directory '" + remoteDir + "' is inside " + VersionLayout.VERSIONS_DIR
                + ", where destinations keep versions; name the host or route the root elsewhere");
        }
        String rootPath = new String(root, StandardCharsets.US_ASCII);
        if (cmd.getFullSync()) {
            Optional<String> problem = rootProblem(root);
            if (problem.isPresent()) return new Unavailable(problem.get());
            return new Accepted(new ReplicationJob(cmd.getCommandId(), cmd.getHostId(), cmd.getRootId(), rootPath,
                dest, remoteDir, new FullRoot(), excludes(cmd.getRootId())));
        }
        if (cmd.getPaths().isEmpty()) {
            return new Rejected("command lists no paths and is not a fullSync");
        }
        Map<ByteBuffer, ListedPath> listed = new LinkedHashMap<>();
        Map<ByteBuffer, Stat> hardLinked = new LinkedHashMap<>();
        for (ByteBuffer buf : cmd.getPaths()) {
            byte[] path = bytes(buf);
            Optional<String> bad = WirePath.commandPathProblem(path);
            if (bad.isPresent()) return new Rejected(bad.get());
            ListedPath lp;
            try {
                PathCheck check = ByteFs.checkParentsNoFollow(root, path);
                if (check instanceof PathCheck.Inside) {
                    Optional<Stat> st = ByteFs.lstat(BytePaths.join(root, path));
                    lp = new ListedPath(path, presence(st));
                    if (st.isPresent() && st.get().isRegular() && st.get().nlink() > 1) {
                        hardLinked.put(ByteBuffer.wrap(path), st.get());
                    }
                } else if (check instanceof PathCheck.Missing m) {
                    // The parent is gone: delete the topmost missing directory on the destination.
                    lp = new ListedPath(m.component(), Presence.MISSING);
                } else if (check instanceof PathCheck.NotADirectory n) {
                    // A non-directory now stands where a parent directory was: replicate it, which replaces the
                    // destination's directory (rsync --force).
                    lp = new ListedPath(n.component(), presence(BytePaths.join(root, n.component())));
                } else if (check instanceof PathCheck.ThroughSymlink s) {
                    // A directory was replaced by a symlink (or a command tries to read through one). Replicating
                    // the symlink itself is what converges, and rsync copies a listed symlink without following it,
                    // so nothing outside the root is read.
                    log.debug("path '{}' leads through symlink '{}'; listing the symlink instead",
                        BytePaths.show(path), BytePaths.show(s.component()));
                    lp = new ListedPath(s.component(), Presence.OTHER);
                } else {
                    return new Rejected(check.describe());
                }
            } catch (ErrnoException e) {
                return new Unavailable("cannot inspect '" + BytePaths.show(path) + "' under root '" + cmd.getRootId()
                    + "': " + e.getMessage());
            }
            listed.putIfAbsent(ByteBuffer.wrap(lp.rawPath()), lp);
        }
        for (var e : hardLinked.entrySet()) {
            if (!addLinkedSiblings(root, bytes(e.getKey()), e.getValue(), listed)) {
                // Some names of a changed multi-link file are elsewhere: rsync replaces a file by renaming a new
                // copy over it, which would split the destination's link and leave the other names stale. Only a
                // run over the whole root (-H) sees every name, so this batch becomes one.
                log.info("command {}: '{}' has {} links, not all in its directory; syncing the whole root '{}'",
                    cmd.getCommandId(), BytePaths.show(bytes(e.getKey())), e.getValue().nlink(), cmd.getRootId());
                Optional<String> problem = rootProblem(root);
                if (problem.isPresent()) return new Unavailable(problem.get());
                return new Accepted(new ReplicationJob(cmd.getCommandId(), cmd.getHostId(), cmd.getRootId(), rootPath,
                    dest, remoteDir, new FullRoot(), excludes(cmd.getRootId())));
            }
        }
        Optional<String> split = scanLinks(root, listed);
        if (split.isPresent()) {
            log.info("command {}: {}; syncing the whole root '{}'", cmd.getCommandId(), split.get(), cmd.getRootId());
            Optional<String> problem = rootProblem(root);
            if (problem.isPresent()) return new Unavailable(problem.get());
            return new Accepted(new ReplicationJob(cmd.getCommandId(), cmd.getHostId(), cmd.getRootId(), rootPath,
                dest, remoteDir, new FullRoot(), excludes(cmd.getRootId())));
        }
        return new Accepted(new ReplicationJob(cmd.getCommandId(), cmd.getHostId(), cmd.getRootId(), rootPath, dest,
            remoteDir, new Paths(new ArrayList<>(listed.values())), excludes(cmd.getRootId())));
    }

    /**
     * A listed directory is sent with everything below it (-r, --ignore-times), and rsync replaces each file by
     * renaming a new copy over it. A multi-link file below the directory whose other names are not in the same run
     * would lose its link on the destination: the run writes a separate inode for the names it lists and leaves the
     * others alone. Only a run over the whole root (-H) sees every name, so such a batch becomes one.
     *
     * @return why the batch must become a whole-root run, if it must
     */
    private static Optional<String> scanLinks(byte[] root, Map<ByteBuffer, ListedPath> listed) {
        // listed files alone: see addLinkedSiblings
        if (listed.values().stream().noneMatch(lp -> lp.presence() == Presence.DIRECTORY)) return Optional.empty();
        Map<List<Long>, java.util.Set<ByteBuffer>> names = new java.util.HashMap<>();
        Map<List<Long>, Long> links = new java.util.HashMap<>();
        try {
            for (ListedPath lp : listed.values()) {
                byte[] rel = lp.rawPath();
                if (lp.presence() == Presence.DIRECTORY) {
                    ByteFs.walk(BytePaths.join(root, rel), (sub, st) -> {
                        if (st.isRegular() && st.nlink() > 1) {
                            List<Long> id = List.of(st.dev(), st.ino());
                            names.computeIfAbsent(id, k -> new java.util.HashSet<>())
                                .add(ByteBuffer.wrap(BytePaths.join(rel, sub)));
                            links.put(id, st.nlink());
                        }
                        return true;
                    });
                } else if (lp.presence() == Presence.REGULAR) {
                    Optional<Stat> st = ByteFs.lstat(BytePaths.join(root, rel));
                    if (st.isPresent() && st.get().isRegular() && st.get().nlink() > 1) {
                        List<Long> id = List.of(st.get().dev(), st.get().ino());
                        names.computeIfAbsent(id, k -> new java.util.HashSet<>()).add(ByteBuffer.wrap(rel));
                        links.put(id, st.get().nlink());
                    }
                }
            }
        } catch (java.io.IOException e) {
            // The tree changed under the walk; a whole-root run is correct whatever changed.
            return Optional.of("listed directories changed while checking them for hard links (" + e.getMessage()
                + ")");
        }
        for (var e : names.entrySet()) {
            long nlink = links.get(e.getKey());
            if (e.getValue().size() < nlink) {
                return Optional.of("'" + BytePaths.show(bytes(e.getValue().iterator().next()))
                    + "' below a listed directory has " + nlink + " links, only " + e.getValue().size()
                    + " of them in this run");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> rootProblem(byte[] root) {
        try {
            Optional<Stat> st = ByteFs.stat(root);
            if (st.isEmpty()) return Optional.of("root directory '" + BytePaths.show(root) + "' does not exist");
            if (!st.get().isDir()) return Optional.of("root '" + BytePaths.show(root) + "' is not a directory");
            return Optional.empty();
        } catch (ErrnoException e) {
            return Optional.of("cannot inspect root '" + BytePaths.show(root) + "': " + e.getMessage());
        }
    }

    /**
     * rsync's -H links names only when all of them are in one run's file list. A new hard link is usually reported
     * by its new name alone, so the other names of a listed multi-link file that sit in the same directory are
     * listed too (bounded scan).
     *
     * @return true when every name was found; false when some are elsewhere (the caller escalates)
     */
    private static boolean addLinkedSiblings(byte[] root, byte[] path, Stat st, Map<ByteBuffer, ListedPath> listed) {
        byte[] parent = BytePaths.parent(path);
        byte[] absParent = parent.length == 0 ? root : BytePaths.join(root, parent);
        try {
            List<byte[]> names = ByteFs.list(absParent);
            if (names.size() > HARD_LINK_SCAN_MAX_ENTRIES) return false;
            long found = 1;
            for (byte[] name : names) {
                byte[] rel = parent.length == 0 ? name : BytePaths.join(parent, name);
                if (java.util.Arrays.equals(rel, path)) continue;
                Optional<Stat> other = ByteFs.lstat(BytePaths.join(root, rel));
                if (other.isPresent() && other.get().ino() == st.ino() && other.get().dev() == st.dev()) {
                    listed.putIfAbsent(ByteBuffer.wrap(rel), new ListedPath(rel, Presence.REGULAR));
                    if (++found >= st.nlink()) return true;
                }
            }
            return false;
        } catch (ErrnoException e) {
            return false;
        }
    }

    private static Presence presence(byte[] absolute) throws ErrnoException {
        return presence(ByteFs.lstat(absolute));
    }

    private static Presence presence(Optional<Stat> st) {
        if (st.isEmpty()) return Presence.MISSING;
        if (st.get().isRegular()) return Presence.REGULAR;
        if (st.get().isDir()) return Presence.DIRECTORY;
        return Presence.OTHER;
    }

    private static byte[] bytes(ByteBuffer buf) {
        ByteBuffer d = buf.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
