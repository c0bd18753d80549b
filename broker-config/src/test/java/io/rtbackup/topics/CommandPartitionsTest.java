package io.rtbackup.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class CommandPartitionsTest {

    @Test
    void theFleetRuleDoublesFromTheCatalogFloorUntilAPartitionHoldsAtMost32Hosts() {
        assertThat(CommandPartitions.forFleet(0, 6)).isEqualTo(6);
        assertThat(CommandPartitions.forFleet(192, 6)).isEqualTo(6);
        assertThat(CommandPartitions.forFleet(193, 6)).isEqualTo(12);
        assertThat(CommandPartitions.forFleet(1_000, 6)).isEqualTo(48);
        assertThat(CommandPartitions.forFleet(10_000, 6)).isEqualTo(384);
        assertThat(CommandPartitions.forFleet(100_000, 6)).isEqualTo(6_144);
        for (long hosts : new long[] {1, 50, 1_000, 10_000, 100_000, 1_000_000}) {
            int p = CommandPartitions.forFleet(hosts, 6);
            assertThat((double) hosts / p).as("hosts per partition at %d hosts", hosts)
                .isLessThanOrEqualTo(CommandPartitions.HOSTS_PER_PARTITION);
        }
    }

    @Test
    void aHostMapsWhereKafkasDefaultPartitionerPutsItsKey() {
        for (int partitions : new int[] {1, 6, 48, 6_144}) {
            for (int i = 0; i < 200; i++) {
                String host = "host-" + i;
                assertThat(CommandPartitions.of(host, partitions)).isEqualTo(
                    BuiltInPartitioner.partitionForKey(host.getBytes(StandardCharsets.UTF_8), partitions));
            }
        }
    }

    @Test
    void doublingMovesAHostOnlyToANewPartition() {
        for (int i = 0; i < 1_000; i++) {
            String host = "h" + i;
            int before = CommandPartitions.of(host, 48);
            int after = CommandPartitions.of(host, 96);
            assertThat(after == before || after >= 48).as(host).isTrue();
        }
    }
}
