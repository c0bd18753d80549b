package io.rtbackup.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.topics.Topics;
import java.util.List;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

class AclRecipeTest {
    private final Topics topics = Topics.withPrefix("p.");
    private final AclRecipe recipe = new AclRecipe(topics);

    private static List<String> on(List<AclBinding> acls, ResourceType type, String name) {
        return acls.stream().filter(b -> b.pattern().resourceType() == type && b.pattern().name().equals(name))
            .map(b -> b.entry().operation().name()).toList();
    }

    @Test
    void anAgentWritesEventsAndResultsAndOnlyReadsCommands() {
        List<AclBinding> acls = recipe.agent("User:host-web1");
        assertThat(acls).allSatisfy(b -> assertThat(b.entry().principal()).isEqualTo("User:host-web1"));
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.events")).containsExactlyInAnyOrder("WRITE", "DESCRIBE");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.results")).containsExactlyInAnyOrder("WRITE", "DESCRIBE");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.commands")).containsExactlyInAnyOrder("READ", "DESCRIBE");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.status")).isEmpty();
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.dlq")).isEmpty();
        assertThat(on(acls, ResourceType.GROUP, AclRecipe.AGENT_GROUP_PREFIX)).containsExactly("READ");
        // The pause switch: an agent reads it and reports what it applied, but cannot flip any root's switch.
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.control")).containsExactlyInAnyOrder("READ", "DESCRIBE");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.root-state")).containsExactlyInAnyOrder("WRITE", "DESCRIBE");
    }

    @Test
    void aWorkerDoesTheRest() {
        List<AclBinding> acls = recipe.worker("User:rtb-worker");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.events")).contains("READ").doesNotContain("WRITE");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.commands")).contains("WRITE").doesNotContain("READ");
        // the provisioner grows the commands topic with the fleet and the results topic with the workers, no other
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.commands")).contains("ALTER");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.events")).doesNotContain("ALTER");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.results")).contains("READ", "ALTER").doesNotContain("WRITE");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.dlq")).contains("WRITE");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.status")).contains("READ", "WRITE");
        for (String t : List.of("p.rtb.events", "p.rtb.commands", "p.rtb.results", "p.rtb.dlq", "p.rtb.status")) {
            assertThat(on(acls, ResourceType.TOPIC, t)).as(t).contains("CREATE", "DESCRIBE", "DESCRIBE_CONFIGS");
        }
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.control")).contains("READ", "WRITE", "CREATE");
        assertThat(on(acls, ResourceType.TOPIC, "p.rtb.root-state")).contains("READ", "CREATE").doesNotContain("WRITE");
        assertThat(on(acls, ResourceType.GROUP, "rtb-dest-")).containsExactlyInAnyOrder("READ", "DESCRIBE");
        assertThat(on(acls, ResourceType.GROUP, AclRecipe.AGENT_GROUP_PREFIX)).containsExactly("DESCRIBE");
        assertThat(acls).noneMatch(b -> b.entry().operation() == AclOperation.ALL);
    }
}
