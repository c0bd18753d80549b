package io.rtbackup.agent.exec;

import io.rtbackup.agent.config.ExecConfig.SshTarget;
import io.rtbackup.agent.config.ExecConfig.Target;
import io.rtbackup.agent.exec.ListedPath.Presence;
import io.rtbackup.agent.exec.ReplicationJob.Paths;
import io.rtbackup.agent.exec.RsyncPlanner.Pass;
import io.rtbackup.agent.moves.RecentMoves;
import io.rtbackup.agent.rsync.RsyncArgs;
import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.fs.ErrnoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Lets a renamed path travel as a delta against the replica's copy under its old name. rsync only finds a basis
 * in the file's own destination directory ({@code --fuzzy}), so a file moved to another directory, or a renamed
 * directory, would be sent in full. For the paths of a run that this agent saw renamed ({@link RecentMoves}):
 *
 * <ol>
 *   <li>a small "link farm" goes to the destination beside the replica, {@code <parent>/.rtb-moves/<command>/<n>/}:
 *   for a renamed directory, a symlink at its new name pointing at the replica's old directory; for a file moved
 *   between directories, a symlink at its new directory pointing at the old one;</li>
 *   <li>the run passes {@code --copy-dest=../.rtb-moves/<command>/<n>}: for a file the replica lacks, the receiver
 *   looks up the same relative name in the farm, which resolves (through the directory symlink) to the old copy,
 *   and uses it as the delta basis; a second {@code --fuzzy} lets it match a file renamed as well as moved by size
 *   and mtime there; a link under another link's name goes to a further layer {@code <n>} (its own
 *   {@code --copy-dest});</li>
 *   <li>new names go first and old names (now missing, so deleted) in a second pass, so the basis still exists
 *   when it is needed; the farm is deleted afterwards.</li>
 * </ol>
 *
 * <p>The daemon must run with {@code use chroot = yes} (already required for exact symlinks) so the farm's
 * symlinks resolve inside the module. Any failure here only costs bandwidth: the run goes ahead without a basis.
 */
final class MoveBasis {
    static final String FARM_DIR = ".rtb-moves";
    private static final int MAX_LAYERS = 8;

    /** What a run needs: the farm to upload (local dir), the option that points at it, and how to remove it. */
    record Farm(Path localDir, List<String> uploadArgs, List<String> copyDestOptions, List<String> removeArgs,
                int entries) {
    }

    private final RecentMoves moves;

    MoveBasis(RecentMoves moves) {
        this.moves = moves;
    }

    /**
     * The farm for {@code job}, built locally, or empty when none of its paths was renamed lately (or the remote
     * dir has no parent to put the farm in). Its upload and removal run against {@code endpoint} like the run itself.
     */
    Optional<Farm> prepare(ReplicationJob job, RsyncEndpoint endpoint) throws IOException {
        if (!(job.selection() instanceof Paths paths)) return Optional.empty();
        String remoteDir = job.remoteDir();
        if (remoteDir.isEmpty()) return Optional.empty();
        List<Map<ByteBuffer, byte[]>> layers = links(job.rootId(), paths.paths());
        if (layers.isEmpty()) return Optional.empty();

        int slash = remoteDir.lastIndexOf('/');
        String parent = slash < 0 ? "" : remoteDir.substring(0, slash);
        String mirrorName = remoteDir.substring(slash + 1);
        String id = farmId(job.commandId());
        Path local = Files.createTempDirectory("rtb-moves-");
        byte[] localRoot = BytePaths.utf8(local.toString());
        List<String> copyDest = new ArrayList<>();
        String farmRef = copyDestBase(job.destination().target(), parent);
        int entries = 0;
        try {
            byte[] farm = BytePaths.join(localRoot, BytePaths.utf8(id));
            ByteFs.mkdir(farm);
            for (int i = 0; i < layers.size(); i++) {
                byte[] layer = BytePaths.join(farm, BytePaths.utf8(Integer.toString(i)));
                ByteFs.mkdir(layer);
                for (Map.Entry<ByteBuffer, byte[]> e : layers.get(i).entrySet()) {
                    byte[] at = bytes(e.getKey());
                    byte[] dir = BytePaths.parent(at);
                    if (dir.length > 0) ByteFs.mkdirs(BytePaths.join(layer, dir));
                    ByteFs.symlink(target(at, mirrorName, e.getValue()), BytePaths.join(layer, at));
                    entries++;
                }
                copyDest.add("--copy-dest=" + farmRef + "/" + id + "/" + i);
            }
            Files.createDirectory(local.resolve("empty"));
        } catch (ErrnoException | RuntimeException e) {
            deleteLocal(local);
            throw new IOException("cannot build the rename link farm in " + local + ": " + e.getMessage(), e);
        }
        String farmsDir = parent.isEmpty() ? FARM_DIR : parent + "/" + FARM_DIR;
        List<String> upload = RsyncArgs.to(endpoint).add("-rl").mkpath()
            .build(local.resolve(id) + "/", job.destination().target().argument(farmsDir + "/" + id));
        List<String> remove = RsyncArgs.to(endpoint).add("-r", "--delete", "--include=/" + id + "/***", "--exclude=*")
            .build(local.resolve("empty") + "/", job.destination().target().argument(farmsDir));
        return Optional.of(new Farm(local, upload, List.copyOf(copyDest), remove, entries));
    }

    /**
     * How {@code --copy-dest} names the farms dir: relative to the mirror, or for ssh from the destination's path
     * ({@code rrsync} refuses ".." and reads an absolute path inside its directory, as ssh without it does on the
     * host).
     */
    static String copyDestBase(Target target, String parent) {
        if (!(target instanceof SshTarget t)) return "../" + FARM_DIR;
        String base = t.path().endsWith("/") ? t.path() : t.path() + "/";
        return base + (parent.isEmpty() ? "" : parent + "/") + FARM_DIR;
    }

    /**
     * The run's passes with the farm in use: new names first (with {@code --copy-dest} and a second
     * {@code --fuzzy} where the pass fuzzes at all), the missing old names after them.
     */
    static List<Pass> apply(Farm farm, List<Pass> passes) {
        List<Pass> out = new ArrayList<>();
        List<Pass> deletions = new ArrayList<>();
        for (Pass p : passes) {
            if (p.stdin() == null) {
                out.add(p);
                continue;
            }
            List<ListedPath> present = new ArrayList<>();
            List<ListedPath> missing = new ArrayList<>();
            for (ListedPath l : p.stdin()) (l.presence() == Presence.MISSING ? missing : present).add(l);
            if (!present.isEmpty()) out.add(new Pass(withBasis(farm, p.args()), present));
            if (!missing.isEmpty()) deletions.add(new Pass(p.args(), missing));
        }
        out.addAll(deletions);
        return out;
    }

    private static List<String> withBasis(Farm farm, List<String> args) {
        // the last two arguments are source and destination
        List<String> a = new ArrayList<>(args.subList(0, args.size() - 2));
        a.addAll(farm.copyDestOptions());
        if (a.contains("--fuzzy")) a.add("--fuzzy");
        a.addAll(args.subList(args.size() - 2, args.size()));
        return a;
    }

    /**
     * Layers of farm entries (root-relative, where the link goes) to the old root-relative path each points at;
     * no entry lies under another of its layer.
     */
    private List<Map<ByteBuffer, byte[]>> links(String rootId, List<ListedPath> listed) {
        Map<ByteBuffer, byte[]> wanted = new LinkedHashMap<>();
        for (ListedPath l : listed) {
            if (l.presence() != Presence.REGULAR && l.presence() != Presence.DIRECTORY) continue;
            byte[] path = l.rawPath();
            Optional<byte[]> m = moves.from(rootId, path);
            if (m.isEmpty()) continue;
            byte[] from = m.get();
            if (l.presence() == Presence.DIRECTORY) {
                wanted.putIfAbsent(ByteBuffer.wrap(path), from);
            } else {
                byte[] newDir = BytePaths.parent(path);
                byte[] oldDir = BytePaths.parent(from);
                // same directory: --fuzzy finds the old name already; the root itself cannot be a link
                if (newDir.length == 0 || Arrays.equals(newDir, oldDir)) continue;
                wanted.putIfAbsent(ByteBuffer.wrap(newDir), oldDir);
            }
        }
        // A link stands for everything below it, so an entry under another one goes to the next layer (each layer
        // is its own --copy-dest dir; rsync takes up to 20): shallowest first.
        List<ByteBuffer> order = new ArrayList<>(wanted.keySet());
        order.sort(Comparator.comparingInt(ByteBuffer::remaining));
        List<Map<ByteBuffer, byte[]>> layers = new ArrayList<>();
        for (ByteBuffer k : order) {
            byte[] p = bytes(k);
            Map<ByteBuffer, byte[]> home = null;
            for (Map<ByteBuffer, byte[]> layer : layers) {
                if (!hasAncestorIn(p, layer)) {
                    home = layer;
                    break;
                }
            }
            if (home == null) {
                if (layers.size() == MAX_LAYERS) continue; // rare: sent without a basis
                home = new LinkedHashMap<>();
                layers.add(home);
            }
            home.put(k, wanted.get(k));
        }
        return layers;
    }

    private static boolean hasAncestorIn(byte[] path, Map<ByteBuffer, byte[]> layer) {
        for (byte[] a = BytePaths.parent(path); a.length > 0; a = BytePaths.parent(a)) {
            if (layer.containsKey(ByteBuffer.wrap(a))) return true;
        }
        return false;
    }

    /** From the link at {@code at} (inside <parent>/.rtb-moves/<id>/<layer>/) up to <parent>, then into the replica. */
    static byte[] target(byte[] at, String mirrorName, byte[] old) {
        int depth = 1;
        for (byte b : at) if (b == '/') depth++;
        StringBuilder up = new StringBuilder();
        for (int i = 1; i < depth; i++) up.append("../");
        up.append("../../../").append(mirrorName);
        byte[] base = up.toString().getBytes(StandardCharsets.US_ASCII);
        return old.length == 0 ? base : BytePaths.join(base, old);
    }

    private static String farmId(String commandId) {
        StringBuilder sb = new StringBuilder();
        for (char c : commandId.toCharArray()) if (Character.isLetterOrDigit(c) || c == '-') sb.append(c);
        return sb.length() == 0 ? "run" : sb.toString();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static void deleteLocal(Path local) {
        try {
            ByteFs.deleteTree(BytePaths.utf8(local.toString()));
        } catch (ErrnoException e) {
            // a temp dir of symlinks; the OS cleans /tmp eventually
        }
    }
}
