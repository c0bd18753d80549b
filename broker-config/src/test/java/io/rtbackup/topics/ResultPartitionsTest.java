package io.rtbackup.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class ResultPartitionsTest {

    @Test
    void aWorkersResultsAreWhereKafkasDefaultPartitionerPutsTheirKeyReplyTo() {
        for (int partitions : new int[] {1, 6, 12, 48}) {
            for (int i = 0; i < 200; i++) {
                String worker = "worker-" + i;
                assertThat(ResultPartitions.of(worker, partitions)).isEqualTo(
                    BuiltInPartitioner.partitionForKey(worker.getBytes(StandardCharsets.UTF_8), partitions));
            }
        }
    }

    @Test
    void theTopicDoublesFromTheCatalogFloorUntilAPartitionServesAtMostOneWorker() {
        assertThat(ResultPartitions.forWorkers(0, 6)).isEqualTo(6);
        assertThat(ResultPartitions.forWorkers(6, 6)).isEqualTo(6);
        assertThat(ResultPartitions.forWorkers(7, 6)).isEqualTo(12);
        assertThat(ResultPartitions.forWorkers(40, 6)).isEqualTo(48);
        assertThat(ResultPartitions.forWorkers(100, 6)).isEqualTo(192);
    }

    @Test
    void workerIdsAreReadBackFromTheirStaticMemberNames() {
        String member = DestinationGroup.member("worker-1", "nas-2");
        assertThat(member).isEqualTo("rtb-worker-worker-1-nas-2");
        assertThat(DestinationGroup.workerOf(member, "nas-2")).contains("worker-1");
        assertThat(DestinationGroup.workerOf(member, "2")).contains("worker-1-nas");
        assertThat(DestinationGroup.workerOf(member, "other")).isEmpty();
        assertThat(DestinationGroup.workerOf("rtb-worker--nas-2", "nas-2")).isEmpty();
        assertThat(DestinationGroup.workerOf("consumer-1", "nas-2")).isEmpty();
    }
}
