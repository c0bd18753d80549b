package io.rtbackup.kmod;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.kmod.KmodOp;
import io.rtbackup.agent.capture.kmod.KmodRecord;
import io.rtbackup.agent.capture.kmod.KmodRecordDecoder;
import io.rtbackup.testkit.TreeDiff;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Builds rtbackup.ko for one kernel of kmod/test/kernel-abi, boots that Debian 12 kernel under qemu with it
 * (kmod/test/run-qemu-test.sh runs the guest script kmod/test/guest-init.sh), then decodes the raw records the
 * guest saved with the agent's decoder and checks them against the operations the guest performed. In the same
 * boot the agent ({@code rtb agent}, capture.source=kmod) runs in the guest against a broker, a worker and an
 * rsync daemon of this JVM ({@link GuestHost}), and the replica must equal the guest's tree, also after a burst
 * that overflows the module's ring. One subclass per kernel.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class KmodQemuTest {
    private static final String ROOT = "/w/root/";
    private static final byte[] NEWLINE = bytes("new\nline");
    private static final byte[] HIGH = concat(bytes("high"), new byte[] {(byte) 0x80, (byte) 0x81, (byte) 0xfe, (byte) 0xff});
    private static final byte[] LONG = bytes("0".repeat(254) + "7");
    private static final Pattern BAD_KERNEL_LOG = Pattern.compile(
            "Oops|WARNING:|\\bBUG:|kernel BUG|Call Trace|general protection|KASAN|UBSAN|sleeping function called|lockdep");

    private Path guest;
    private String guestLog;
    private GuestHost host;
    private final KmodRecordDecoder decoder = new KmodRecordDecoder();

    /** The kernel series this class boots ("6.1.", "6.12."): the line of kmod/test/kernel-abi starting with it. */
    abstract String kernelSeries();

    @BeforeAll
    void runGuest() throws Exception {
        Path kmod = Path.of(System.getProperty("rtb.kmod.dir", ".")).toAbsolutePath();
        String abi = Files.readAllLines(kmod.resolve("test/kernel-abi")).stream().map(String::trim)
                .filter(l -> l.startsWith(kernelSeries())).findFirst()
                .orElseThrow(() -> new AssertionError("kmod/test/kernel-abi lists no " + kernelSeries() + " kernel"));
        Path out = kmod.resolve("target/qemu-" + abi);
        guest = out.resolve("guest");
        Path e2e = guest.resolve("e2e");
        if (Files.exists(e2e)) {
            try (Stream<Path> old = Files.walk(e2e)) {
                old.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        host = GuestHost.start();
        host.prepare(e2e);
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ProcessBuilder pb = new ProcessBuilder("bash", kmod.resolve("test/run-qemu-test.sh").toString(),
                out.toString(), java, System.getProperty("java.class.path"))
                .redirectErrorStream(true)
                .redirectOutput(out.resolve("run.log").toFile());
        pb.environment().put("RTB_KERNEL_ABI", abi);
        pb.environment().put("RTB_E2E_DEST", host.destination().toString());
        long started = System.nanoTime();
        Process p = pb.start();
        long limit = TimeUnit.SECONDS.toNanos(1100);
        host.answerCheckpoints(e2e, () -> p.isAlive() && System.nanoTime() - started < limit);
        boolean finished = p.waitFor(Math.max(1, limit - (System.nanoTime() - started)), TimeUnit.NANOSECONDS);
        if (!finished) p.destroyForcibly();
        String runLog = Files.readString(out.resolve("run.log"), StandardCharsets.ISO_8859_1);
        System.out.println(runLog);
        System.out.printf("kmod qemu run on %s took %d s%n", abi, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
        Path log = guest.resolve("guest.log");
        guestLog = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
        // printed whatever happened: one line per kernel in the surefire output
        System.out.println(e2eSummary(abi));
        System.out.println(pauseSummary(abi));
        assertThat(finished).as("run-qemu-test.sh finished in time").isTrue();
        assertThat(p.exitValue()).as("run-qemu-test.sh exit status; its log:\n%s", runLog).isZero();
    }

    @AfterAll
    void stopHost() throws IOException {
        if (host != null) host.close();
    }

    /** {@code kmod e2e: kernel <uname -r> converged=yes|no latency_p50_ms=N}. */
    private String e2eSummary(String abi) throws IOException {
        Matcher k = Pattern.compile("(?m)^kernel (\\S+)$").matcher(guestLog);
        String kernel = k.find() ? k.group(1) : abi + " (did not boot)";
        boolean converged = converged("cp1") && converged("cp2");
        List<Long> latencies = latencies();
        String p50 = latencies.isEmpty() ? "none" : String.valueOf(latencies.get(latencies.size() / 2));
        return "kmod e2e: kernel " + kernel + " converged=" + (converged ? "yes" : "no") + " latency_p50_ms=" + p50;
    }

    /** {@code kmod e2e: kernel <uname -r> pause: disabled=yes|no caught_up=yes|no}. */
    private String pauseSummary(String abi) {
        boolean disabled = pausedStatus("paused status: ").map(ModuleStatus::off).orElse(false)
                && pausedStatus("paused status after the changes: ").map(ModuleStatus::off).orElse(false)
                && host.whilePaused().map(TreeDiff.Result::isEqual).orElse(false);
        boolean caughtUp = host.switched("resume").map(s -> !s.getPaused()).orElse(false) && converged("cp3");
        return "kmod e2e: kernel " + kernel(abi) + " pause: disabled=" + (disabled ? "yes" : "no") + " caught_up="
                + (caughtUp ? "yes" : "no");
    }

    /** The module's status file as the guest printed it after {@code label}. */
    private Optional<ModuleStatus> pausedStatus(String label) {
        return guestLog.lines().filter(l -> l.startsWith(label)).findFirst()
                .map(l -> ModuleStatus.parse(l.substring(label.length())));
    }

    private boolean converged(String checkpoint) {
        TreeDiff.Result r = host.verdict(checkpoint);
        return r != null && r.isEqual();
    }

    /** The guest's change -> replica probes, sorted. */
    private List<Long> latencies() throws IOException {
        Path file = guest.resolve("e2e/latency.txt");
        if (!Files.exists(file)) return List.of();
        Matcher m = Pattern.compile("LATENCY probe=\\d+ ms=(\\d+)").matcher(Files.readString(file));
        List<Long> ms = new ArrayList<>();
        while (m.find()) ms.add(Long.parseLong(m.group(1)));
        ms.sort(null);
        return ms;
    }

    @Test
    void theAgentOnTheModuleReplicatesTheGuestsWorkloadByteForByte() throws IOException {
        String agentLog = Files.readString(guest.resolve("e2e/agent.log"), StandardCharsets.ISO_8859_1);
        assertThat(agentLog).as("agent log").contains("capture source kmod started").contains("agent up");
        if (guestLog.contains("GUEST: the agent ended during start-up")) {
            System.out.println("kmod e2e: the agent needed a second start in the guest (see e2e/agent.log)");
        }
        TreeDiff.Result r = host.verdict("cp1");
        assertThat(r).as("the guest reached its first checkpoint; guest log:\n%s", guestLog).isNotNull();
        assertThat(r.isEqual()).as("replica equals the guest's tree: %s", r.describe()).isTrue();
        assertThat(latencies()).as("every change -> replica probe arrived").hasSize(10);
        host.assertWorkerHealthy();
    }

    @Test
    void aBurstThatOverflowsTheRingBecomesARescanAndTheReplicaConverges() throws IOException {
        String agentLog = Files.readString(guest.resolve("e2e/agent.log"), StandardCharsets.ISO_8859_1);
        assertThat(agentLog).as("the module reported lost events and the agent rescanned")
                .containsPattern("the module lost \\d+ event\\(s\\) \\(ring full\\); rescanning");
        TreeDiff.Result r = host.verdict("cp2");
        assertThat(r).as("the guest reached its second checkpoint; guest log:\n%s", guestLog).isNotNull();
        assertThat(r.isEqual()).as("replica equals the guest's tree after the burst: %s", r.describe()).isTrue();
        // SIGTERM ends the agent through its shutdown hook, whose KmodSource.close() switches the module off
        assertThat(guestLog).contains("agent exit 143");
        assertThat(agentLog).contains("kmod capture stopped; module hook removed");
        assertThat(guestLog.lines().filter(l -> l.startsWith("after the agent: delivered=")).findFirst())
                .hasValueSatisfying(l -> assertThat(l).contains("enabled=0").contains("roots=0").contains("marks=0"));
    }

    @Test
    void pausingTheRootSwitchesTheModuleOffAndTheResumeCatchesUpWhatChangedMeanwhile() {
        assertThat(host.switched("pause")).as("the agent applied the pause; guest log:\n%s", guestLog)
                .hasValueSatisfying(s -> assertThat(s.getPaused()).isTrue());
        ModuleStatus paused = pausedStatus("paused status: ").orElseThrow(() -> new AssertionError(guestLog));
        ModuleStatus after = pausedStatus("paused status after the changes: ").orElseThrow(() -> new AssertionError(guestLog));
        assertThat(paused.off()).as("module off with no root and no mark once paused: %s", paused).isTrue();
        assertThat(after.off()).as("and still after the changes: %s", after).isTrue();
        // not one record queued for the reader while paused: nothing could be read from /dev/rtbackup
        assertThat(after.delivered()).as("records queued while paused").isEqualTo(paused.delivered());
        assertThat(host.whilePaused()).as("the host compared the replica while paused")
                .hasValueSatisfying(r -> assertThat(r.isEqual()).as("changes made while paused stayed off the replica: %s",
                        r.describe()).isTrue());

        assertThat(host.switched("resume")).as("the agent applied the resume").hasValueSatisfying(s -> {
            assertThat(s.getPaused()).isFalse();
            assertThat(s.getNote()).as("the resume reconciled the root").startsWith("resumed: caught up");
            // four paths changed while paused: the resume's reconciliation is what brings them, and says so
            java.util.regex.Matcher n = java.util.regex.Pattern.compile("caught up (\\d+) changed").matcher(s.getNote());
            assertThat(n.find()).as("a count in %s", s.getNote()).isTrue();
            assertThat(Integer.parseInt(n.group(1))).as("paths the resume caught up: %s", s.getNote())
                .isGreaterThanOrEqualTo(3);
        });
        ModuleStatus resumed = pausedStatus("resumed status: ").orElseThrow(() -> new AssertionError(guestLog));
        assertThat(resumed).as("capture on again for the root").extracting(ModuleStatus::enabled, ModuleStatus::roots)
                .containsExactly(1, 1);
        assertThat(resumed.marks()).isEqualTo(1);
        TreeDiff.Result r = host.verdict("cp3");
        assertThat(r).as("the guest reached its third checkpoint; guest log:\n%s", guestLog).isNotNull();
        assertThat(r.isEqual()).as("replica caught up with what changed while paused: %s", r.describe()).isTrue();
    }

    @Test
    void guestScriptRanEveryStepAndSecondReaderGotEbusy() {
        assertThat(guestLog).doesNotContain("GUEST-FAIL").contains("GUEST-DONE").contains("second open: EBUSY");
    }

    @Test
    void kernelLoggedNoOopsWarningOrBug() throws IOException {
        String dmesg = Files.readString(guest.resolve("dmesg.txt"), StandardCharsets.ISO_8859_1);
        List<String> bad = dmesg.lines().filter(l -> BAD_KERNEL_LOG.matcher(l).find()).collect(Collectors.toList());
        assertThat(bad).as("suspicious kernel log lines").isEmpty();
        assertThat(dmesg).contains("rtbackup: loaded").contains("rtbackup: unloaded");
        // three load/unload cycles around the overhead runs, the main run, the overflow run, the agent's run
        assertThat(dmesg.split("rtbackup: loaded", -1)).as("loads").hasSize(7);
        assertThat(dmesg.split("rtbackup: unloaded", -1)).as("clean rmmods").hasSize(7);
    }

    @Test
    void everyScriptedOperationIsReportedInOrderWithExactNameBytes() throws IOException {
        List<KmodRecord> records = decode("phaseA.bin");
        List<Expected> expected = List.of(
                ev(KmodOp.CREATE, "plain.txt"), ev(KmodOp.CLOSE_WRITE, "plain.txt"),
                ev(KmodOp.MKDIR, "dir").dir(),
                ev(KmodOp.CREATE, "dir/with space"), ev(KmodOp.CLOSE_WRITE, "dir/with space"),
                ev(KmodOp.CREATE, NEWLINE), ev(KmodOp.CLOSE_WRITE, NEWLINE),
                ev(KmodOp.CREATE, "-dash"), ev(KmodOp.CLOSE_WRITE, "-dash"),
                ev(KmodOp.CREATE, HIGH), ev(KmodOp.CLOSE_WRITE, HIGH),
                ev(KmodOp.CREATE, LONG), ev(KmodOp.CLOSE_WRITE, LONG),
                rename(under("plain.txt"), under("dir/renamed.txt")),
                rename(under("-dash"), bytes("/w/other/-dash")),
                rename(bytes("/w/other/incoming"), under("incoming")),
                ev(KmodOp.LINK, "hardlink"), ev(KmodOp.SYMLINK, "symlink"),
                ev(KmodOp.ATTRIB, "hardlink"),            // chmod
                ev(KmodOp.ATTRIB, HIGH),                  // truncate
                ev(KmodOp.ATTRIB, "hardlink"),            // setxattr
                ev(KmodOp.DELETE, "symlink"),
                ev(KmodOp.MKDIR, "gone").dir(), ev(KmodOp.RMDIR, "gone").dir(),
                ev(KmodOp.CREATE, "slow"), ev(KmodOp.MODIFY, "slow"), ev(KmodOp.CLOSE_WRITE, "slow"));

        int at = 0;
        for (Expected e : expected) {
            while (at < records.size() && !e.matches(records.get(at))) at++;
            assertThat(at).as("expected %s in order; got:\n%s", e, render(records)).isLessThan(records.size());
            at++;
        }
        for (KmodRecord r : records) {
            boolean inRoot = startsWith(r.path(), bytes(ROOT)) || startsWith(r.path2(), bytes(ROOT));
            assertThat(inRoot).as("record outside the root: %s", r).isTrue();
        }
        assertThat(render(records)).doesNotContain("outside").doesNotContain("elsewhere");
        assertThat(records.stream().filter(r -> r.op() == KmodOp.MODIFY && !Arrays.equals(r.path(), under("slow"))))
                .as("MODIFY only for a file kept open past the interval").isEmpty();
        // the capture API sees renames with both names
        assertThat(records.stream().map(KmodRecordDecoder::toRawChange).filter(c -> c instanceof RawChange.Rename))
                .hasSize(3);
    }

    @Test
    void switchOffReportsNothingAndRemovesTheMarksSwitchOnReportsAgain() throws IOException {
        assertThat(decode("phaseB.bin")).isEmpty();
        String afterDisable = guestLog.substring(guestLog.indexOf("STEP phaseB"));
        assertThat(afterDisable.lines().filter(l -> l.startsWith("delivered=")).findFirst().orElseThrow())
                .contains("enabled=0").contains("marks=0");

        List<KmodRecord> on = decode("phaseC.bin");
        assertThat(on).extracting(KmodRecord::op).containsExactly(KmodOp.CREATE, KmodOp.CLOSE_WRITE);
        assertThat(on.get(0).path()).isEqualTo(under("back-on"));
        assertThat(on.get(0).seq()).isGreaterThan(decode("phaseA.bin").get(decode("phaseA.bin").size() - 1).seq());
    }

    @Test
    void opMaskLimitsWhatIsReported() throws IOException {
        List<KmodRecord> records = decode("mask.bin");
        assertThat(records.stream().map(r -> r.op() + " " + new String(r.path(), StandardCharsets.ISO_8859_1)))
                .containsExactly("CREATE /w/root/masked-create");
    }

    @Test
    void writersRacingTheReaderOnATinyRingLoseNothingUncounted() throws IOException {
        List<KmodRecord> records = decode("concurrent.bin");
        long delivered = records.stream().filter(r -> r.op() != KmodOp.OVERFLOW).count();
        long dropped = records.stream().filter(r -> r.op() == KmodOp.OVERFLOW).mapToLong(KmodRecord::dropped).sum();
        // 2 writers x 300 files x (CREATE, CLOSE_WRITE, DELETE); the mask leaves MODIFY out
        assertThat(delivered + dropped).as("delivered %d + dropped %d", delivered, dropped).isEqualTo(1800);
        assertThat(dropped).as("the tiny ring overflowed while the reader raced the writers").isPositive();
        for (int i = 1; i < records.size(); i++) {
            assertThat(records.get(i).seq()).isEqualTo(records.get(i - 1).seq() + 1);
        }
        for (KmodRecord r : records) {
            if (r.op() == KmodOp.OVERFLOW) continue;
            assertThat(new String(r.path(), StandardCharsets.ISO_8859_1)).matches("/w/root/c[12]/bench-\\d+");
        }
        System.out.printf("concurrent tiny-ring run: %d delivered, %d dropped in %d overflow record(s)%n", delivered,
                dropped, records.stream().filter(r -> r.op() == KmodOp.OVERFLOW).count());
    }

    @Test
    void watchedFileSystemCanBeUnmountedAndCaptureGoesOn() throws IOException {
        List<KmodRecord> records = decode("umount.bin");
        assertThat(records.stream().map(r -> r.op() + " " + new String(r.path(), StandardCharsets.ISO_8859_1)))
                .containsExactly("CREATE /u/r/on-u", "CLOSE_WRITE /u/r/on-u",
                        "CREATE /w/root/after-umount", "CLOSE_WRITE /w/root/after-umount",
                        "CREATE /w/root/after-reenable", "CLOSE_WRITE /w/root/after-reenable");
    }

    @Test
    void fullRingYieldsOneOverflowRecordWithTheDroppedCountThenNormalRecords() throws IOException {
        List<KmodRecord> burst = decode("overflow1.bin");
        List<KmodRecord> overflows = burst.stream().filter(r -> r.op() == KmodOp.OVERFLOW).collect(Collectors.toList());
        assertThat(overflows).as("one overflow record in\n%s", render(burst)).hasSize(1);
        KmodRecord overflow = overflows.get(0);
        assertThat(overflow.dropped()).isPositive();
        long delivered = burst.size() - 1;
        // mkdir burst + 150 x (CREATE, CLOSE_WRITE): every event is either delivered or counted
        assertThat(delivered + overflow.dropped()).isEqualTo(1 + 150 * 2);
        assertThat(KmodRecordDecoder.toRawChange(overflow)).isInstanceOf(RawChange.Overflow.class);

        List<KmodRecord> after = decode("overflow2.bin");
        assertThat(after).extracting(KmodRecord::op).containsExactly(KmodOp.CREATE, KmodOp.CLOSE_WRITE);
        assertThat(after.get(0).path()).isEqualTo(under("after-overflow"));
        assertThat(after.get(0).seq()).isGreaterThan(overflow.seq());
    }

    @Test
    void theAgentsKmodSourceRanInsideTheGuest() throws IOException {
        Path dump = guest.resolve("java-dump.txt");
        assertThat(dump).exists();
        String text = Files.readString(dump, StandardCharsets.ISO_8859_1);
        // the agent ran chrooted with the watched tree bind-mounted at /mnt: paths are in its view
        assertThat(text.lines()).as(text).containsSubsequence(
                "READY",
                "CREATE /mnt/from-java",
                "CLOSE_WRITE /mnt/from-java",
                "RENAME /mnt/from-java -> /mnt/java high\\x80\\x81\\xfe\\xff",
                "MKDIR dir /mnt/java-dir",
                "END events=4");
        assertThat(guestLog).contains("java exit 0");
    }

    @Test
    void overheadFigure() {
        Matcher m = Pattern.compile("BENCH (\\w+) files=(\\d+) total_ms=[\\d.]+ per_file_us=([\\d.]+)").matcher(guestLog);
        java.util.Map<String, List<Double>> runs = new java.util.TreeMap<>();
        String files = "?";
        while (m.find()) {
            files = m.group(2);
            runs.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(Double.parseDouble(m.group(3)));
        }
        assertThat(runs).containsKeys("unloaded", "fanotify", "enabled", "masked");
        double base = best(runs.get("unloaded"));
        StringBuilder sb = new StringBuilder("kmod overhead (kernel " + kernel() + ", qemu TCG, tmpfs, " + files
                + " creates+4KiB writes per run, variants alternating in one boot, best run):");
        for (String variant : List.of("unloaded", "fanotify", "masked", "enabled")) {
            double v = best(runs.get(variant));
            sb.append(String.format(" %s %.1f us/file (%+.0f%%);", variant, v, (v / base - 1) * 100));
        }
        System.out.println(sb.append(" all runs: ").append(runs));
    }

    private String kernel() {
        return kernel("?");
    }

    private String kernel(String otherwise) {
        Matcher k = Pattern.compile("(?m)^kernel (\\S+)$").matcher(guestLog);
        return k.find() ? k.group(1) : otherwise;
    }

    private static double best(List<Double> runs) {
        return runs.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    // ---- helpers ----

    private List<KmodRecord> decode(String file) throws IOException {
        return decoder.decode(Files.readAllBytes(guest.resolve(file)));
    }

    private static String render(List<KmodRecord> records) {
        return records.stream().map(KmodRecord::toString).collect(Collectors.joining("\n"));
    }

    private record Expected(KmodOp op, byte[] path, byte[] path2, boolean directory) {
        Expected dir() {
            return new Expected(op, path, path2, true);
        }

        boolean matches(KmodRecord r) {
            return r.op() == op && Arrays.equals(r.path(), path) && Arrays.equals(r.path2(), path2)
                    && r.directory() == directory;
        }

        @Override
        public String toString() {
            return op + " " + new String(path, StandardCharsets.ISO_8859_1).replace("\n", "\\n")
                    + (path2.length > 0 ? " -> " + new String(path2, StandardCharsets.ISO_8859_1) : "");
        }
    }

    private static Expected ev(KmodOp op, String name) {
        return ev(op, bytes(name));
    }

    private static Expected ev(KmodOp op, byte[] name) {
        return new Expected(op, under(name), new byte[0], false);
    }

    private static Expected rename(byte[] from, byte[] to) {
        return new Expected(KmodOp.RENAME, from, to, false);
    }

    private static byte[] under(String name) {
        return under(bytes(name));
    }

    private static byte[] under(byte[] name) {
        return concat(bytes(ROOT), name);
    }

    private static boolean startsWith(byte[] a, byte[] prefix) {
        return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
