package io.rtbackup.worker.signing;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.schema.signing.Keyring;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.signing.RecordVerifier;
import io.rtbackup.schema.signing.RejectReason;
import io.rtbackup.schema.signing.SigningKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A polled batch's signatures verified ahead on a pool: every verdict is known when the call returns, the same
 * verdicts as one by one (a tampered record is still refused, the rest admitted), and a pool that is gone or a
 * batch too small leaves the work to where the verdict is used.
 */
class VerifyAheadTest {
    private static final String TOPIC = "rtb.events";

    @TempDir
    Path tmp;
    private RecordSigner h1;
    private RecordVerifier verifier;
    private ExecutorService pool;
    private final AtomicInteger tasks = new AtomicInteger();

    @BeforeEach
    void keys() throws Exception {
        SigningKey.generate(tmp.resolve("keys"), "h1");
        h1 = new RecordSigner(SigningKey.load(tmp.resolve("keys/h1.key")));
        Path ring = Files.createDirectories(tmp.resolve("ring"));
        Files.copy(tmp.resolve("keys/h1.pub"), ring.resolve("h1.pub"));
        verifier = new RecordVerifier(Keyring.load(ring), true);
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    private RecordAuthenticity authenticity(ExecutorService ahead) {
        return RecordAuthenticity.of("w1", verifier, new PrometheusRegistry(), null, r -> {
            tasks.incrementAndGet();
            ahead.execute(r);
        }, 2);
    }

    /** {@code n} records signed by h1 at offsets 0..n-1; those at {@code tampered} changed after signing. */
    private List<ConsumerRecord<byte[], byte[]>> batch(int n, int... tampered) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] key = ("h1\0r\0f" + i).getBytes(StandardCharsets.UTF_8);
            byte[] value = ("event " + i).getBytes(StandardCharsets.UTF_8);
            Headers h = h1.sign(TOPIC, key, value);
            for (int t : tampered) {
                if (t == i) value = ("forged " + i).getBytes(StandardCharsets.UTF_8);
            }
            out.add(new ConsumerRecord<>(TOPIC, 0, i, 0, TimestampType.CREATE_TIME, -1, -1, key, value, h,
                Optional.empty()));
        }
        return out;
    }

    @Test
    void everyVerdictIsKnownOnReturnAndTheSameAsOneByOne() {
        RecordAuthenticity a = authenticity(pool);
        List<ConsumerRecord<byte[], byte[]>> records = batch(40, 7, 23);

        a.verifyAhead(records);

        assertThat(a.verdictsKnown()).isEqualTo(40);
        assertThat(tasks).as("helpers handed to the pool").hasValue(2);
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Optional<RecordAuthenticity.Refusal> refusal = a.eventRefusal(r, "h1", false);
            if (r.offset() == 7 || r.offset() == 23) {
                assertThat(refusal).as("offset %d", r.offset()).get()
                    .extracting(RecordAuthenticity.Refusal::reason).isEqualTo(RejectReason.BAD_SIGNATURE);
            } else {
                assertThat(refusal).as("offset %d", r.offset()).isEmpty();
            }
        }
        assertThat(a.eventRefusal(records.get(0), "h2", false)).as("signed by h1, about h2").get()
            .extracting(RecordAuthenticity.Refusal::reason).isEqualTo(RejectReason.WRONG_SIGNER);
    }

    @Test
    void aPoolThatIsGoneLeavesTheWholeBatchToTheCaller() {
        pool.shutdown();
        RecordAuthenticity a = authenticity(pool);
        List<ConsumerRecord<byte[], byte[]>> records = batch(20, 3);

        a.verifyAhead(records);

        assertThat(a.verdictsKnown()).isEqualTo(20);
        assertThat(a.eventRefusal(records.get(3), "h1", false)).isPresent();
        assertThat(a.eventRefusal(records.get(4), "h1", false)).isEmpty();
    }

    @Test
    void aSmallBatchOrNoPoolIsVerifiedWhereItIsUsed() {
        RecordAuthenticity a = authenticity(pool);
        a.verifyAhead(batch(RecordAuthenticity.AHEAD_MIN_RECORDS - 1));
        assertThat(a.verdictsKnown()).isZero();
        assertThat(tasks).hasValue(0);

        RecordAuthenticity none = RecordAuthenticity.of("w1", verifier, new PrometheusRegistry(), null);
        List<ConsumerRecord<byte[], byte[]>> records = batch(40, 5);
        none.verifyAhead(records);
        assertThat(none.verdictsKnown()).isZero();
        assertThat(none.eventRefusal(records.get(5), "h1", false)).isPresent();
        assertThat(none.verdictsKnown()).isEqualTo(1);
    }
}
