package io.rtbackup.agent.config;

import io.rtbackup.agent.config.ExecConfig.LocalTarget;
import io.rtbackup.agent.config.ExecConfig.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * How hard every rsync run to one destination may push the network and this host, read from the destination's
 * settings:
 *
 * <pre>
 * destination.dc2.bwlimit=5m        # rsync --bwlimit: a whole number of KiB/s, or with a k/m/g suffix (unset: no limit)
 * destination.dc2.compress=none     # none | auto (rsync negotiates) | zstd | lz4 | zlib (both ends must support it)
 * destination.dc2.nice=0            # 0-19: rsync runs under "nice -n N" (0: unchanged)
 * destination.dc2.ionice=none       # none | idle | best-effort[:0-7]: rsync runs under "ionice -c CLASS [-n LEVEL]"
 * </pre>
 *
 * Compression is off by default, as in rsync: on a LAN it mostly costs CPU on both ends. A local directory
 * refuses any compression other than {@code none} (nothing crosses a network; rsync would only spend CPU).
 * {@code nice} and {@code ionice} need {@code nice} (coreutils) and {@code ionice} (util-linux) on PATH, which is
 * checked here. This class only reads and checks; the rsync package turns it into arguments.
 */
public record TransferTuning(Optional<String> bwlimit, Compression compression, int nice, IoPriority ioPriority) {
    public static final String BWLIMIT = "bwlimit";
    public static final String COMPRESS = "compress";
    public static final String NICE = "nice";
    public static final String IONICE = "ionice";

    /** rsync's defaults: no limit, no compression, the agent's own priorities. */
    public static final TransferTuning DEFAULT =
        new TransferTuning(Optional.empty(), Compression.NONE, 0, IoPriority.UNCHANGED);

    /** Whole KiB/s, or a whole number with rsync's 1024-based k/m/g suffix; no fractions, no byte units. */
    private static final Pattern BWLIMIT_FORM = Pattern.compile("[1-9][0-9]{0,8}[kKmMgG]?");
    private static final Pattern IONICE_FORM = Pattern.compile("none|idle|best-effort(:[0-7])?");

    public TransferTuning {
        if (nice < 0 || nice > 19) throw new IllegalArgumentException("nice " + nice + " outside 0-19");
        bwlimit.ifPresent(b -> {
            if (!BWLIMIT_FORM.matcher(b).matches()) throw new IllegalArgumentException("bad bwlimit " + b);
        });
    }

    /** rsync's compression: off, negotiated ({@code --compress}), or one named algorithm. */
    public enum Compression {
        NONE, AUTO, ZSTD, LZ4, ZLIB;

        /** The name rsync's {@code --compress-choice} takes; empty for {@link #NONE} and {@link #AUTO}. */
        public Optional<String> choice() {
            return this == NONE || this == AUTO ? Optional.empty() : Optional.of(name().toLowerCase(Locale.ROOT));
        }

        public static Optional<Compression> parse(String v) {
            for (Compression c : values()) {
                if (c.name().toLowerCase(Locale.ROOT).equals(v)) return Optional.of(c);
            }
            return Optional.empty();
        }
    }

    /** I/O scheduling class of rsync ({@code ionice}); {@code level} only for best-effort (0 highest, 7 lowest). */
    public record IoPriority(IoClass ioClass, OptionalInt level) {
        public static final IoPriority UNCHANGED = new IoPriority(IoClass.NONE, OptionalInt.empty());
        public static final IoPriority IDLE = new IoPriority(IoClass.IDLE, OptionalInt.empty());

        public IoPriority {
            if (level.isPresent() && (ioClass != IoClass.BEST_EFFORT || level.getAsInt() < 0 || level.getAsInt() > 7)) {
                throw new IllegalArgumentException("level " + level.getAsInt() + " for " + ioClass);
            }
        }

        /** {@code none}, {@code idle}, {@code best-effort} or {@code best-effort:N} (N 0-7). */
        public static Optional<IoPriority> parse(String v) {
            if (!IONICE_FORM.matcher(v).matches()) return Optional.empty();
            if (v.equals("none")) return Optional.of(UNCHANGED);
            if (v.equals("idle")) return Optional.of(IDLE);
            int colon = v.indexOf(':');
            return Optional.of(new IoPriority(IoClass.BEST_EFFORT,
                colon < 0 ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(v.substring(colon + 1)))));
        }
    }

    /** ionice's classes by their number ({@code -c}); NONE leaves the class alone. */
    public enum IoClass {
        NONE(0), BEST_EFFORT(2), IDLE(3);

        private final int number;

        IoClass(int number) {
            this.number = number;
        }

        public int number() {
            return number;
        }
    }

    /** Whether rsync runs at the agent's own CPU and I/O priority. */
    public boolean unchangedPriority() {
        return nice == 0 && ioPriority.ioClass() == IoClass.NONE;
    }

    /**
     * Reads the four settings of the destination whose keys start with {@code p} from its fields {@code f}.
     *
     * @throws ConfigException naming the key, for a malformed value, compression for a local directory, or a
     *                         missing {@code nice}/{@code ionice} program
     */
    static TransferTuning from(String p, Map<String, String> f, Target target) {
        Optional<String> bw = Optional.ofNullable(f.get(BWLIMIT)).filter(v -> !v.isEmpty());
        if (bw.isPresent() && !BWLIMIT_FORM.matcher(bw.get()).matches()) {
            throw new ConfigException(p + BWLIMIT, "'" + bw.get() + "' is not a rate rsync --bwlimit takes here: a "
                + "whole number of KiB/s (5000) or with a 1024-based suffix (800k, 5m, 1g); remove it for no limit");
        }
        String c = f.getOrDefault(COMPRESS, "");
        Compression compression = c.isEmpty() ? Compression.NONE : Compression.parse(c).orElseThrow(() ->
            new ConfigException(p + COMPRESS, "'" + c + "' is not one of none, auto, zstd, lz4, zlib"));
        if (compression != Compression.NONE && target instanceof LocalTarget) {
            throw new ConfigException(p + COMPRESS, "'" + c + "' for a local directory: nothing crosses a network, "
                + "compression would only cost CPU; remove it or set none");
        }
        String n = f.getOrDefault(NICE, "");
        int nice = 0;
        if (!n.isEmpty()) {
            nice = n.matches("[0-9]{1,2}") ? Integer.parseInt(n) : -1;
            if (nice < 0 || nice > 19) {
                throw new ConfigException(p + NICE, "'" + n + "' is not a niceness 0-19 (0: unchanged, 19: lowest)");
            }
        }
        String io = f.getOrDefault(IONICE, "");
        IoPriority ioPriority = io.isEmpty() ? IoPriority.UNCHANGED : IoPriority.parse(io).orElseThrow(() ->
            new ConfigException(p + IONICE, "'" + io + "' is not none, idle, best-effort or best-effort:0-7"));
        if (nice > 0) requireOnPath(p + NICE, "nice", "coreutils");
        if (ioPriority.ioClass() != IoClass.NONE) requireOnPath(p + IONICE, "ionice", "util-linux");
        return new TransferTuning(bw, compression, nice, ioPriority);
    }

    private static void requireOnPath(String key, String program, String pkg) {
        if (!onPath(program)) {
            throw new ConfigException(key, "needs '" + program + "' on PATH; install " + pkg + " or remove " + key);
        }
    }

    /** Whether a program name (no '/') is found on PATH as the child processes will look it up. */
    static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) return true;
            }
        }
        return false;
    }
}
