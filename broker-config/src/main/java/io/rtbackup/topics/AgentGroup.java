package io.rtbackup.topics;

/**
 * The naming rule of the agents' consumer groups on the commands topic: one group per host,
 * {@code rtb-agent-<host>}, holding only the position the host's command executor committed. The executor commits
 * under it, the ACL recipe grants it, and the topic provisioner counts these groups to size the commands topic to
 * the fleet (see {@link CommandPartitions#forFleet}), so all of them take the name from here.
 */
public final class AgentGroup {
    public static final String PREFIX = "rtb-agent-";

    private AgentGroup() {}

    /** The group of a host's command executor. */
    public static String of(String hostId) {
        return PREFIX + hostId;
    }

    /** True when {@code groupId} is a host's command executor group. */
    public static boolean isAgentGroup(String groupId) {
        return groupId.startsWith(PREFIX) && groupId.length() > PREFIX.length();
    }
}
