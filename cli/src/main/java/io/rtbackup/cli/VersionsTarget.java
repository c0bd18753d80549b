package io.rtbackup.cli;

import io.rtbackup.agent.AgentConfig;
import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.config.ConfigException;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.versions.VersionStore;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Which host, roots and destinations {@code rtb restore} and {@code rtb prune} work on: an agent config file, or
 * for {@code rtb up} users (who have none) the same {@code --source}/{@code --dest} as {@code rtb up}. The config
 * is read without the agent's start-up checks: a restore must work when a root directory is gone.
 */
final class VersionsTarget {
    @Option(names = "--config", paramLabel = "FILE", description = "Agent properties file: host, roots and destinations.")
    Path config;

    @Option(names = "--source", paramLabel = "DIR",
        description = "Without --config: a folder given to 'rtb up --source' (repeatable).")
    List<Path> sources;

    @Option(names = "--dest", paramLabel = "URL_OR_DIR",
        description = "Without --config: the 'rtb up --dest' destination (ssh://..., local directory or rsync://...).")
    String dest;

    @Mixin
    SshOptions ssh = new SshOptions();

    @Option(names = "--password-file", paramLabel = "FILE",
        description = "Without --config: rsync daemon password file (or set RSYNC_PASSWORD_<NAME>).")
    Path passwordFile;

    @Option(names = "--host-id", description = "Host name in the backup (default: host.id of the config, or this host's name).")
    String hostId;

    /** The resolved setting. */
    record Resolved(String hostId, Map<String, String> roots, ExecConfig exec) {
    }

    /** Where a path's copies are: the resolved setting, the destination picked, the path's replica and its store. */
    record Replica(Resolved config, Destination destination, ReplicaPath where, VersionStore store) {
    }

    /**
     * The replica of {@code path} on the destination {@code from} names (or the only one), as {@code rtb versions}
     * and {@code rtb restore} both need it.
     *
     * @throws IllegalArgumentException or {@link ConfigException} naming the flag or setting that is wrong
     */
    Replica replica(Map<String, String> env, String from, String path, String remoteDir) {
        Resolved cfg = resolve(env);
        Destination d = pick(cfg.exec(), from);
        ReplicaPath where = ReplicaPath.locate(cfg, path, remoteDir);
        return new Replica(cfg, d, where, new VersionStore(cfg.exec().rsyncPath(), d, where.remoteDir()));
    }

    Resolved resolve(Map<String, String> env) {
        Properties p;
        if (config != null) {
            if (dest != null || sources != null || ssh.sshKey != null || ssh.knownHosts != null) {
                throw new IllegalArgumentException("use either --config or --source/--dest (with --ssh-key and "
                    + "--known-hosts for ssh), not both");
            }
            p = AgentConfig.read(config);
        } else {
            if (dest == null || sources == null) {
                throw new IllegalArgumentException("missing --config agent.properties (or, for rtb up, --source DIR "
                    + "and --dest URL_OR_DIR as given to rtb up)");
            }
            p = new Properties();
            Map<String, Path> ids = new LinkedHashMap<>();
            for (Path s : sources) {
                Path dir = s.toAbsolutePath().normalize();
                String base = UpCommand.safeName(dir.getFileName() == null ? "root" : dir.getFileName().toString());
                String id = base;
                for (int i = 2; ids.containsKey(id); i++) id = base + "-" + i;
                ids.put(id, dir);
            }
            ids.forEach((id, dir) -> p.setProperty("root." + id + ".path", dir.toString()));
            String url = dest.startsWith("rsync://") || dest.startsWith(SshOptions.SSH) ? dest
                : Path.of(dest).toAbsolutePath().normalize().toString();
            p.setProperty("destination." + destName() + ".url", url);
            ssh.checkUsed(List.of(url));
            ssh.apply(p, destName(), url);
            p.setProperty("destination." + destName() + ".keep-versions", "true");
            if (passwordFile != null) {
                p.setProperty("destination." + destName() + ".password-file", passwordFile.toAbsolutePath().toString());
            }
        }
        if (hostId != null) p.setProperty(CaptureConfig.HOST_ID, hostId);
        CaptureConfig capture = CaptureConfig.parse(p);
        Map<String, String> roots = new LinkedHashMap<>();
        for (CaptureConfig.RootConfig r : capture.roots()) roots.put(r.id(), r.path());
        try {
            return new Resolved(capture.hostId(), roots, ExecConfig.from(p, env));
        } catch (ConfigException e) {
            if (config != null) throw e;
            throw new IllegalArgumentException(SshOptions.explain(e, destName()), e);
        }
    }

    /** The destination name without --config: as rtb up names it, from the URL's host or the folder's name. */
    String destName() {
        if (dest.startsWith(SshOptions.SSH)) return SshOptions.hostName(dest);
        if (dest.startsWith("rsync://")) {
            String rest = dest.substring("rsync://".length());
            return UpCommand.safeName(rest.replaceAll("^[^@/]*@", "").replaceAll("[:/].*$", ""));
        }
        Path dir = Path.of(dest).toAbsolutePath().normalize();
        return UpCommand.safeName(dir.getFileName() == null ? "dest" : dir.getFileName().toString());
    }

    /** The destination {@code from} names, or the only one (preferring those that keep versions). */
    static Destination pick(ExecConfig exec, String from) {
        Map<String, Destination> all = exec.destinations();
        if (from != null) {
            Destination d = all.get(from);
            if (d == null) {
                throw new IllegalArgumentException("--from " + from + ": no such destination; configured: " + all.keySet());
            }
            return d;
        }
        List<Destination> keeping = all.values().stream().filter(d -> d.versions().keep()).toList();
        if (keeping.size() == 1) return keeping.get(0);
        if (keeping.isEmpty() && all.size() == 1) return all.values().iterator().next();
        if (all.isEmpty()) throw new IllegalArgumentException("the configuration has no destination");
        throw new IllegalArgumentException("several destinations " + (keeping.isEmpty() ? all.keySet()
            : keeping.stream().map(Destination::name).toList()) + ": choose one with --from");
    }

    /** {@code dir} if it is plain names of [A-Za-z0-9._@+=,~-] separated by '/', as the executor accepts them. */
    static String checkRemoteDir(String option, String dir) {
        String d = dir.replaceAll("^/+|/+$", "");
        for (String c : d.split("/", -1)) {
            if (!ExecConfig.isSafeRemoteComponent(c)) {
                throw new IllegalArgumentException(option + " '" + dir + "' must be plain names of "
                    + "[A-Za-z0-9._@+=,~-] separated by '/', without '.' or '..'");
            }
        }
        return d;
    }
}
