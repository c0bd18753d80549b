package io.rtbackup.topics;

import java.util.Optional;

/**
 * The naming rule of the consumer groups on the events topic: one group per destination, {@code rtb-dest-<name>}.
 * Workers join it and commit to it; {@code rtb status} reads its offsets to measure a destination's lag, so both
 * take the name from here.
 */
public final class DestinationGroup {
    public static final String PREFIX = "rtb-dest-";

    private DestinationGroup() {}

    /** The group of a destination's pipelines. */
    public static String of(String destination) {
        return PREFIX + destination;
    }

    /** The destination a group belongs to, or empty when the group is not a destination's. */
    public static Optional<String> destinationOf(String groupId) {
        return groupId.startsWith(PREFIX) ? Optional.of(groupId.substring(PREFIX.length())) : Optional.empty();
    }
}
