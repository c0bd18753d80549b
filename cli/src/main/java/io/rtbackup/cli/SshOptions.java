package io.rtbackup.cli;

import io.rtbackup.agent.config.ConfigException;
import io.rtbackup.agent.config.DestinationUrl;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * {@code --ssh-key} and {@code --known-hosts} of the commands that take a {@code --dest} without an agent config
 * ({@code rtb up}, {@code restore}, {@code prune}, {@code verify}): they become the {@code ssh-key} and
 * {@code known-hosts} settings of every {@code ssh://} destination given, as absolute paths. Both are needed
 * for an ssh destination and refused without one, with the option names in the message; the agent config's
 * own checks ({@link DestinationUrl}) then read the files.
 */
final class SshOptions {
    static final String SSH = "ssh://";

    @Option(names = "--ssh-key", paramLabel = "FILE",
        description = "For ssh:// destinations: the private key to log in with (mode 600).")
    Path sshKey;

    @Option(names = "--known-hosts", paramLabel = "FILE",
        description = "For ssh:// destinations: known_hosts file pinning the destination's host key; any other key "
            + "is refused.")
    Path knownHosts;

    /**
     * Adds the ssh settings of destination {@code name} (at {@code url}) to {@code p}.
     *
     * @throws IllegalArgumentException when an ssh destination lacks one of the options, or they are given
     *                                  without any ssh destination
     */
    void apply(Properties p, String name, String url) {
        if (!url.startsWith(SSH)) return;
        if (sshKey == null || knownHosts == null) {
            throw new IllegalArgumentException("--dest " + url + " needs --ssh-key FILE (the private key this host "
                + "logs in with) and --known-hosts FILE (the destination's pinned host key: ssh-keyscan, with the "
                + "fingerprint checked out of band); see docs/destinations-ssh.md");
        }
        p.setProperty("destination." + name + "." + DestinationUrl.SSH_KEY, sshKey.toAbsolutePath().normalize().toString());
        p.setProperty("destination." + name + "." + DestinationUrl.KNOWN_HOSTS,
            knownHosts.toAbsolutePath().normalize().toString());
    }

    /** Refuses the options when none of {@code urls} is an ssh destination. */
    void checkUsed(List<String> urls) {
        if ((sshKey != null || knownHosts != null) && urls.stream().noneMatch(u -> u.startsWith(SSH))) {
            throw new IllegalArgumentException((sshKey != null ? "--ssh-key" : "--known-hosts")
                + " is only for an ssh://[user@]host[:port]/path --dest");
        }
    }

    /** A config error of a destination named {@code name} in the words of the command line. */
    static String explain(ConfigException e, String name) {
        String p = "destination." + name + ".";
        return e.getMessage().replace(p + DestinationUrl.SSH_KEY, "--ssh-key")
            .replace(p + DestinationUrl.KNOWN_HOSTS, "--known-hosts").replace(p + "url", "--dest");
    }

    /** The destination name {@code rtb up} gives a URL: its host, made safe. */
    static String hostName(String url) {
        String rest = url.substring(SSH.length());
        return UpCommand.safeName(rest.replaceAll("^[^@/]*@", "").replaceAll("^\\[([^\\]]*)\\].*$", "$1")
            .replaceAll("[:/].*$", ""));
    }
}
