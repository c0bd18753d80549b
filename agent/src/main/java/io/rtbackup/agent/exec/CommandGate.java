package io.rtbackup.agent.exec;

import io.rtbackup.schema.SyncCommand;
import io.rtbackup.schema.signing.RecordVerifier;
import io.rtbackup.schema.signing.RejectReason;
import io.rtbackup.schema.signing.Verification;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Which of this host's commands may run: only those whose signature verifies under the agent's keyring (the
 * workers' public keys), and a command already answered is answered again with the same result instead of running
 * again (a replay, or a duplicate after a re-read of the partition).
 *
 * <p>Why nothing can be lost here. A refused command is answered FAILED by the executor (never REJECTED): a worker
 * never gives a FAILED command up, it retries it under a new id, so its batch is never committed on a refusal. A
 * command id seen again is never dropped: when its result is remembered, that very result is published again (it
 * answers the same question; the worker uses it only when that id is still out); when it is not (still running, or
 * forgotten: the memory holds the last {@code memory} answers), the command simply runs again, which replication
 * being state-based makes harmless. So a replayed genuine command can at most cause one more rsync of the current
 * state of paths a worker asked for; it can never point rsync anywhere a worker did not sign.
 *
 * <p>Thread-safe: {@link #admit} runs on the poll thread, {@link #answered} on the pools' threads.
 */
final class CommandGate {
    /** What to do with a command. */
    sealed interface Admission {
        /** Run it. */
        record Run() implements Admission {
        }

        /** Already answered: publish this result record (its key and value) again, without running rsync. */
        record Repeat(byte[] key, byte[] value) implements Admission {
        }

        /** Not authenticated: do not run; answer FAILED with this reason. */
        record Refuse(RejectReason reason, String detail) implements Admission {
        }
    }

    private final RecordVerifier verifier;
    private final Map<String, byte[][]> answers;

    CommandGate(RecordVerifier verifier, int memory) {
        this.verifier = verifier;
        this.answers = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, byte[][]> eldest) {
                return size() > memory;
            }
        };
    }

    /** {@code cmd}, decoded from {@code rec} and addressed to this host: may it run? */
    Admission admit(ConsumerRecord<byte[], byte[]> rec, SyncCommand cmd) {
        Verification v = verifier.verify(rec);
        if (v instanceof Verification.Refused r) return new Admission.Refuse(r.reason(), r.detail());
        byte[][] answer;
        synchronized (answers) {
            answer = answers.get(cmd.getCommandId());
        }
        if (answer != null) return new Admission.Repeat(answer[0], answer[1]);
        return new Admission.Run();
    }

    /** The result record of an admitted command was handed to the producer. */
    void answered(String commandId, byte[] key, byte[] value) {
        synchronized (answers) {
            answers.put(commandId, new byte[][] {key, value});
        }
    }
}
