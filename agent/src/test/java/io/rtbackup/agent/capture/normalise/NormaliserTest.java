package io.rtbackup.agent.capture.normalise;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.capture.ChangeSink;
import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.event.EventSink;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import io.rtbackup.agent.exclude.ExcludeMatcher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The normaliser alone: raw changes in, normalised events out. */
class NormaliserTest {

    private final List<CapturedEvent> out = new CopyOnWriteArrayList<>();
    private Normaliser normaliser;
    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private ChangeSink start(Duration window) {
        normaliser = new Normaliser(List.of(
                new Normaliser.Root(WatchedRoot.of("home", "/srv/home"), new ExcludeMatcher(List.of("*.swp"))),
                new Normaliser.Root(WatchedRoot.of("etc", "/etc"), ExcludeMatcher.none())),
                window, out::add, new PrometheusRegistry(), fatal);
        normaliser.start();
        return normaliser.sinkFor(CaptureSource.FANOTIFY);
    }

    @AfterEach
    void close() {
        if (normaliser != null) normaliser.close();
        fatal.assertNone();
    }

    private static RawChange change(FileOp op, String path) {
        return new RawChange.PathChange(op, b(path), false, 1L, RawChange.PathChange.NO_INODE);
    }

    private List<String> shown() {
        return out.stream().map(e -> e.op() + " " + e.rootId() + ":" + new String(e.path(), StandardCharsets.UTF_8)
                + (e.otherPath() == null ? "" : " <> " + new String(e.otherPath(), StandardCharsets.UTF_8))).toList();
    }

    @Test
    void pathsAreMappedToRootsAndEverythingElseIsDropped() {
        ChangeSink sink = start(Duration.ZERO);
        sink.accept(change(FileOp.CREATE, "/srv/home/a/b"));
        sink.accept(change(FileOp.CREATE, "/srv/homely/x"));
        sink.accept(change(FileOp.CREATE, "/srv/home/a/.b.swp"));
        sink.accept(change(FileOp.ATTRIB, "/srv/home"));
        sink.accept(change(FileOp.DELETE, "/etc/passwd"));
        sink.accept(change(FileOp.DELETE, "/var/log/x"));
        assertThat(shown()).containsExactly("CREATE home:a/b", "ATTRIB home:", "DELETE etc:passwd");
    }

    @Test
    void aBurstOfModifyIsOneEventAndACloseWriteEndsItAtOnce() throws Exception {
        ChangeSink sink = start(Duration.ofMillis(300));
        for (int i = 0; i < 100; i++) sink.accept(change(FileOp.MODIFY, "/srv/home/log"));
        assertThat(out).isEmpty();
        assertThat(normaliser.pendingCount()).isEqualTo(1);
        sink.accept(change(FileOp.CLOSE_WRITE, "/srv/home/log"));
        assertThat(shown()).containsExactly("CLOSE_WRITE home:log");

        out.clear();
        for (int i = 0; i < 50; i++) sink.accept(change(FileOp.MODIFY, "/srv/home/held"));
        long t0 = System.nanoTime();
        while (out.isEmpty() && System.nanoTime() - t0 < 5_000_000_000L) Thread.sleep(5);
        long waitedMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(shown()).containsExactly("MODIFY home:held");
        assertThat(waitedMs).as("released when its window ends").isGreaterThanOrEqualTo(200);
    }

    @Test
    void deleteAndMoveAreNeverDelayedAndKeepTheOrder() {
        ChangeSink sink = start(Duration.ofSeconds(10));
        sink.accept(change(FileOp.MODIFY, "/srv/home/f"));
        sink.accept(change(FileOp.DELETE, "/srv/home/f"));
        sink.accept(new RawChange.Rename(b("/srv/home/g"), b("/srv/home/h"), false, 1));
        assertThat(shown()).containsExactly("MODIFY home:f", "DELETE home:f", "MOVE_FROM home:g <> h",
                "MOVE_TO home:h <> g");
    }

    @Test
    void aRenameAcrossRootsOrOutOfARootKeepsOnlyTheSidesInside() {
        ChangeSink sink = start(Duration.ZERO);
        sink.accept(new RawChange.Rename(b("/srv/home/a"), b("/etc/a"), false, 1));
        sink.accept(new RawChange.Rename(b("/tmp/x"), b("/srv/home/x"), true, 1));
        sink.accept(new RawChange.Rename(b("/srv/home/y"), b("/tmp/y"), false, 1));
        sink.accept(new RawChange.Rename(b("/srv/home/z"), b("/srv/home/z.swp"), false, 1));
        assertThat(shown()).containsExactly("MOVE_FROM home:a", "MOVE_TO etc:a", "MOVE_TO home:x",
                "MOVE_FROM home:y", "MOVE_FROM home:z");
    }

    @Test
    void anOverflowBecomesOneRescanPerAffectedRoot() {
        ChangeSink sink = start(Duration.ZERO);
        sink.accept(new RawChange.Overflow(null, 10, 1));
        assertThat(shown()).containsExactly("RESCAN home:", "RESCAN etc:");
        out.clear();
        sink.accept(new RawChange.Overflow(b("/srv/home/deep/dir"), 1, 1));
        sink.accept(new RawChange.Overflow(b("/srv"), 1, 1));
        sink.accept(new RawChange.Rescan(b("/opt"), 1));
        assertThat(shown()).containsExactly("RESCAN home:deep/dir", "RESCAN home:");
        assertThat(out).allMatch(e -> e.source() == CaptureSource.FANOTIFY);
    }

    @Test
    void aMergedEventRejectedWhenItsWindowEndsBecomesARescanOfItsDirectory() throws Exception {
        List<CapturedEvent> got = new CopyOnWriteArrayList<>();
        normaliser = new Normaliser(List.of(new Normaliser.Root(WatchedRoot.of("home", "/srv/home"),
                ExcludeMatcher.none())), Duration.ofMillis(50), e -> {
                    if (e.op() == FileOp.MODIFY) throw new IllegalStateException("downstream bug");
                    got.add(e);
                }, new PrometheusRegistry(), fatal);
        normaliser.start();
        normaliser.sinkFor(CaptureSource.FANOTIFY).accept(change(FileOp.MODIFY, "/srv/home/a/log"));

        long t0 = System.nanoTime();
        while (got.isEmpty() && System.nanoTime() - t0 < 5_000_000_000L) Thread.sleep(5);
        assertThat(got).singleElement().satisfies(e -> {
            assertThat(e.op()).isEqualTo(FileOp.RESCAN);
            assertThat(e.rootId()).isEqualTo("home");
            assertThat(new String(e.path(), StandardCharsets.UTF_8)).isEqualTo("a");
        });
        assertThat(normaliser.pendingCount()).isZero();
    }

    @Test
    void whenEvenTheRescanIsRejectedTheFlusherEndsTheProcess() throws Exception {
        RecordingFatalErrorHandler mine = new RecordingFatalErrorHandler();
        try (Normaliser n = new Normaliser(List.of(new Normaliser.Root(WatchedRoot.of("home", "/srv/home"),
                ExcludeMatcher.none())), Duration.ofMillis(50), e -> {
                    throw new IllegalStateException("downstream bug");
                }, new PrometheusRegistry(), mine)) {
            n.start();
            n.sinkFor(CaptureSource.FANOTIFY).accept(change(FileOp.MODIFY, "/srv/home/log"));
            long t0 = System.nanoTime();
            while (mine.reports().isEmpty() && System.nanoTime() - t0 < 5_000_000_000L) Thread.sleep(5);
            assertThat(mine.reports()).singleElement()
                    .satisfies(r -> assertThat(r.component()).contains("normaliser"));
        }
    }
}
