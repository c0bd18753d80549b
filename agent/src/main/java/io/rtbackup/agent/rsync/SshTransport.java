package io.rtbackup.agent.rsync;

import io.rtbackup.agent.config.ExecConfig.SshTarget;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How rsync reaches an ssh destination: the {@code --rsh} command it runs and what a failure of that command
 * means. The rules, here and nowhere else:
 * <ul>
 *   <li>only the destination's key ({@code -i KEY}, {@code IdentitiesOnly}, no agent) and only the host key
 *   pinned in its known_hosts file ({@code StrictHostKeyChecking=yes}, no global file, {@code UpdateHostKeys=no}
 *   so the pin is never rewritten): an unknown or changed host key ends the connection before anything is
 *   sent;</li>
 *   <li>never a prompt ({@code BatchMode}); no ssh_config file is read ({@code -F none}), so nothing on this
 *   host changes how a destination is reached; no forwarding of any kind;</li>
 *   <li>{@code ConnectTimeout} from the destination's I/O limit (rsync's {@code --contimeout} is for daemons);</li>
 *   <li>the remote command is built by rsync from its argument list; file names travel in rsync's protocol,
 *   never on the remote command line, and the remote paths on it are of safe characters only. rsync's
 *   environment pins its default argument handling ({@code RSYNC_OLD_ARGS=0}, {@code RSYNC_PROTECT_ARGS=0}):
 *   {@code rrsync}, which confines a key on the destination, refuses {@code --protect-args}.</li>
 * </ul>
 * The key and known_hosts paths are of safe characters ({@code DestinationUrl}), so the {@code --rsh} string,
 * which rsync splits at spaces itself, needs no quoting.
 */
public record SshTransport(String destination, SshTarget target, Duration connectTimeout) {
    /** What ssh prints when the host key is unknown or differs from the pinned one. */
    static final String HOST_KEY_FAILED = "Host key verification failed";
    static final String HOST_KEY_CHANGED = "REMOTE HOST IDENTIFICATION HAS CHANGED";
    /** What ssh prints when the destination accepts none of the offered keys. */
    static final String KEY_REFUSED = "Permission denied (publickey";

    /** The {@code --rsh} option of every run against the destination. */
    public String rshOption() {
        long connect = Math.max(1, connectTimeout.toSeconds());
        return "--rsh=" + String.join(" ", List.of("ssh", "-F", "none",
            "-i", target.key().toString(), "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "UserKnownHostsFile=" + target.knownHosts(), "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no", "-o", "BatchMode=yes",
            "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
            "-o", "ForwardAgent=no", "-o", "ForwardX11=no", "-o", "ClearAllForwardings=yes",
            "-o", "ConnectTimeout=" + connect, "-p", Integer.toString(target.port())));
    }

    /** Entries for rsync's environment. */
    public Map<String, String> environment() {
        return Map.of("RSYNC_OLD_ARGS", "0", "RSYNC_PROTECT_ARGS", "0");
    }

    /**
     * What a failed run's stderr says about the ssh connection, in words naming the destination and the file to
     * fix; empty when it is neither a host key failure nor a refused key.
     */
    public Optional<String> diagnose(String stderr) {
        if (stderr.contains(HOST_KEY_CHANGED)) {
            return Optional.of("destination '" + destination + "': the host key of " + target.host() + " port "
                + target.port() + " differs from the one pinned in " + target.knownHosts() + " (destination."
                + destination + ".known-hosts); nothing was sent. If the host's key was changed on purpose, check its "
                + "fingerprint out of band and put the new key in that file");
        }
        if (stderr.contains(HOST_KEY_FAILED)) {
            return Optional.of("destination '" + destination + "': no host key of " + target.host() + " port "
                + target.port() + " is pinned in " + target.knownHosts() + " (destination." + destination
                + ".known-hosts); nothing was sent. Add the host's key (ssh-keyscan -p " + target.port() + " "
                + target.host() + "), checking its fingerprint out of band");
        }
        if (stderr.contains(KEY_REFUSED)) {
            return Optional.of("destination '" + destination + "': " + target.host() + " port " + target.port()
                + " refused the key " + target.key() + " (destination." + destination + ".ssh-key); add its .pub line "
                + "to the authorized_keys of " + target.user().orElse("the login user") + " there "
                + "(docs/destinations-ssh.md)");
        }
        return Optional.empty();
    }
}
