package io.rtbackup.topics;

import java.util.Optional;

/**
 * The naming rule of the consumer groups on the events topic: one group per destination, {@code rtb-dest-<name>}.
 * Workers join it and commit to it; {@code rtb status} reads its offsets to measure a destination's lag, so both
 * take the name from here. Each worker is a static member named {@link #member}; the topic provisioner counts the
 * workers by these names to size the results topic ({@link ResultPartitions#forWorkers}).
 */
public final class DestinationGroup {
    public static final String PREFIX = "rtb-dest-";
    /** The start of a worker's static member name ({@code group.instance.id}) in a destination's group. */
    public static final String MEMBER_PREFIX = "rtb-worker-";

    private DestinationGroup() {}

    /** The group of a destination's pipelines. */
    public static String of(String destination) {
        return PREFIX + destination;
    }

    /** A worker's static member name in the group of {@code destination}. */
    public static String member(String workerId, String destination) {
        return MEMBER_PREFIX + workerId + "-" + destination;
    }

    /** The worker id in a static member name of the group of {@code destination}, or empty when it is not one. */
    public static Optional<String> workerOf(String memberName, String destination) {
        String suffix = "-" + destination;
        if (memberName == null || !memberName.startsWith(MEMBER_PREFIX) || !memberName.endsWith(suffix)
            || memberName.length() <= MEMBER_PREFIX.length() + suffix.length()) {
            return Optional.empty();
        }
        return Optional.of(memberName.substring(MEMBER_PREFIX.length(), memberName.length() - suffix.length()));
    }

    /** The destination a group belongs to, or empty when the group is not a destination's. */
    public static Optional<String> destinationOf(String groupId) {
        return groupId.startsWith(PREFIX) ? Optional.of(groupId.substring(PREFIX.length())) : Optional.empty();
    }
}
