package io.rtbackup.kafka;

import io.rtbackup.topics.AgentGroup;
import io.rtbackup.topics.DestinationGroup;
import io.rtbackup.topics.Topics;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The ACLs of the two client roles of a deployment, for a cluster whose authorizer denies what no ACL allows.
 *
 * <ul>
 *   <li>An agent writes {@code rtb.events} and {@code rtb.results}, reads {@code rtb.commands} in the agents' consumer
 *       groups ({@value #AGENT_GROUP_PREFIX}&lt;host&gt;), reads {@code rtb.control} (the pause switch, read without
 *       a group), writes {@code rtb.root-state} (its roots' applied pause state) and nothing else: a compromised host
 *       can neither command any host's rsync nor pause any root, nor forge worker status, nor read the events of
 *       other hosts.</li>
 *   <li>A worker (and an operator's {@code rtb pause} with a worker's config) does the rest: reads events and
 *       results, writes commands, dead letters, status records and control records, reads status, control
 *       and root states, creates and describes the seven topics (it provisions them at start, and adds partitions
 *       to the commands topic as the fleet grows: {@code CommandPartitions}), and uses the destination
 *       groups ({@value DestinationGroup#PREFIX}&lt;name&gt;). It may describe the agents' groups, for
 *       {@code rtb status}, but not join them.</li>
 * </ul>
 * Topic bindings are literal (the names of {@link Topics}, so a topic prefix is honoured); group bindings are
 * prefixed. Principals are Kafka's {@code User:<name>}, the SASL user name.
 */
public final class AclRecipe {
    /** The executor's group is {@code rtb-agent-<host>} ({@link AgentGroup}). */
    public static final String AGENT_GROUP_PREFIX = AgentGroup.PREFIX;

    private final Topics topics;

    public AclRecipe(Topics topics) {
        this.topics = topics;
    }

    /** What an agent running as {@code principal} needs. */
    public List<AclBinding> agent(String principal) {
        List<AclBinding> out = new ArrayList<>();
        topic(out, principal, topics.events(), AclOperation.WRITE, AclOperation.DESCRIBE);
        topic(out, principal, topics.results(), AclOperation.WRITE, AclOperation.DESCRIBE);
        topic(out, principal, topics.commands(), AclOperation.READ, AclOperation.DESCRIBE);
        topic(out, principal, topics.control(), AclOperation.READ, AclOperation.DESCRIBE);
        topic(out, principal, topics.rootState(), AclOperation.WRITE, AclOperation.DESCRIBE);
        group(out, principal, AGENT_GROUP_PREFIX, AclOperation.READ);
        return out;
    }

    /** What a worker (and {@code rtb status} with a worker's config) running as {@code principal} needs. */
    public List<AclBinding> worker(String principal) {
        List<AclBinding> out = new ArrayList<>();
        AclOperation[] provisioning = {AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS};
        for (String t : List.of(topics.events(), topics.commands(), topics.results(), topics.dlq(), topics.status(),
                topics.control(), topics.rootState())) {
            topic(out, principal, t, provisioning);
        }
        topic(out, principal, topics.events(), AclOperation.READ);
        topic(out, principal, topics.results(), AclOperation.READ);
        topic(out, principal, topics.commands(), AclOperation.WRITE);
        // the provisioner grows the commands topic with the fleet (CommandPartitions), the results topic with the
        // workers (ResultPartitions)
        topic(out, principal, topics.commands(), AclOperation.ALTER);
        topic(out, principal, topics.results(), AclOperation.ALTER);
        topic(out, principal, topics.dlq(), AclOperation.WRITE);
        topic(out, principal, topics.status(), AclOperation.READ, AclOperation.WRITE);
        topic(out, principal, topics.control(), AclOperation.READ, AclOperation.WRITE);
        topic(out, principal, topics.rootState(), AclOperation.READ);
        group(out, principal, DestinationGroup.PREFIX, AclOperation.READ, AclOperation.DESCRIBE);
        group(out, principal, AGENT_GROUP_PREFIX, AclOperation.DESCRIBE);
        return out;
    }

    private static void topic(List<AclBinding> out, String principal, String topic, AclOperation... ops) {
        for (AclOperation op : ops) {
            out.add(allow(new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL), principal, op));
        }
    }

    private static void group(List<AclBinding> out, String principal, String prefix, AclOperation... ops) {
        for (AclOperation op : ops) {
            out.add(allow(new ResourcePattern(ResourceType.GROUP, prefix, PatternType.PREFIXED), principal, op));
        }
    }

    private static AclBinding allow(ResourcePattern pattern, String principal, AclOperation op) {
        return new AclBinding(pattern, new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW));
    }
}
