package io.rtbackup.agent.capture.kmod;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.testkit.RecordingFatalErrorHandler;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What can be checked on a host without the module: the absent device and the delivery path. */
class KmodSourceTest {

    private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

    @Test
    void absentDeviceIsOneClearUnavailableError() {
        KmodSource source = new KmodSource("/dev/rtbackup-does-not-exist", new PrometheusRegistry(), fatal);

        assertThatThrownBy(() -> source.start(List.of(WatchedRoot.of("r", "/tmp")), c -> {}))
                .isInstanceOf(CaptureUnavailableException.class)
                .hasMessageContaining("/dev/rtbackup-does-not-exist")
                .hasMessageContaining("not loaded");
        source.close();
    }

    @Test
    void garbageFromTheDeviceBecomesARescanOfEveryRootAndCounts() {
        PrometheusRegistry registry = new PrometheusRegistry();
        KmodSource source = new KmodSource("/dev/null", registry, fatal);
        List<RawChange> got = new ArrayList<>();

        source.deliver(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, got::add);

        assertThat(got).singleElement().isInstanceOf(RawChange.Overflow.class);
        assertThat(registry.scrape().stream().filter(s -> s.getMetadata().getName().equals("rtb_kmod_protocol_errors")))
                .isNotEmpty();
    }

    @Test
    void deliversDecodedRecordsInOrder() {
        KmodSource source = new KmodSource("/dev/null", new PrometheusRegistry(), fatal);
        List<RawChange> got = new ArrayList<>();
        byte[] chunk = KmodRecordDecoderTest.concat(
                KmodRecordDecoderTest.record(KmodOp.CREATE.code(), 0, 1, KmodRecordDecoderTest.bytes("/r/a"), new byte[0]),
                KmodRecordDecoderTest.record(1, KmodOp.OVERFLOW.code(), 0, 2, 0, 9, new byte[0], new byte[0]));

        source.deliver(chunk, got::add);

        assertThat(got).hasSize(2);
        assertThat(got.get(0)).isInstanceOf(RawChange.PathChange.class);
        assertThat(got.get(1)).isInstanceOfSatisfying(RawChange.Overflow.class, o -> assertThat(o.dropped()).isEqualTo(9));
    }

    @Test
    void aChangeThePipelineRejectsBecomesARescanOfItsDirectory() {
        KmodSource source = new KmodSource("/dev/null", new PrometheusRegistry(), fatal);
        List<RawChange> got = new ArrayList<>();
        byte[] chunk = KmodRecordDecoderTest.concat(
                KmodRecordDecoderTest.record(KmodOp.CREATE.code(), 0, 1, KmodRecordDecoderTest.bytes("/r/sub/rejected"),
                        new byte[0]),
                KmodRecordDecoderTest.record(KmodOp.CREATE.code(), 0, 2, KmodRecordDecoderTest.bytes("/r/accepted"),
                        new byte[0]));

        // the sink the reader thread delivers into, as start() makes it
        source.deliver(chunk, source.guarded(change -> {
            if (change instanceof RawChange.PathChange p && new String(p.path()).endsWith("rejected")) {
                throw new IllegalStateException("downstream bug");
            }
            got.add(change);
        }));

        assertThat(got).hasSize(2);
        assertThat(got.get(0)).isInstanceOfSatisfying(RawChange.Overflow.class,
                o -> assertThat(new String(o.scope())).isEqualTo("/r/sub"));
        assertThat(got.get(1)).isInstanceOfSatisfying(RawChange.PathChange.class,
                p -> assertThat(new String(p.path())).isEqualTo("/r/accepted"));
        fatal.assertNone();
    }
}
