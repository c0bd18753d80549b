package io.rtbackup.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.agent.exec.CommandValidator;
import io.rtbackup.agent.exec.RsyncRunner;
import io.rtbackup.agent.exec.RsyncRunner.ReplicatedTree;
import io.rtbackup.fs.BytePaths;
import io.rtbackup.schema.Reconciliations;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.testkit.RsyncDaemon;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real rsync into a local directory and into a real rsync daemon: what capture and delivery missed (a file written
 * while nobody captured it, a file changed and one added on the replica by hand) is repaired by one
 * reconciliation, counted, reported as a {@code reconcile:} result and in the metrics.
 */
class ReconcilerTest {
    private static final String HOST = "host-a";
    private static final String ROOT = "data";
    private static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());
    private static final Instant NOW = Instant.parse("2026-12-07T03:00:00Z");

    @TempDir
    static Path shared;
    private static RsyncDaemon daemon;
    private static Path moduleDir;

    @TempDir
    Path tmp;
    private Path src;
    private String prefix;
    private RsyncRunner runner;
    private Reconciler reconciler;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final List<SyncResult> published = new ArrayList<>();

    @BeforeAll
    static void startDaemon() throws Exception {
        moduleDir = Files.createDirectories(shared.resolve("module"));
        daemon = RsyncDaemon.builder(BytePaths.utf8(Files.createDirectories(shared.resolve("daemon")).toString()))
            .auth("rtb", PASSWORD).module("backup", BytePaths.utf8(moduleDir.toString())).start();
    }

    @AfterAll
    static void stopDaemon() throws Exception {
        if (daemon != null) daemon.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        src = Files.createDirectories(tmp.resolve("src"));
        prefix = "t" + Long.toHexString(System.nanoTime());
        Properties p = new Properties();
        p.setProperty("destination.local.url", tmp.resolve("dst").toString());
        p.setProperty("destination.remote.url", daemon.url("backup") + "/" + prefix);
        ExecConfig config = ExecConfig.from(p, Map.of("RSYNC_PASSWORD_REMOTE", PASSWORD));
        runner = new RsyncRunner(config.rsyncPath());
        CommandValidator validator = new CommandValidator(HOST,
            Map.of(ROOT, BytePaths.utf8(src.toString())), config.destinations());
        reconciler = new Reconciler(HOST, validator, runner, new ReconcileMetrics(registry), published::add,
            Clock.fixed(NOW, ZoneOffset.UTC));
    }

    @AfterEach
    void tearDown() {
        runner.close();
    }

    private Path replica(String dest) {
        return dest.equals("local") ? tmp.resolve("dst").resolve(HOST).resolve(ROOT)
            : moduleDir.resolve(prefix).resolve(HOST).resolve(ROOT);
    }

    private static void write(Path p, String content) throws Exception {
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void whatCaptureAndDeliveryMissedIsRepairedCountedReportedAndInTheMetrics(String dest) throws Exception {
        write(src.resolve("docs/a.txt"), "alpha");
        write(src.resolve("docs/b.txt"), "bravo");
        write(src.resolve("c.txt"), "charlie");
        ReplicatedTree tree = new ReplicatedTree(ROOT, dest, HOST + "/" + ROOT);
        Reconciliation first = reconciler.reconcile(tree);
        assertThat(first.outcome()).as(first.describe()).isEqualTo(SyncOutcome.OK);
        Reconciliation inSync = reconciler.reconcile(tree);
        assertThat(inSync.differences()).as(inSync.describe()).isZero();

        Path replica = replica(dest);
        // changed on the destination by hand (different size and time), added on the destination by hand, and
        // written on the source while capture was not running (nothing but a reconciliation would send it)
        write(replica.resolve("docs/a.txt"), "tampered with");
        write(replica.resolve("docs/stray.txt"), "not on the source");
        write(src.resolve("docs/new.txt"), "missed by capture");

        Reconciliation repaired = reconciler.reconcile(tree);

        assertThat(repaired.outcome()).as(repaired.describe()).isEqualTo(SyncOutcome.OK);
        assertThat(repaired.differences()).as(repaired.describe()).isEqualTo(3);
        assertThat(Files.readString(replica.resolve("docs/a.txt"))).isEqualTo("alpha");
        assertThat(Files.readString(replica.resolve("docs/new.txt"))).isEqualTo("missed by capture");
        assertThat(replica.resolve("docs/stray.txt")).doesNotExist();
        assertThat(reconciler.reconcile(tree).differences()).isZero();

        SyncResult reported = published.get(2);
        assertThat(Reconciliations.isReconciliation(reported)).isTrue();
        assertThat(reported.getCommandId()).isEqualTo(Reconciliations.commandId(repaired.runId()));
        assertThat(reported.getReplyTo()).as("no worker takes it for an answer").isEmpty();
        assertThat(Reconciliations.differences(reported)).contains(3L);
        assertThat(reported.getHostId()).isEqualTo(HOST);
        assertThat(reported.getRootId()).isEqualTo(ROOT);
        assertThat(reported.getDestination()).isEqualTo(dest);
        assertThat(reported.getOutcome()).isEqualTo(SyncOutcome.OK);
        assertThat(published).hasSize(4);

        Labels labels = Labels.of("destination", dest, "root", ROOT);
        // all four runs: the first copied the 3 files, the third repaired 3 entries
        assertThat(counter("rtb_agent_reconcile_differences", labels)).isEqualTo(6.0);
        assertThat(gauge("rtb_agent_reconcile_last_success_seconds", labels)).isEqualTo(NOW.getEpochSecond());
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "remote"})
    void aDirectoryWhoseOnlyDifferenceIsItsTimeIsRepairedButNotCounted(String dest) throws Exception {
        write(src.resolve("dir/f"), "x");
        ReplicatedTree tree = new ReplicatedTree(ROOT, dest, HOST + "/" + ROOT);
        assertThat(reconciler.reconcile(tree).ok()).isTrue();
        FileTime srcTime = Files.getLastModifiedTime(src.resolve("dir"));
        Files.setLastModifiedTime(replica(dest).resolve("dir"), FileTime.from(Instant.parse("2001-01-01T00:00:00Z")));

        Reconciliation r = reconciler.reconcile(tree);

        assertThat(r.ok()).as(r.describe()).isTrue();
        assertThat(r.differences()).isZero();
        assertThat(Files.getLastModifiedTime(replica(dest).resolve("dir"))).isEqualTo(srcTime);
    }

    @ParameterizedTest
    @ValueSource(strings = {"local"})
    void aMissingRootFailsWithoutTouchingTheReplica(String dest) throws Exception {
        write(src.resolve("keep"), "k");
        ReplicatedTree tree = new ReplicatedTree(ROOT, dest, HOST + "/" + ROOT);
        assertThat(reconciler.reconcile(tree).ok()).isTrue();
        Files.delete(src.resolve("keep"));
        Files.delete(src);

        Reconciliation r = reconciler.reconcile(tree);

        assertThat(r.outcome()).isEqualTo(SyncOutcome.FAILED);
        assertThat(r.error()).hasValueSatisfying(e -> assertThat(e).contains("does not exist"));
        assertThat(replica(dest).resolve("keep")).exists();
        assertThat(published.get(1).getOutcome()).isEqualTo(SyncOutcome.FAILED);
    }

    private double counter(String name, Labels labels) {
        for (MetricSnapshot s : registry.scrape()) {
            if (!s.getMetadata().getName().equals(name)) continue;
            for (CounterSnapshot.CounterDataPointSnapshot d : ((CounterSnapshot) s).getDataPoints()) {
                if (d.getLabels().equals(labels)) return d.getValue();
            }
        }
        return -1;
    }

    private double gauge(String name, Labels labels) {
        for (MetricSnapshot s : registry.scrape()) {
            if (!s.getMetadata().getName().equals(name)) continue;
            for (GaugeSnapshot.GaugeDataPointSnapshot d : ((GaugeSnapshot) s).getDataPoints()) {
                if (d.getLabels().equals(labels)) return d.getValue();
            }
        }
        return -1;
    }
}
