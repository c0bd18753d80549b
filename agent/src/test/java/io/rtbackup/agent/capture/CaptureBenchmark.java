package io.rtbackup.agent.capture;

import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.ChildJvmKafkaBroker;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.fs.ByteFs;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Capture throughput as issue 18 asks for it: the agent's capture pipeline ({@link CaptureBenchAgent}: real
 * fanotify, normaliser, publisher, Kafka producer) in a JVM pinned to one core, a load generator
 * ({@code bench/capture/loadgen.c}) pinned to the other, a real broker in a child JVM of this driver (which runs
 * where this process is allowed to: {@code bench/run capture} starts it on the load generator's core). The tree
 * lies on a filesystem the benchmark mounts for itself (a tmpfs by default), so the filesystem-wide fanotify
 * mark sees only the generator. Prints events/s generated, captured, acknowledged by Kafka, the capture process's
 * CPU per event, and how many of the generator's operations never reached Kafka: every line of its manifest is
 * checked against the events read back from the topic. Not a test; run through {@code bench/run capture}, or
 *
 * <pre>
 * java -cp AGENT_TEST_CLASSPATH io.rtbackup.agent.capture.CaptureBenchmark --loadgen PATH [--files 250000]
 *   [--warmup-files 25000] [--dirs 50] [--rate 0] [--source fanotify] [--capture-cpu 0] [--load-cpu 1]
 *   [--fs tmpfs|ext4|shared] [--jvm-options FILE] [--jvm-opt OPT]... [--set key=value]... [--jfr FILE] [--out FILE]
 * </pre>
 *
 * {@code --source fanotify+none} measures capture and normaliser alone (nothing is published, nothing checked).
 */
public final class CaptureBenchmark {

    static final double TARGET_EVENTS_PER_S = 200_000;

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Path work = Files.createTempDirectory("rtb-capture-bench");
        Path mount = work.resolve("fs");
        Files.createDirectories(mount);
        String fsKind = mountFs(o.fs, work, mount);
        int exit = 1;
        try (ChildJvmKafkaBroker broker = ChildJvmKafkaBroker.start(
                BrokerSettings.onFreePorts(EmbeddedKafkaBroker.tempLogDir()))) {
            String prefix = "capbench-" + UUID.randomUUID().toString().substring(0, 8) + ".";
            Topics topics = Topics.withPrefix(prefix);
            TopicProvisioner.ensure(broker.bootstrapServers(), topics);
            byte[] root = mount.toString().getBytes(StandardCharsets.UTF_8);
            for (String tree : List.of("warm", "run")) {
                byte[] t = BytePaths.join(root, b(tree));
                ByteFs.mkdir(t);
                for (int d = 0; d < o.dirs; d++) ByteFs.mkdir(BytePaths.join(t, b("d" + d)));
            }
            List<String> cmd = new ArrayList<>(List.of("taskset", "-c", o.captureCpu,
                    Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            cmd.addAll(o.jvmOpts);
            cmd.addAll(List.of("-cp", o.classpath, CaptureBenchAgent.class.getName(), mount.toString(),
                    broker.bootstrapServers(), prefix, o.source, o.jfr == null ? "-" : o.jfr.toString()));
            cmd.addAll(o.settings);
            Path captureLog = work.resolve("capture.log");
            Process capture = new ProcessBuilder(cmd).redirectError(captureLog.toFile()).start();
            try {
                Lines lines = new Lines(capture, work.resolve("capture.out"));
                PrintWriter to = new PrintWriter(capture.getOutputStream(), true, StandardCharsets.US_ASCII);
                String ready = lines.await("READY", 120, captureLog);
                String sourceName = ready.substring("READY ".length());
                // warm-up: the same operations on another subtree, outside the measurement
                to.println("MARK");
                lines.await("MARKED", 30, captureLog);
                runLoad(o, o.warmupFiles, mount.resolve("warm"), work.resolve("warm.manifest"));
                to.println("REPORT");
                lines.await("REPORT", 320, captureLog);
                lines.await("failures=", 10, captureLog);

                to.println("MARK");
                lines.await("MARKED", 30, captureLog);
                String load = loadavg();
                Path manifest = work.resolve("run.manifest");
                Map<String, String> gen = runLoad(o, o.files, mount.resolve("run"), manifest);
                to.println("REPORT");
                Map<String, String> rep = kv(lines.await("REPORT", 320, captureLog));
                String failures = lines.await("failures=", 10, captureLog);
                String captureCpus = cpusAllowed(capture.pid());
                String brokerCpus = cpusAllowed(broker.pid());
                to.println("QUIT");
                capture.waitFor(30, TimeUnit.SECONDS);

                if (o.source.endsWith("+none")) {
                    System.out.print(captureOnly(o, gen, rep));
                    exit = 0;
                } else {
                    exit = checkAndReport(o, broker, topics, mount, manifest, fsKind, sourceName, gen, rep,
                            captureCpus, brokerCpus, load, failures);
                }
            } finally {
                capture.destroy();
                if (!capture.waitFor(10, TimeUnit.SECONDS)) capture.destroyForcibly();
            }
        } finally {
            unmount(o.fs, mount);
            keepLogs(work, o.out);
        }
        System.exit(exit);
    }

    /** Reads the topic back, checks the manifest, prints (and appends to --out) the figures; the exit code. */
    private static int checkAndReport(Options o, ChildJvmKafkaBroker broker, Topics topics, Path mount,
            Path manifest, String fsKind, String sourceName, Map<String, String> gen, Map<String, String> rep,
            String captureCpus, String brokerCpus, String load, String failures) throws IOException {
        PublishedEvents published = PublishedEvents.read(broker.bootstrapServers(), topics.events(), "run/",
                Long.parseLong(gen.get("start_ns")));
        ManifestCheck check = ManifestCheck.of(manifest, mount.toString() + "/run/", published);
        String text = new Result(o, fsKind, sourceName, gen, rep, check, published, captureCpus, brokerCpus, load,
                failures).render();
        System.out.print(text);
        if (o.out != null) {
            Files.createDirectories(o.out.toAbsolutePath().getParent());
            Files.writeString(o.out, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        return check.lost() == 0 && failures.equals("failures=0") ? 0 : 1;
    }

    /** The figures of a run without publishing ({@code --source fanotify+none}): capture and normaliser only. */
    private static String captureOnly(Options o, Map<String, String> gen, Map<String, String> rep) {
        double captured = Double.parseDouble(rep.get("captured"));
        double secs = (Long.parseLong(rep.get("last_capture_ns")) - Long.parseLong(gen.get("start_ns"))) / 1e9;
        double cpu = Double.parseDouble(rep.get("user_s")) + Double.parseDouble(rep.get("sys_s"));
        return String.format("%ncapture only (%s, nothing published): generated %s events in %s s; captured %,.0f in"
                + " %.2f s = %,.0f events/s; CPU %s + %s s = %,.0f events per CPU-second; GC %s ms, JIT %s ms;"
                + " threads %s; overflows %s%n", o.source, gen.get("events"), gen.get("seconds"), captured, secs,
                captured / secs, rep.get("user_s"), rep.get("sys_s"), captured / cpu, rep.get("gc_ms"),
                rep.get("jit_ms"), rep.get("threads"), rep.get("overflows"));
    }

    /** Mounts the benchmark's own filesystem at {@code mount}; returns what it is. */
    private static String mountFs(String fs, Path work, Path mount) throws Exception {
        switch (fs) {
            case "tmpfs" -> {
                run(List.of("mount", "-t", "tmpfs", "-o", "size=1g,mode=0755", "rtb-capture-bench",
                        mount.toString()));
                return "tmpfs mounted at " + mount + " for this run";
            }
            case "ext4" -> {
                Path image = work.resolve("fs.img");
                run(List.of("truncate", "-s", "2G", image.toString()));
                run(List.of("mkfs.ext4", "-q", "-F", image.toString()));
                run(List.of("mount", "-o", "loop", image.toString(), mount.toString()));
                return "ext4 on a loop device (" + image + ", 2 GiB sparse) mounted for this run";
            }
            case "shared" -> {
                return "a directory on the shared filesystem of " + mount
                        + " (other processes' changes there reach the filesystem-wide mark too)";
            }
            default -> throw new IllegalArgumentException("--fs " + fs + ": use tmpfs, ext4 or shared");
        }
    }

    private static void unmount(String fs, Path mount) throws Exception {
        if (!fs.equals("shared")) run(List.of("umount", mount.toString()));
    }

    /** The capture process's output next to the results ({@code capture-agent.log}), then the work dir goes. */
    private static void keepLogs(Path work, Path out) throws IOException {
        Path dir = out == null ? Path.of(".") : out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        try (var w = Files.newBufferedWriter(dir.resolve("capture-agent.log"), StandardCharsets.UTF_8)) {
            for (String f : List.of("capture.out", "capture.log")) {
                Path p = work.resolve(f);
                if (Files.exists(p)) w.write(Files.readString(p));
            }
        }
        try (var files = Files.walk(work)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + out.trim()
                    + " (the benchmark mounts its own filesystem: it needs root; --fs shared runs without)");
        }
    }

    /** Runs the load generator to the end, pinned; returns its summary line's key=value pairs. */
    private static Map<String, String> runLoad(Options o, int files, Path tree, Path manifest) throws Exception {
        List<String> cmd = List.of("taskset", "-c", o.loadCpu, o.loadgen.toString(), tree.toString(),
                String.valueOf(files), String.valueOf(o.dirs), String.valueOf(o.rate), manifest.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IOException("load generator failed: " + String.join(" ", cmd) + ": " + out);
        return kv(out.trim());
    }

    static Map<String, String> kv(String line) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : line.trim().split(" ")) {
            int eq = part.indexOf('=');
            if (eq > 0) m.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return m;
    }

    private static String cpusAllowed(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("Cpus_allowed_list:")) return l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (IOException e) {
            return "? (" + e.getMessage() + ")";
        }
        return "?";
    }

    private static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The capture process's stdout, line by line, for {@link #await}. */
    private static final class Lines {
        private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();

        /** @param log gets every line that is not an answer (the agent's own log lines) */
        Lines(Process p, Path log) {
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.US_ASCII));
                     PrintWriter w = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8), true)) {
                    for (String l; (l = r.readLine()) != null; ) {
                        queue.add(l);
                        if (!l.startsWith("READY") && !l.startsWith("MARKED") && !l.startsWith("REPORT")) w.println(l);
                    }
                } catch (IOException ignored) {
                    // the process ended; await() reports it
                }
                queue.add("\0EOF");
            }, "capture-stdout");
            t.setDaemon(true);
            t.start();
        }

        String await(String prefix, int seconds, Path log) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                String l = queue.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (l == null || l.equals("\0EOF")) {
                    String tail = Files.exists(log) ? Files.readString(log) : "";
                    throw new IOException("capture process: no '" + prefix + "' line within " + seconds + " s"
                            + (l == null ? "" : " (it exited)") + "; its stderr ends: "
                            + tail.substring(Math.max(0, tail.length() - 4000)));
                }
                if (l.startsWith(prefix)) return l;
            }
        }
    }

    /** The command line. */
    static final class Options {
        int files = 250_000;
        int warmupFiles = 25_000;
        int dirs = 50;
        double rate = 0;
        String source = "fanotify";
        String captureCpu = "0";
        String loadCpu = "1";
        String fs = "tmpfs";
        Path loadgen;
        String classpath = System.getProperty("java.class.path");
        List<String> jvmOpts = new ArrayList<>();
        List<String> settings = new ArrayList<>();
        Path jfr;
        Path out;
        String command = "CaptureBenchmark";

        static Options parse(String[] args) throws IOException {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                if (v == null) throw new IllegalArgumentException(a + " needs a value");
                i++;
                switch (a) {
                    case "--files" -> o.files = Integer.parseInt(v);
                    case "--warmup-files" -> o.warmupFiles = Integer.parseInt(v);
                    case "--dirs" -> o.dirs = Integer.parseInt(v);
                    case "--rate" -> o.rate = Double.parseDouble(v);
                    case "--source" -> o.source = v;
                    case "--capture-cpu" -> o.captureCpu = v;
                    case "--load-cpu" -> o.loadCpu = v;
                    case "--fs" -> o.fs = v;
                    case "--loadgen" -> o.loadgen = Path.of(v);
                    case "--classpath" -> o.classpath = v;
                    case "--jvm-options" -> {
                        for (String l : Files.readAllLines(Path.of(v))) {
                            if (!l.isBlank() && !l.startsWith("#")) o.jvmOpts.add(l.trim());
                        }
                    }
                    case "--jvm-opt" -> o.jvmOpts.add(v);
                    case "--set" -> o.settings.add(v);
                    case "--jfr" -> o.jfr = Path.of(v).toAbsolutePath();
                    case "--out" -> o.out = Path.of(v);
                    case "--command" -> o.command = v;
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (o.loadgen == null) throw new IllegalArgumentException("--loadgen PATH (bench/capture/loadgen.c built)");
            return o;
        }
    }

    /** The figures of one run, as text (Markdown). */
    private record Result(Options o, String fsKind, String source, Map<String, String> gen, Map<String, String> rep,
            ManifestCheck check, PublishedEvents published, String captureCpus, String brokerCpus, String load,
            String failures) {

        String render() {
            long start = Long.parseLong(gen.get("start_ns"));
            double genS = Double.parseDouble(gen.get("seconds"));
            long genEvents = Long.parseLong(gen.get("events"));
            double captured = Double.parseDouble(rep.get("captured"));
            long acked = Long.parseLong(rep.get("acked"));
            double capS = (Long.parseLong(rep.get("last_capture_ns")) - start) / 1e9;
            double ackS = (Long.parseLong(rep.get("last_ack_ns")) - start) / 1e9;
            double cpuS = Double.parseDouble(rep.get("user_s")) + Double.parseDouble(rep.get("sys_s"));
            double capRate = captured / capS;
            double perCpu = captured / cpuS;
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("%n### Capture throughput (%s UTC): `%s`%n%n", Instant.now().toString()
                    .replace('T', ' ').substring(0, 16), o.command));
            sb.append(String.format("- capture: %s source, agent JVM `taskset -c %s` (allowed CPUs %s), options %s%n",
                    source, o.captureCpu, captureCpus, String.join(" ", o.jvmOpts)));
            sb.append(String.format("- load: `taskset -c %s` loadgen, %,d files x (write new, append, rename, delete)"
                    + " over %d directories, %s, after a %,d-file warm-up%n", o.loadCpu, o.files, o.dirs,
                    o.rate > 0 ? String.format("paced at %,.0f events/s", o.rate) : "unpaced", o.warmupFiles));
            sb.append(String.format("- broker: child JVM of the driver, allowed CPUs %s; tree on %s%n", brokerCpus,
                    fsKind));
            sb.append(String.format("- machine load average at the start: %s (the 2 cores are shared with other"
                    + " sessions: a pinned process still shares its core)%n%n", load));
            sb.append("| figure | value |\n|---|---:|\n");
            sb.append(String.format("| events generated | %,d in %.2f s = %,.0f events/s |%n", genEvents, genS,
                    genEvents / genS));
            sb.append(String.format("| events captured | %,.0f in %.2f s = **%,.0f events/s** |%n", captured, capS,
                    capRate));
            sb.append(String.format("| events acknowledged by Kafka | %,d in %.2f s = %,.0f events/s (%s MODIFY"
                    + " merged away) |%n", acked, ackS, acked / ackS, rep.get("merged")));
            sb.append(String.format("| capture process CPU (user + sys) | %.2f s (%s + %s): %,.0f captured events per"
                    + " CPU-second; %.0f %% of its core over the capture window |%n", cpuS, rep.get("user_s"),
                    rep.get("sys_s"), perCpu, 100 * cpuS / capS));
            sb.append(String.format("| generator operations not found in Kafka (lost) | **%,d** of %,d (%s) |%n",
                    check.lost(), check.operations(), check.firstMissing().isEmpty() ? "none"
                            : "e.g. " + String.join("; ", check.firstMissing())));
            sb.append(String.format("| overflows / dropped to rescan / RESCAN records | %s / %s / %d |%n",
                    rep.get("overflows"), rep.get("dropped_to_rescan"), published.rescans()));
            sb.append(String.format("| capture -> ack latency p50 / p99 / max | %s / %s / %s ms |%n",
                    rep.get("lat_p50_ms"), rep.get("lat_p99_ms"), rep.get("lat_max_ms")));
            sb.append(String.format("| capture process peak RSS | %s MiB (max heap %s MiB) |%n", rep.get("rss_peak_mib"),
                    rep.get("heap_max_mib")));
            sb.append(String.format("| capture process GC / JIT | %s ms in %s collections / %s ms compiling |%n",
                    rep.get("gc_ms"), rep.get("gc_count"), rep.get("jit_ms")));
            sb.append(String.format("| CPU by thread (s) | %s |%n", rep.get("threads")));
            boolean met = capRate >= TARGET_EVENTS_PER_S && check.lost() == 0;
            boolean cpuMet = perCpu >= TARGET_EVENTS_PER_S;
            sb.append(String.format("%nTarget (issue 18): >= %,.0f events/s captured on one core, 0 lost: %s"
                    + " (wall clock %,.0f events/s, %s; per CPU-second of the capture process %,.0f, %s)."
                    + " Capture process: %s.%n", TARGET_EVENTS_PER_S, met ? "**met**" : "**missed**", capRate,
                    capRate >= TARGET_EVENTS_PER_S ? "met" : String.format("%.2fx of the target", capRate
                            / TARGET_EVENTS_PER_S), perCpu, cpuMet ? "met" : String.format("%.2fx", perCpu
                            / TARGET_EVENTS_PER_S), failures));
            return sb.toString();
        }
    }
}
