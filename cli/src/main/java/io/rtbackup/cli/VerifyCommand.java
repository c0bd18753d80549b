package io.rtbackup.cli;

import io.rtbackup.agent.config.ExecConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb verify}: compares a source root with its replica by content (an rsync dry run with checksums) and
 * lists every path that differs. Exit 0: equal; 1: different; 2: usage error; 3: rsync could not compare.
 *
 * <p>Names are printed as rsync escapes them: rsync runs in the C locale, so every control and non-ASCII byte of
 * a name shows as {@code \#ooo} (octal). That keeps one path per line even for names with newlines, and the
 * output is plain ASCII whatever the terminal.
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

    /** {@code %i %n}: 11 itemize characters, a space, the (escaped) name. */
    private static final Pattern ITEM = Pattern.compile("([<>ch.*][^ ]{8,10}|\\*deleting) +(.+)");

    @Spec
    CommandSpec spec;

    @Option(names = "--root", required = true, paramLabel = "DIR", description = "The source root directory.")
    Path root;

    @Option(names = "--dest", required = true, paramLabel = "URL_OR_DIR",
        description = "The destination: rsync://[user@]host[:port]/module[/prefix] or a local directory.")
    String dest;

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
    public Integer call() throws IOException, InterruptedException {
        Path dir = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) throw usage("--root " + root + ": not a directory");
        String host = hostId != null ? hostId : localHostName();
        String rid = rootId != null ? rootId : UpCommand.safeName(dir.getFileName() == null ? "root" : dir.getFileName().toString());
        for (String[] c : new String[][] {{"--host-id", host}, {"--root-id", rid}}) {
            if (!ExecConfig.isSafeRemoteComponent(c[1])) {
                throw usage(c[0] + " '" + c[1] + "' must be of [A-Za-z0-9._@+=,~-] and not '.' or '..'");
            }
        }
        boolean daemon = dest.startsWith("rsync://");
        if (!daemon && (dest.contains("://") || !dest.startsWith("/"))) {
            throw usage("--dest '" + dest + "' must be an rsync://... URL or an absolute directory");
        }
        if (!daemon && (passwordFile != null || destName != null && env.get(ExecConfig.passwordVariable(destName)) != null)) {
            throw usage("--dest '" + dest + "' is a local directory, which takes no password");
        }
        String target = (dest.endsWith("/") ? dest : dest + "/") + host + "/" + rid + "/";

        List<String> cmd = new ArrayList<>(List.of(rsync, "-a", "-H", "--dry-run", "--checksum", "--itemize-changes",
            "--delete", "--numeric-ids", "--no-motd", "--out-format=%i %n", "--timeout=" + timeoutS));
        if (daemon) cmd.add("--contimeout=" + timeoutS);
        if (passwordFile != null) {
            if (!Files.isReadable(passwordFile)) throw usage("--password-file " + passwordFile + ": cannot read it");
            cmd.add("--password-file=" + passwordFile.toAbsolutePath());
        }
        for (String ex : excludes) cmd.add("--exclude=" + ex);
        cmd.add(dir + "/");
        cmd.add(target);

        ProcessBuilder pb = new ProcessBuilder(cmd);
        // C locale: rsync escapes every non-ASCII and control byte of a name, so output lines are unambiguous.
        pb.environment().put("LC_ALL", "C");
        if (destName != null) {
            String variable = ExecConfig.passwordVariable(destName);
            String secret = env.get(variable);
            if (secret == null || secret.isEmpty()) {
                throw usage("--dest-name " + destName + ": set the password in " + variable + " or use --password-file");
            }
            pb.environment().put("RSYNC_PASSWORD", secret);
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw usage("--rsync " + rsync + ": cannot run it (" + e.getMessage() + "); install rsync >= 3.2.3");
        }
        p.getOutputStream().close();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        byte[] out = readAll(p.getInputStream());
        int rc = p.waitFor();
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        if (rc != 0) {
            stderr.println("rtb verify: rsync " + dir + "/ -> " + target + " failed with exit " + rc + ": "
                + new String(err.join(), StandardCharsets.ISO_8859_1).strip());
            stderr.flush();
            return FAILED;
        }
        List<String> differences = differences(new String(out, StandardCharsets.ISO_8859_1));
        for (String d : differences) stdout.println(d);
        stdout.println(differences.isEmpty()
            ? "rtb verify: " + dir + " and " + target + " are equal"
            : "rtb verify: " + differences.size() + (differences.size() == 1 ? " path differs" : " paths differ")
                + " between " + dir + " and " + target);
        stdout.flush();
        return differences.isEmpty() ? EQUAL : DIFFERENT;
    }

    /** One line per differing path: what differs, then the path (rsync-escaped, relative to the root). */
    static List<String> differences(String itemized) {
        List<String> lines = new ArrayList<>();
        for (String line : itemized.split("\n")) {
            if (line.isEmpty()) continue;
            var m = ITEM.matcher(line);
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

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private static byte[] readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            return buf.toByteArray();
        } catch (IOException e) {
            return e.toString().getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    private String localHostName() throws IOException {
        String h = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        if (h.isEmpty()) throw usage("this host has no name; pass --host-id");
        return h;
    }
}
