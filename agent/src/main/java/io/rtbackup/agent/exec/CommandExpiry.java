package io.rtbackup.agent.exec;

import io.rtbackup.schema.SyncCommand;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;

/**
 * Whether a command is too old to run, without any clock of this host: a command is too old only when the worker
 * that issued it ({@code replyTo}) has since issued another one, read after it from the same partition, whose
 * {@code issuedAtMs} is more than {@code exec.command-max-age-s} later. Worker timestamps are compared with
 * timestamps of the same worker only, so neither this host's clock nor the skew between the two matters. A worker
 * writes its commands to a partition in the order it issues them, so "read after" is "issued after"; comparing
 * with the latest command read (not the largest timestamp ever seen) keeps a worker whose clock stepped back from
 * making its own new commands look expired.
 *
 * <p>What it is for: after a long outage the backlog of the partition holds commands the worker has long since
 * retried under new ids (results that never came time out). The poll loop reads ahead of the pools, so by the time
 * an old command's turn comes the newer ones have been seen. An expired command is answered FAILED, which a worker
 * never gives up on, so an expiry can cost a retry but never a change.
 *
 * <p>{@link #saw} runs on the poll thread for commands the gate admitted; {@link #tooOld} on the pools' threads.
 */
final class CommandExpiry {
    private record Latest(TopicPartition partition, long offset, long issuedAtMs) {
    }

    private final long maxAgeMs;
    private final ConcurrentHashMap<String, Latest> latest = new ConcurrentHashMap<>();

    CommandExpiry(Duration maxAge) {
        this.maxAgeMs = maxAge.toMillis();
    }

    /** {@code cmd} was read at {@code offset} of {@code partition}: the latest of its worker so far. */
    void saw(SyncCommand cmd, TopicPartition partition, long offset) {
        latest.merge(worker(cmd), new Latest(partition, offset, cmd.getIssuedAtMs()),
            (had, now) -> had.partition().equals(now.partition()) && had.offset() > now.offset() ? had : now);
    }

    /** Why {@code cmd} (read at {@code offset} of {@code partition}) is too old to run; empty when it is not. */
    Optional<String> tooOld(SyncCommand cmd, TopicPartition partition, long offset) {
        Latest l = latest.get(worker(cmd));
        if (l == null || !l.partition().equals(partition) || l.offset() <= offset) return Optional.empty();
        long newerByMs = l.issuedAtMs() - cmd.getIssuedAtMs();
        if (newerByMs <= maxAgeMs) return Optional.empty();
        return Optional.of("command expired: worker " + cmd.getReplyTo() + " has issued a command " + newerByMs / 1000
            + " s after it (by its own clock), more than " + maxAgeMs / 1000 + " s; it retries what this one was for");
    }

    private static String worker(SyncCommand cmd) {
        return cmd.getReplyTo() == null ? "" : cmd.getReplyTo();
    }
}
