package io.rtbackup.agent.rsync;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Builds the argument list of one rsync invocation against an {@link RsyncEndpoint}: the endpoint's
 * {@linkplain RsyncEndpoint#niceness() priority prefix} ({@code nice}/{@code ionice}, usually none), the binary, then the
 * endpoint's {@linkplain RsyncEndpoint#connectionOptions() connection options}, then the caller's options, and the
 * source and destination last (callers that rewrite a list rely on that: the last two arguments of a transfer are
 * always the source and the destination; a listing ends with its source alone). Never a shell: every argument reaches rsync as it is. Nothing secret goes in here;
 * the password travels in the environment ({@link RsyncEndpoint#environment()}).
 *
 * <p>A builder is used once: {@link #build} returns an immutable list.
 */
public final class RsyncArgs {
    /** Value of {@code --files-from} that reads the list from stdin; see {@link RsyncStdin.FileList}. */
    static final String FILES_FROM_STDIN = "--files-from=-";

    private final RsyncEndpoint endpoint;
    private final List<String> args = new ArrayList<>();

    private RsyncArgs(RsyncEndpoint endpoint) {
        this.endpoint = endpoint;
        args.addAll(endpoint.niceness().prefix());
        args.add(endpoint.rsyncPath());
        args.addAll(endpoint.connectionOptions());
    }

    /** A new argument list for a run against {@code endpoint}. */
    public static RsyncArgs to(RsyncEndpoint endpoint) {
        return new RsyncArgs(endpoint);
    }

    /** Appends options as they are. */
    public RsyncArgs add(String... options) {
        args.addAll(List.of(options));
        return this;
    }

    /** Appends options as they are. */
    public RsyncArgs addAll(Collection<String> options) {
        args.addAll(options);
        return this;
    }

    /**
     * The full state of each file: {@code -a --numeric-ids} (the backup host's user names mean nothing for the
     * source's files), and {@code -A}/{@code -X} where the endpoint stores ACLs / extended attributes.
     */
    public RsyncArgs archive() {
        args.add("-a");
        args.add("--numeric-ids");
        if (endpoint.acls()) args.add("-A");
        if (endpoint.xattrs()) args.add("-X");
        return this;
    }

    /**
     * The file list comes NUL-separated on stdin ({@code --files-from=- --from0}, which implies
     * {@code --relative}); pair it with an {@link RsyncStdin.FileList}.
     */
    public RsyncArgs filesFromStdin() {
        args.add(FILES_FROM_STDIN);
        args.add("--from0");
        return this;
    }

    /**
     * Include rules come NUL-separated on stdin, and everything they do not include is excluded
     * ({@code --from0 --include-from=- --exclude=*}); pair it with an {@link RsyncStdin.Selection}.
     */
    public RsyncArgs selectFromStdin() {
        args.add("--from0");
        args.add("--include-from=-");
        args.add("--exclude=*");
        return this;
    }

    /**
     * {@code --mkpath}: the destination's missing parent directories are created. It needs rsync &gt;= 3.2.3 on
     * both ends, which {@link RsyncVersion#check} makes sure of locally at start-up.
     */
    public RsyncArgs mkpath() {
        args.add("--mkpath");
        return this;
    }

    /**
     * Times compared to the nanosecond ({@code --modify-window=-1}) by the receiver of a push to this endpoint.
     * For ssh the option goes to the remote receiver alone ({@code --remote-option}), as a long option:
     * {@code rrsync} refuses the short form {@code -@-1} rsync would send for it, and the local sender does not
     * compare times.
     */
    public RsyncArgs nanosecondTimes() {
        args.add(endpoint.ssh().isPresent() ? "--remote-option=--modify-window=-1" : "--modify-window=-1");
        return this;
    }

    /** A listing ({@code --list-only} and the like) of {@code source}: everything so far, then the source. */
    public List<String> build(String source) {
        List<String> out = new ArrayList<>(args);
        out.add(source);
        return List.copyOf(out);
    }

    /** The finished list: everything so far, then {@code source} and {@code destination}. */
    public List<String> build(String source, String destination) {
        List<String> out = new ArrayList<>(args);
        out.add(source);
        out.add(destination);
        return List.copyOf(out);
    }
}
