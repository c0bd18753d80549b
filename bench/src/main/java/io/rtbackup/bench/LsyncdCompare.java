package io.rtbackup.bench;

import io.rtbackup.bench.contender.Contender;
import io.rtbackup.bench.contender.Lsyncd;
import io.rtbackup.bench.contender.RtbSplit;
import io.rtbackup.bench.contender.RtbUp;
import io.rtbackup.bench.contender.Site;
import io.rtbackup.bench.measure.DaemonLog;
import io.rtbackup.bench.report.Measure;
import io.rtbackup.bench.report.Table;
import io.rtbackup.bench.workload.BigFile;
import io.rtbackup.bench.workload.Churn;
import io.rtbackup.bench.workload.FanOut;
import io.rtbackup.bench.workload.Latency;
import io.rtbackup.bench.workload.Renames;
import io.rtbackup.bench.workload.Startup;
import io.rtbackup.bench.workload.Storm;
import io.rtbackup.bench.workload.Trees;
import io.rtbackup.bench.workload.Workload;
import io.rtbackup.testkit.ExternalCommand;
import io.rtbackup.testkit.RsyncDaemon;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * rtbackup and lsyncd side by side: each workload's source tree is built once; each contender then starts fresh
 * on a replica pre-seeded to equal the source, gets the same changes, and is stopped. Contenders run one after the
 * other (never together: two cores). Prints Markdown tables with rtbackup/lsyncd ratios and writes them to a file.
 *
 * <pre>
 * LsyncdCompare --rtb-classpath CP [--quick] [--only latency10,storm,...] [--contenders rtb,rtb-split,lsyncd,...]
 *               [--out FILE] [--work DIR] [--keep]
 * </pre>
 */
public final class LsyncdCompare {

    private record Options(boolean quick, Set<String> only, Set<String> contenders, String rtbClasspath, Path out, Path work, boolean keep,
                           List<String> rtbJvmOptions, List<String> agentJvmOptions, List<String> upJvmOptions,
                           String command) {
    }

    public static void main(String[] args) throws Exception {
        Options o = parse(args);
        new LsyncdCompare().run(o);
    }

    private static Options parse(String[] args) throws IOException {
        boolean quick = false;
        boolean keep = false;
        Set<String> only = Set.of();
        Set<String> contenders = Set.of();
        String cp = null;
        Path out = Path.of("bench/results/lsyncd-compare.md");
        Path work = null;
        String command = "bench/run lsyncd-compare";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--keep" -> keep = true;
                case "--only" -> only = Set.copyOf(Arrays.asList(args[++i].split(",")));
                case "--contenders" -> contenders = Set.copyOf(Arrays.asList(args[++i].split(",")));
                case "--rtb-classpath" -> cp = Files.readString(Path.of(args[++i])).strip();
                case "--out" -> out = Path.of(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--command" -> command = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + "; usage: --rtb-classpath FILE [--quick] [--only ids] [--contenders ids] [--out FILE] [--work DIR] [--keep]");
            }
        }
        if (cp == null) {
            throw new IllegalArgumentException("--rtb-classpath FILE is required (bench/run writes it)");
        }
        if (work == null) {
            work = Files.createTempDirectory(Path.of("/tmp"), "rtb-bench-");
        }
        String opts = System.getenv().getOrDefault("RTB_JAVA_OPTS", "").strip();
        List<String> jvm = opts.isEmpty() ? List.of() : List.of(opts.split("\\s+"));
        // The split form's agent JVM gets what the rtb launcher gives `rtb agent`, unless RTB_AGENT_JAVA_OPTS
        // replaces it (to try other settings; RTB_JAVA_OPTS applies to every rtb JVM).
        String agentOpts = System.getenv().getOrDefault("RTB_AGENT_JAVA_OPTS", "").strip();
        List<String> agentJvm = withCds(agentOpts.isEmpty() ? launcherOptions("agent")
                : List.of(agentOpts.split("\\s+")), "RTB_AGENT_CDS");
        // rtb up likewise gets what the launcher gives it, unless RTB_UP_JAVA_OPTS replaces that
        String upOpts = System.getenv().getOrDefault("RTB_UP_JAVA_OPTS", "").strip();
        List<String> upJvm = withCds(upOpts.isEmpty() ? launcherOptions("up") : List.of(upOpts.split("\\s+")),
                "RTB_UP_CDS");
        return new Options(quick, only, contenders, cp, out, work, keep, jvm, agentJvm, upJvm, command);
    }

    /** {@code options} and the class-data archive option bench/run made for the role (as the launchers add it). */
    private static List<String> withCds(List<String> options, String env) {
        String cds = System.getenv().getOrDefault(env, "").strip();
        if (cds.isEmpty()) return options;
        List<String> all = new ArrayList<>(options);
        all.add(cds);
        return List.copyOf(all);
    }

    /** A role's JVM options as the rtb launcher reads them (bench/run runs from the repository root). */
    private static List<String> launcherOptions(String role) throws IOException {
        Path file = Path.of("packaging", "jvm", role + ".options");
        return Files.readAllLines(file).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    private void run(Options o) throws Exception {
        List<Workload> workloads = new ArrayList<>();
        int latencySeconds = o.quick() ? 15 : 60;
        int warmup = o.quick() ? 5 : 10;
        workloads.add(new Latency(10, latencySeconds, warmup, false));
        workloads.add(new Latency(100, latencySeconds, warmup, true));
        workloads.add(new Storm(o.quick() ? 100_000 : 1_000_000));
        workloads.add(new BigFile(o.quick() ? 256L << 20 : 1L << 30));
        workloads.add(new FanOut(20, latencySeconds, warmup));
        workloads.add(new Renames(256L << 20));
        workloads.add(o.quick() ? new Startup(10_000, 50_000) : new Startup(100_000, 500_000));
        workloads.add(new Churn(o.quick() ? 10 : 30));
        workloads.removeIf(w -> !o.only().isEmpty() && !o.only().contains(w.id()));

        List<Contender> contenders = List.of(
                new RtbUp(o.rtbClasspath(), concat(o.upJvmOptions(), o.rtbJvmOptions())),
                new RtbSplit(o.rtbClasspath(), o.rtbJvmOptions(), o.agentJvmOptions(), 1),
                new RtbSplit(o.rtbClasspath(), o.rtbJvmOptions(), o.agentJvmOptions(), 2),
                new Lsyncd(OptionalInt.empty()),
                new Lsyncd(OptionalInt.of(0)));

        String started = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        long t0 = System.nanoTime();
        List<Table> tables = new ArrayList<>();
        System.out.println("work dir " + o.work() + (o.quick() ? " (quick)" : ""));
        for (Workload w : workloads) {
            System.out.println("== " + w.title());
            tables.add(runWorkload(w, contenders, o));
        }
        String md = report(o, started, (System.nanoTime() - t0) / 1e9, tables, contenders);
        Files.createDirectories(o.out().toAbsolutePath().getParent());
        Files.writeString(o.out(), md, StandardCharsets.UTF_8);
        System.out.println();
        System.out.println(md);
        System.out.println("written to " + o.out());
        if (!o.keep()) {
            ExternalCommand.of("rm", "-rf", o.work().toString()).timeout(Duration.ofMinutes(10)).run();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }

    private Table runWorkload(Workload w, List<Contender> contenders, Options o) throws IOException {
        Table table = new Table(w.id(), w.title(), w.description());
        Path dir = o.work().resolve(w.id());
        Path src = dir.resolve("src");
        Path dst = dir.resolve("dst");
        Files.createDirectories(src);
        Files.createDirectories(dst);
        Files.createDirectories(dir.resolve("daemon"));
        long tp = System.nanoTime();
        w.prepare(src);
        System.out.printf("  source prepared in %.1f s%n", (System.nanoTime() - tp) / 1e9);
        try (RsyncDaemon daemon = RsyncDaemon.builder(Trees.ascii(dir.resolve("daemon").toString()))
                .module("m", Trees.ascii(dst.toString())).start()) {
            DaemonLog log = new DaemonLog(daemon);
            Site site = new Site(src, daemon, "m", dir, w.expectedDirs());
            for (Contender c : contenders) {
                if (!w.includes(c) || (!o.contenders().isEmpty() && !o.contenders().contains(c.id()))) {
                    continue;
                }
                w.reset(src);
                long ts = System.nanoTime();
                Trees.mirror(src, site.replica());
                System.out.printf("  replica seeded in %.1f s; running %s%n", (System.nanoTime() - ts) / 1e9,
                        c.label());
                try {
                    table.add(c, w.measure(c, site, log));
                } catch (IOException | RuntimeException e) {
                    System.out.println("  " + c.label() + " FAILED: " + e.getMessage());
                    table.add(c, Map.of());
                    table.note(c.label() + ": run failed, no figures: " + e.getMessage().lines().findFirst().orElse(""));
                }
            }
        } finally {
            if (!o.keep()) {
                ExternalCommand.of("rm", "-rf", dir.toString()).timeout(Duration.ofMinutes(10)).run();
            }
        }
        notes(w, table);
        return table;
    }

    private static void notes(Workload w, Table t) {
        if (w instanceof Latency || w instanceof Storm) {
            t.note("rtbackup (rtb up): memory and CPU are of the one JVM holding the Kafka broker, the agent and a "
                    + "worker" + (w.id().equals("latency100") ? "; 'rtbackup (agent process)' is the agent alone, "
                    + "with broker and worker in their own JVMs, as on a fleet host." : "."));
            t.note("CPU includes the rsync processes each tool ran and reaped (cutime/cstime).");
        }
        if (w instanceof Storm) {
            t.note("lsyncd with its default 15 s delay still syncs early in a storm: it starts rsync once its queue "
                    + "holds maxDelays events, whatever the delay.");
            t.note("Scale-out (issue item 6): 'agent process, 2 workers' runs two worker JVMs in one consumer group "
                    + "(plus broker and agent) on this 2-core machine; its memory/CPU columns are the agent's only.");
        }
        if (w instanceof Startup) {
            t.note("rtb up's start includes JVM start and the embedded Kafka broker; 'agent process' is started "
                    + "with its broker and worker already running. lsyncd 'watching' = one inotify watch per "
                    + "directory (counted in /proc/PID/fdinfo).");
        }
    }

    private String report(Options o, String started, double seconds, List<Table> tables, List<Contender> contenders)
            throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("## rtbackup vs lsyncd").append(o.quick() ? " (quick run)" : "").append("\n\n");
        sb.append("Run ").append(started).append(" with `").append(o.command()).append("` in ")
                .append(String.format("%.0f", seconds / 60)).append(" min. Machine: ").append(machine()).append(".\n");
        sb.append("Both push to a real `rsync --daemon` on 127.0.0.1 (testkit's RsyncDaemon); lsyncd in rsync mode "
                + "(`default.rsync`, Debian package, `-nodaemon`, config generated per run); rtbackup with default "
                + "settings. Contenders run one after the other on a replica pre-seeded to equal the source. "
                + "Ratios are rtbackup's figure divided by lsyncd's (below 1 = rtbackup lower). "
                + "Other sessions were using the same 2 cores during the run.\n\n");
        for (Table t : tables) {
            sb.append(t.markdown());
        }
        sb.append(targets(tables));
        return sb.toString();
    }

    private static String machine() throws IOException {
        int cores = Runtime.getRuntime().availableProcessors();
        long memKib = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D+", ""))).findFirst().orElse(0L);
        String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        String rsync = firstLine("rsync", "--version");
        String lsyncd = firstLine("lsyncd", "--version");
        return String.format("%d cores, %.0f GiB RAM, Linux %s, %s, lsyncd %s, Java %s", cores, memKib / 1048576.0,
                kernel, rsync.replaceAll("\\s+protocol.*", ""), lsyncd.replace("Version: ", ""),
                System.getProperty("java.version"));
    }

    private static String firstLine(String... cmd) {
        try {
            return ExternalCommand.of(cmd).run().stdoutText().lines().findFirst().orElse("?").strip();
        } catch (IOException e) {
            return "?";
        }
    }

    /**
     * The footprint targets (issue 18; default settings, ratios to lsyncd with delay = 0), each with its figure, its
     * ratio and met or missed, from the tables of this run.
     */
    private static String targets(List<Table> tables) {
        List<String> lines = new ArrayList<>();
        String own = "  of which the process itself";
        String total = "CPU, % of one core (incl. rsync)";
        String l0 = "lsyncd-delay0";
        find(tables, "latency100").ifPresent(t -> {
            ratio(lines, "agent process at 100 changes/s: CPU of the process itself <= 2x lsyncd's (incl. its rsync)",
                    t.get("rtb-split", own), t.get(l0, total), 2);
            ratio(lines, "(agent process incl. its rsync runs, for comparison)", t.get("rtb-split", total),
                    t.get(l0, total), 2);
            target(lines, "agent process at 100 changes/s: peak RSS <= 48 MiB", t.get("rtb-split", "peak RSS (VmHWM)"),
                    m -> m.value() <= 48, Measure::show);
            target(lines, "rtb up at 100 changes/s: CPU of the process itself <= 25 % of a core", t.get("rtb", own),
                    m -> m.value() <= 25, Measure::show);
            target(lines, "(rtb up incl. its rsync runs, for comparison)", t.get("rtb", total), m -> m.value() <= 25,
                    Measure::show);
            target(lines, "rtb up at 100 changes/s: peak RSS <= 256 MiB", t.get("rtb", "peak RSS (VmHWM)"),
                    m -> m.value() <= 256, Measure::show);
            for (String c : List.of("rtb-split", "rtb")) {
                String who = c.equals("rtb") ? "rtb up" : "agent process";
                ratio(lines, "latency at 100 changes/s, " + who + ": p50 <= 0.4x lsyncd's", t.get(c, "latency p50"),
                        t.get(l0, "latency p50"), 0.4);
                ratio(lines, "latency at 100 changes/s, " + who + ": p99 <= 0.8x lsyncd's", t.get(c, "latency p99"),
                        t.get(l0, "latency p99"), 0.8);
            }
        });
        find(tables, "startup").ifPresent(t -> {
            target(lines, "rtb up: start -> watching <= 2 s", t.get("rtb", "start -> watching"), m -> m.value() <= 2,
                    Measure::show);
            ratio(lines, "agent process: start -> watching <= 0.5 s (" + t.title().replaceAll("^.*start-up: ", "")
                    + "); ratio to lsyncd", t.get("rtb-split", "start -> watching"), t.get("lsyncd", "start -> watching"),
                    Double.NaN);
            target(lines, "agent process: start -> watching <= 0.5 s, independent of tree size",
                    t.get("rtb-split", "start -> watching"), m -> m.value() <= 0.5, Measure::show);
        });
        find(tables, "fanout").ifPresent(t -> ratio(lines,
                "fan-out: the returning destination is equal again no later than with lsyncd",
                t.get("rtb-split", "third destination: back to equal after restart"),
                t.get(l0, "third destination: back to equal after restart"), 1));
        find(tables, "churn").ifPresent(t -> {
            for (String c : List.of("rtb-split", "rtb")) {
                ratio(lines, "churn (" + (c.equals("rtb") ? "rtb up" : "agent process")
                        + "): converged after the churn ends no later than lsyncd",
                        t.get(c, "convergence after the churn ends"), t.get(l0, "convergence after the churn ends"), 1);
            }
        });
        lines.add("| capture >= 200k events/s on one core, 0 lost | not part of this run: `bench/run capture` "
                + "(capture JVM and load generator pinned to a core each; docs/performance.md) | - |");
        StringBuilder sb = new StringBuilder("### Targets (issue 18, default settings; ratios to lsyncd with delay = 0)\n\n"
                + "| target | rtbackup | lsyncd | ratio | |\n|---|---|---|---|---|\n");
        lines.forEach(l -> sb.append(l).append('\n'));
        return sb.append('\n').toString();
    }

    private static Optional<Table> find(List<Table> tables, String workloadId) {
        return tables.stream().filter(t -> t.id().equals(workloadId)).findFirst();
    }

    /** A row comparing {@code ours} with lsyncd's figure: met when the ratio is at most {@code max} (NaN: no bound). */
    private static void ratio(List<String> lines, String name, Optional<Measure> ours, Optional<Measure> theirs,
                              double max) {
        boolean a = ours.filter(Measure::present).isPresent();
        boolean b = theirs.filter(Measure::present).isPresent();
        if (!a || !b) {
            lines.add("| " + name + " | " + (a ? ours.get().show() : "not measured") + " | "
                    + (b ? theirs.get().show() : "not measured") + " | - | " + (Double.isNaN(max) ? "-" : "missed") + " |");
            return;
        }
        double x = ours.get().value() / theirs.get().value();
        lines.add(String.format("| %s | %s | %s | %.2fx | %s |", name, ours.get().show(), theirs.get().show(), x,
                Double.isNaN(max) ? "-" : x <= max ? "met" : "missed"));
    }

    private static void target(List<String> lines, String name, Optional<Measure> m,
                               java.util.function.Predicate<Measure> ok, java.util.function.Function<Measure, String> show) {
        if (m.isEmpty() || !m.get().present()) {
            lines.add("| " + name + " | not measured | | | missed |");
        } else {
            lines.add("| " + name + " | " + show.apply(m.get()) + " | | | " + (ok.test(m.get()) ? "met" : "missed") + " |");
        }
    }
}
