package io.rtbackup.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Properties;
import org.junit.jupiter.api.Test;

class TopicCatalogTest {

    @Test
    void theShippedCatalogDeclaresTheSevenTopics() {
        TopicCatalog catalog = TopicCatalog.load();
        assertThat(catalog.specs()).extracting(TopicSpec::role).containsExactly("events", "commands", "results", "dlq", "status",
            "control", "rootstate");
        assertThat(catalog.spec("events").partitions()).isEqualTo(12);
        assertThat(catalog.spec("events").configs()).containsEntry("cleanup.policy", "delete")
            .containsEntry("compression.type", "lz4").containsKey("retention.ms").containsKey("min.insync.replicas");
        assertThat(Topics.defaults()).isEqualTo(new Topics("rtb.events", "rtb.commands", "rtb.results", "rtb.dlq", "rtb.status",
            "rtb.control", "rtb.root-state"));
        assertThat(Topics.withPrefix("t1.").dlq()).isEqualTo("t1.rtb.dlq");
        // Status records are kept by key (latest per worker and destination), not by time.
        assertThat(catalog.spec("status").configs()).containsEntry("cleanup.policy", "compact");
        assertThat(Topics.withPrefix("t1.").status()).isEqualTo("t1.rtb.status");
        // The pause switch: the latest position per host and root, kept by key.
        assertThat(catalog.spec("control").configs()).containsEntry("cleanup.policy", "compact");
        assertThat(Topics.withPrefix("t1.").control()).isEqualTo("t1.rtb.control");
        assertThat(catalog.spec("rootstate").configs()).containsEntry("cleanup.policy", "compact");
        assertThat(new Topics("e", "c", "r", "d", "t1.rtb.status").control()).isEqualTo("t1.rtb.control");
        assertThat(new Topics("e", "c", "r", "d", "t1.rtb.status").rootState()).isEqualTo("t1.rtb.root-state");
    }

    @Test
    void errorsNameTheKey() {
        Properties p = new Properties();
        TopicCatalog.ROLES.forEach(r -> {
            p.setProperty(r + ".name", "x." + r);
            p.setProperty(r + ".partitions", "1");
            p.setProperty(r + ".replication.factor", "1");
        });
        p.setProperty("events.partitions", "zero");
        assertThatThrownBy(() -> TopicCatalog.parse(p, "f.properties"))
            .hasMessageContaining("f.properties").hasMessageContaining("'events.partitions'");
        p.setProperty("events.partitions", "3");
        p.setProperty("evnts.partitions", "3");
        assertThatThrownBy(() -> TopicCatalog.parse(p, "f.properties")).hasMessageContaining("'evnts.partitions'");
        p.remove("evnts.partitions");
        p.setProperty("dlq.partition", "3");
        assertThatThrownBy(() -> TopicCatalog.parse(p, "f.properties")).hasMessageContaining("'dlq.partition'");
        p.remove("dlq.partition");
        p.remove("results.name");
        assertThatThrownBy(() -> TopicCatalog.parse(p, "f.properties")).hasMessageContaining("'results.name'");
    }
}
