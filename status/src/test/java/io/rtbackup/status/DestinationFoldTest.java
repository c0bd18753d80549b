package io.rtbackup.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileEvent;
import io.rtbackup.schema.FileOp;
import io.rtbackup.schema.Reconciliations;
import io.rtbackup.schema.SyncOutcome;
import io.rtbackup.schema.SyncResult;
import io.rtbackup.schema.StuckPathStatus;
import io.rtbackup.schema.SyncSummary;
import io.rtbackup.schema.WorkerStatus;
import io.rtbackup.status.FleetStatus.DestinationStatus;
import io.rtbackup.status.FleetStatus.RecentSync;
import io.rtbackup.status.FleetStatus.RootStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** What the status makes of the records it read: staleness, worst breaker, newest error, per-root tallies. */
class DestinationFoldTest {
    // Avro builds nested records only from trusted classes; loading the codec installs that list, as in production.
    private static final AvroCodec<FileEvent> EVENTS = AvroCodec.fileEvents();
    private static final long NOW = 1_000_000;
    private static final Backlog NO_BACKLOG = new Backlog(Long.MAX_VALUE, true, Map.of());

    @Test
    void staleWorkersCountForSyncsButNotForBreakerOrPause() {
        WorkerStatus live = worker("w1", NOW - 1_000, "HALF_OPEN", false).setSyncsOk(3).setSyncsFailed(1).build();
        // published 3 intervals + 5 s + 1 ms ago: stale, so its OPEN breaker and pause are history
        WorkerStatus stale = worker("w2", NOW - 3 * 1_000 - 5_001, "OPEN", true).setSyncsOk(2).setSyncsFailed(5).build();

        DestinationStatus d = DestinationFold.fold("d1", 0, true, NO_BACKLOG, List.of(live, stale), List.of(), NOW);

        assertThat(d.consumerGroup()).isEqualTo("rtb-dest-d1");
        assertThat(d.breakerState()).isEqualTo("HALF_OPEN");
        assertThat(d.paused()).isFalse();
        assertThat(d.syncsOk()).isEqualTo(5);
        assertThat(d.syncsFailed()).isEqualTo(6);
        assertThat(d.workers()).extracting(FleetStatus.WorkerView::stale).containsExactly(false, true);

        DestinationStatus open = DestinationFold.fold("d1", 0, true, NO_BACKLOG,
            List.of(live, worker("w3", NOW, "OPEN", true).build()), List.of(), NOW);
        assertThat(open.breakerState()).isEqualTo("OPEN");
        assertThat(open.paused()).isTrue();

        DestinationStatus nobody = DestinationFold.fold("d1", 0, true, NO_BACKLOG, List.of(stale), List.of(), NOW);
        assertThat(nobody.breakerState()).isEqualTo("UNKNOWN");
    }

    @Test
    void stuckPathsComeFromLiveWorkersSortedByHostRootAndPath() {
        StuckPathStatus b = new StuckPathStatus("h1", "r1", "b\\x0a", "opendir failed: Permission denied (13)", 5L, 2);
        StuckPathStatus a = new StuckPathStatus("h1", "r1", "a", "send_files failed to open: Input/output error (5)",
            7L, 1);
        WorkerStatus live = worker("w1", NOW - 1_000, "CLOSED", false).setStuckPaths(List.of(b, a)).build();
        WorkerStatus stale = worker("w2", NOW - 3 * 1_000 - 5_001, "CLOSED", false)
            .setStuckPaths(List.of(new StuckPathStatus("h2", "r", "old", "x", 1L, 1))).build();
        WorkerStatus none = worker("w3", NOW, "CLOSED", false).build(); // a worker before WorkerStatus v2

        DestinationStatus d = DestinationFold.fold("d1", 0, true, NO_BACKLOG, List.of(live, stale, none), List.of(),
            NOW);

        assertThat(d.stuckPaths()).containsExactly(
            new FleetStatus.StuckPath("h1", "r1", "a", "send_files failed to open: Input/output error (5)", 7, 1, "w1"),
            new FleetStatus.StuckPath("h1", "r1", "b\\x0a", "opendir failed: Permission denied (13)", 5, 2, "w1"));
    }

    @Test
    void newestErrorWinsAndResultsOfOtherDestinationsAreSkipped() {
        WorkerStatus w = worker("w1", NOW, "CLOSED", false).setLastErrorMs(500).setLastError("worker saw timeout")
            .setLastSuccessMs(400).build();
        SyncResult failed = result("d1", "h1", "r1", SyncOutcome.FAILED, 700, null, 10);
        SyncResult otherDest = result("d2", "h1", "r1", SyncOutcome.FAILED, 900, "not ours", 1);
        SyncResult ok = result("d1", "h2", "r2", SyncOutcome.OK, 800, null, 0);

        DestinationStatus d = DestinationFold.fold("d1", 0, true, NO_BACKLOG, List.of(w),
            List.of(failed, otherDest, ok), NOW);

        assertThat(d.lastErrorMs()).isEqualTo(700);
        assertThat(d.lastError()).isEqualTo("FAILED: rsync exit code 10");
        assertThat(d.lastSuccessMs()).isEqualTo(800);
        assertThat(d.roots()).extracting(RootStatus::host, RootStatus::root, RootStatus::lastError, RootStatus::lastSuccessMs)
            .containsExactly(tuple("h1", "r1", "FAILED: rsync exit code 10", 0L),
                tuple("h2", "r2", null, 800L));
    }

    @Test
    void theNewestReconciliationPerHostAndRootIsShownWithWhatItFound() {
        SyncResult older = reconcile("d1", "h1", "r1", SyncOutcome.OK, 600, 0);
        SyncResult newer = reconcile("d1", "h1", "r1", SyncOutcome.OK, 900, 3);
        SyncResult command = SyncResult.newBuilder(result("d1", "h1", "r1", SyncOutcome.OK, 950, null, 0))
            .setFilesTransferred(40).build();
        SyncResult failed = SyncResult.newBuilder(reconcile("d1", "h2", "r2", SyncOutcome.FAILED, 700, 0))
            .setError("root directory '/x' does not exist").build();
        SyncResult otherDest = reconcile("d2", "h1", "r1", SyncOutcome.OK, 990, 8);

        DestinationStatus d = DestinationFold.fold("d1", 0, true, NO_BACKLOG, List.of(),
            List.of(newer, command, older, failed, otherDest), NOW);

        assertThat(d.roots()).extracting(RootStatus::host, RootStatus::lastReconcile).containsExactly(
            tuple("h1", new FleetStatus.Reconcile(900, "OK", 3, 0, null)),
            tuple("h2", new FleetStatus.Reconcile(700, "FAILED", 0, 0, "root directory '/x' does not exist")));
        assertThat(d.roots().get(0).lastSuccessMs()).isEqualTo(950);
        assertThat(d.roots().get(1).lastError()).isEqualTo("FAILED: root directory '/x' does not exist");
        assertThat(StatusPage.describe(d.roots().get(0).lastReconcile())).isEqualTo("3 difference(s) found and repaired");
        String html = StatusPage.render(new FleetStatus(NOW, "rtb.events", List.of(d)), "t");
        assertThat(html).contains("<td class=\"reconcile-differences\">1970-01-01 00:00:00 UTC: 3 difference(s) found "
            + "and repaired</td>").contains("<td class=\"reconcile-failed\">");
        var json = StatusJson.parse(StatusJson.write(new FleetStatus(NOW, "rtb.events", List.of(d))));
        assertThat(json.get("destinations").get(0).get("roots").get(0).get("lastReconcile").get("differences").asLong())
            .isEqualTo(3);

        DestinationStatus none = DestinationFold.fold("d1", 0, true, NO_BACKLOG, List.of(), List.of(command), NOW);
        assertThat(none.roots().get(0).lastReconcile()).isNull();
    }

    @Test
    void recentSyncsAreTheNewestAcrossWorkers() {
        List<SyncSummary> a = new ArrayList<>();
        List<SyncSummary> b = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            a.add(summary(2 * i, "OK", null));
            b.add(summary(2 * i + 1, "RETRYING", "connection refused"));
        }
        DestinationStatus d = DestinationFold.fold("d1", 0, true, NO_BACKLOG, List.of(
            worker("w1", NOW, "CLOSED", false).setRecentSyncs(a).build(),
            worker("w2", NOW, "CLOSED", false).setRecentSyncs(b).build()), List.of(), NOW);

        assertThat(d.recentSyncs()).hasSize(DestinationFold.RECENT_SYNCS);
        assertThat(d.recentSyncs().get(0).finishedAtMs()).isEqualTo(29);
        assertThat(d.recentSyncs()).extracting(RecentSync::finishedAtMs).isSortedAccordingTo((x, y) -> Long.compare(y, x));
        RootStatus root = d.roots().get(0);
        assertThat(root.lastSuccessMs()).isEqualTo(28);
        assertThat(root.lastErrorMs()).isEqualTo(29);
        assertThat(root.lastError()).isEqualTo("connection refused");
    }

    @Test
    void backlogGivesLagAgePerRootAndCountsUndecodableEvents() {
        AvroCodec<FileEvent> codec = EVENTS;
        List<ConsumerRecord<byte[], byte[]>> events = List.of(
            event(0, NOW - 4_000, codec.encode(fileEvent("h1", "r1"))),
            event(1, NOW - 2_000, codec.encode(fileEvent("h1", "r1"))),
            event(2, NOW - 1_000, "not avro".getBytes(StandardCharsets.UTF_8)));
        Backlog backlog = Backlog.tally(events, false, codec);

        DestinationStatus d = DestinationFold.fold("d1", 3, true, backlog, List.of(), List.of(), NOW);

        assertThat(d.lagEvents()).isEqualTo(3);
        assertThat(d.lagSeconds()).isEqualTo(4.0);
        assertThat(d.oldestUnconsumedMs()).isEqualTo(NOW - 4_000);
        assertThat(d.roots()).extracting(RootStatus::host, RootStatus::lagEvents, RootStatus::lagComplete, RootStatus::lagSeconds)
            .containsExactly(tuple("?", 1L, false, 1.0),
                tuple("h1", 2L, false, 4.0));

        DestinationStatus caughtUp = DestinationFold.fold("d1", 0, true, Backlog.tally(List.of(), true, codec),
            List.of(), List.of(), NOW);
        assertThat(caughtUp.lagSeconds()).isZero();
        assertThat(caughtUp.oldestUnconsumedMs()).isZero();
    }

    private static WorkerStatus.Builder worker(String id, long publishedAtMs, String breaker, boolean paused) {
        return WorkerStatus.newBuilder().setWorkerId(id).setDestination("d1").setPublishedAtMs(publishedAtMs)
            .setIntervalMs(1_000).setBreakerState(breaker).setPaused(paused);
    }

    private static SyncSummary summary(long finishedAtMs, String outcome, String error) {
        return SyncSummary.newBuilder().setFinishedAtMs(finishedAtMs).setHostId("h1").setRootId("r1")
            .setCommandId("c" + finishedAtMs).setOutcome(outcome).setError(error).build();
    }

    private static SyncResult result(String dest, String host, String root, SyncOutcome outcome, long finishedAtMs,
                                     String error, int exitCode) {
        return SyncResult.newBuilder().setCommandId("c").setHostId(host).setRootId(root).setDestination(dest)
            .setOutcome(outcome).setFinishedAtMs(finishedAtMs).setError(error).setExitCode(exitCode).build();
    }

    private static SyncResult reconcile(String dest, String host, String root, SyncOutcome outcome,
                                        long finishedAtMs, long differences) {
        return SyncResult.newBuilder().setCommandId(Reconciliations.commandId("run-" + finishedAtMs)).setHostId(host)
            .setRootId(root).setDestination(dest).setOutcome(outcome).setFinishedAtMs(finishedAtMs)
            .setFilesTransferred(differences).build();
    }

    private static FileEvent fileEvent(String host, String root) {
        return FileEvent.newBuilder().setHostId(host).setRootId(root).setPath(ByteBuffer.wrap(new byte[] {'a'}))
            .setOp(FileOp.MODIFY).setSource(CaptureSource.SCAN).setSeq(1).setEventTimeNs(1).build();
    }

    private static ConsumerRecord<byte[], byte[]> event(long offset, long timestampMs, byte[] value) {
        return new ConsumerRecord<>("rtb.events", 0, offset, timestampMs,
            TimestampType.CREATE_TIME, 0, value.length, null, value,
            new RecordHeaders(), Optional.empty());
    }
}
