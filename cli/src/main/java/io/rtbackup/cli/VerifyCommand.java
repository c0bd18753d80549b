package io.rtbackup.cli;

import io.rtbackup.agent.config.ConfigException;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.config.ExecConfig.Destination;
import io.rtbackup.agent.config.ExecConfig.Password;
import io.rtbackup.agent.config.ExecConfig.PasswordEnv;
import io.rtbackup.agent.config.ExecConfig.PasswordFile;
import io.rtbackup.agent.rsync.RsyncEndpoint;
import io.rtbackup.agent.verify.ReplicaVerifier;
import io.rtbackup.secure.OwnerOnly;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb verify}: the command line of {@link ReplicaVerifier}, which compares a source root with its replica
 * by content (an rsync dry run with checksums) and lists every path that differs. This class turns the options
 * into the replica's address and an rsync endpoint (the password from {@code --password-file} or
 * {@code RSYNC_PASSWORD_<NAME>}, handed to rsync in its environment) and prints the result. Exit 0: equal;
 * 1: different; 2: usage error; 3: rsync could not compare.
 *
 * <p>Names are printed as rsync escapes them ({@code \#ooo} for every control and non-ASCII byte): one path per
 * line even for names with newlines, and plain ASCII whatever the terminal.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Compare a source root with its replica on a destination (rsync dry run, checksums) and list "
        + "the paths that differ.", "Exit code: 0 equal, 1 different, 2 usage error, 3 the comparison failed."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:the replica equals the source", "1:some paths differ (listed)", "2:usage error",
        "3:rsync could not compare (unreachable destination, permissions...)"})
final class VerifyCommand implements Callable<Integer> {
    static final int EQUAL = 0;
    static final int DIFFERENT = 1;
    static final int FAILED = 3;

    @Spec
    CommandSpec spec;

    @Option(names = "--root", required = true, paramLabel = "DIR", description = "The source root directory.")
    Path root;

    @Option(names = "--dest", required = true, paramLabel = "URL_OR_DIR",
        description = "The destination: ssh://[user@]host[:port]/path (with --ssh-key and --known-hosts), "
            + "rsync://[user@]host[:port]/module[/prefix] or a local directory.")
    String dest;

    @Mixin
    SshOptions ssh = new SshOptions();

    @Option(names = "--host-id", description = "Host name in the backup (default: this host's name).")
    String hostId;

    @Option(names = "--root-id", description = "Root id in the backup (default: as rtb up names it, from the folder name).")
    String rootId;

    @Option(names = "--dest-name", description = "Destination name: its password is read from RSYNC_PASSWORD_<NAME>.")
    String destName;

    @Option(names = "--password-file", paramLabel = "FILE", description = "rsync daemon password file (first line).")
    Path passwordFile;

    @Option(names = "--exclude", paramLabel = "GLOB", description = "Exclude pattern of the root (repeatable), as in the agent config.")
    List<String> excludes = new ArrayList<>();

    @Option(names = "--rsync", defaultValue = "rsync", description = "rsync binary (default: ${DEFAULT-VALUE}).")
    String rsync;

    @Option(names = "--timeout-s", defaultValue = "60", description = "rsync I/O timeout in seconds (default: ${DEFAULT-VALUE}).")
    int timeoutS;

    /** Environment of the rsync child; System.getenv() in production, replaced by tests. */
    Map<String, String> env = System.getenv();

    @Override
    public Integer call() throws IOException {
        Path dir = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) throw usage("--root " + root + ": not a directory");
        String host = hostId != null ? hostId : localHostName();
        String rid = rootId != null ? rootId : UpCommand.safeName(dir.getFileName() == null ? "root" : dir.getFileName().toString());
        for (String[] c : new String[][] {{"--host-id", host}, {"--root-id", rid}}) {
            if (!ExecConfig.isSafeRemoteComponent(c[1])) {
                throw usage(c[0] + " '" + c[1] + "' must be of [A-Za-z0-9._@+=,~-] and not '.' or '..'");
            }
        }
        if (timeoutS < 1) throw usage("--timeout-s " + timeoutS + ": must be at least 1");
        if (dest.startsWith(SshOptions.SSH)) return overSsh(dir, host + "/" + rid);
        try {
            ssh.checkUsed(List.of(dest));
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        boolean daemon = dest.startsWith("rsync://");
        if (!daemon && (dest.contains("://") || !dest.startsWith("/"))) {
            throw usage("--dest '" + dest + "' must be an ssh://... or rsync://... URL or an absolute directory");
        }
        if (!daemon && (passwordFile != null || destName != null && env.get(ExecConfig.passwordVariable(destName)) != null)) {
            throw usage("--dest '" + dest + "' is a local directory, which takes no password");
        }
        String target = (dest.endsWith("/") ? dest : dest + "/") + host + "/" + rid + "/";

        Optional<Password> password = Optional.empty();
        if (passwordFile != null && !Files.isReadable(passwordFile)) {
            throw usage("--password-file " + passwordFile + ": cannot read it");
        }
        if (passwordFile != null) {
            // As rsync refuses a daemon password file others can read; the rule is OwnerOnly's.
            Optional<String> open = OwnerOnly.secretFileProblem(passwordFile);
            if (open.isPresent()) throw usage("--password-file " + passwordFile + ": " + open.get());
        }
        if (destName != null) {
            String variable = ExecConfig.passwordVariable(destName);
            String secret = env.get(variable);
            if (secret == null || secret.isEmpty()) {
                throw usage("--dest-name " + destName + ": set the password in " + variable + " or use --password-file");
            }
            password = Optional.of(new PasswordEnv(variable, secret));
        }
        // rsync itself preferred --password-file over RSYNC_PASSWORD; the file still wins
        if (passwordFile != null) password = Optional.of(new PasswordFile(passwordFile.toAbsolutePath()));
        RsyncEndpoint endpoint = new RsyncEndpoint(rsync, daemon, Duration.ofSeconds(timeoutS), false, false, password);
        ReplicaVerifier verifier;
        try {
            verifier = new ReplicaVerifier(endpoint, excludes);
        } catch (IllegalArgumentException e) {
            throw usage("--exclude: " + e.getMessage());
        }
        ReplicaVerifier.Outcome outcome;
        try {
            outcome = verifier.compare(dir, target);
        } catch (IOException e) {
            throw usage("--password-file " + passwordFile + ": cannot read it (" + e.getMessage() + ")");
        }
        return report(outcome, dir, target);
    }

    /** An ssh destination, read as the agent reads one (the same checks of the key and the pinned host key). */
    private int overSsh(Path dir, String remoteDir) throws IOException {
        if (passwordFile != null || destName != null) {
            throw usage("--dest '" + dest + "' is reached over ssh, which takes no password: use --ssh-key");
        }
        String name = SshOptions.hostName(dest);
        Properties p = new Properties();
        p.setProperty("destination." + name + ".url", dest);
        p.setProperty("destination." + name + ".timeout-s", Integer.toString(timeoutS));
        p.setProperty(ExecConfig.RSYNC_PATH, rsync);
        Destination d;
        try {
            ssh.apply(p, name, dest);
            d = ExecConfig.from(p, Map.of()).destinations().get(name);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        } catch (ConfigException e) {
            throw usage(SshOptions.explain(e, name).replace(ExecConfig.RSYNC_PATH, "--rsync"));
        }
        String target = d.target().argument(remoteDir);
        ReplicaVerifier.Outcome outcome = new ReplicaVerifier(RsyncEndpoint.of(rsync, d), excludes).compare(dir, target);
        return report(outcome, dir, target);
    }

    private int report(ReplicaVerifier.Outcome outcome, Path dir, String target) {
        if (outcome instanceof ReplicaVerifier.NotStarted n) {
            throw usage("--rsync " + rsync + ": cannot run it (" + n.reason() + "); install rsync >= 3.2.3");
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        if (outcome instanceof ReplicaVerifier.Failed f) {
            stderr.println("rtb verify: rsync " + dir + "/ -> " + target + " failed with exit " + f.exitCode() + ": "
                + f.stderr());
            stderr.flush();
            return FAILED;
        }
        List<String> differences = ((ReplicaVerifier.Compared) outcome).differences();
        for (String d : differences) stdout.println(d);
        stdout.println(differences.isEmpty()
            ? "rtb verify: " + dir + " and " + target + " are equal"
            : "rtb verify: " + differences.size() + (differences.size() == 1 ? " path differs" : " paths differ")
                + " between " + dir + " and " + target);
        stdout.flush();
        return differences.isEmpty() ? EQUAL : DIFFERENT;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private String localHostName() throws IOException {
        String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        if (h.isEmpty()) throw usage("this host has no name; pass --host-id");
        return h;
    }
}
