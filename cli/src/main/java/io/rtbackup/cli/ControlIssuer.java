package io.rtbackup.cli;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.ControlCommand;
import io.rtbackup.schema.ControlKey;
import io.rtbackup.schema.Identifier;
import io.rtbackup.schema.RootControlState;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.topics.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Flips the pause switch of a root: publishes a {@link ControlCommand} to the control topic (keyed
 * {@code <host>/<root>}) and waits for the root's agent to report on the root-state topic that it applied that very
 * command. Used by {@code rtb pause}, {@code rtb resume} and the status page's switch. The command stays on the
 * compacted topic, so an agent that is down applies it when it starts; the wait only decides what is printed.
 * Whether the caller may flip it is Kafka's decision (write access to the control topic, see {@code rtb acl}) and,
 * where agents have a keyring, the signature's: the command is signed with a worker key ({@code signing.key}). Public
 * for the end-to-end tests, which serve the status page's switch exactly as {@code rtb up} does.
 */
public final class ControlIssuer {
    private final Map<String, Object> kafka;
    private final Topics topics;
    private final Clock clock;
    private final RecordSigner signer;

    /** @param kafka client properties, {@code bootstrap.servers} included */
    public ControlIssuer(Map<String, Object> kafka, Topics topics, Clock clock) {
        this(kafka, topics, clock, RecordSigner.NONE);
    }

    /** @param signer signs each switch with a worker key (agents with a keyring take only signed switches) */
    public ControlIssuer(Map<String, Object> kafka, Topics topics, Clock clock, RecordSigner signer) {
        this.signer = signer;
        this.kafka = Map.copyOf(kafka);
        this.topics = topics;
        this.clock = clock;
    }

    /** What happened to one command: the agent's state if it applied it within the wait, else empty. */
    record Outcome(ControlCommand command, Optional<RootControlState> applied) {
    }

    /**
     * Sends {@code action} for {@code host}/{@code root} and waits up to {@code wait} for the agent's answer.
     *
     * @throws IllegalArgumentException when host or root is not a valid id
     * @throws IllegalStateException    when the command could not be published (Kafka unreachable, not allowed)
     */
    Outcome issue(String host, String root, ControlAction action, String reason, String issuedBy, Duration wait) {
        Identifier.HOST_ID.problem(host).ifPresent(p -> {
            throw new IllegalArgumentException("host: " + p);
        });
        Identifier.ROOT_ID.problem(root).ifPresent(p -> {
            throw new IllegalArgumentException("root: " + p);
        });
        ControlCommand cmd = ControlCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setHostId(host)
            .setRootId(root).setAction(action).setReason(reason == null ? "" : reason)
            .setIssuedBy(issuedBy).setIssuedAtMs(clock.millis()).build();
        try (KafkaConsumer<byte[], byte[]> states = stateConsumer()) {
            // Positioned at the end before sending, so the answer cannot be missed.
            List<TopicPartition> parts = partitions(states, topics.rootState());
            states.assign(parts);
            states.seekToEnd(parts);
            parts.forEach(states::position);
            send(cmd);
            return new Outcome(cmd, awaitApplied(states, cmd, wait));
        }
    }

    /** The status page's switch: flips through this issuer, waiting up to {@code wait}; answers in words. */
    public io.rtbackup.status.SwitchHandler.Switch pageSwitch(Duration wait) {
        return (host, root, pause, reason, by) -> {
            Outcome o;
            try {
                o = issue(host, root, pause ? ControlAction.PAUSE : ControlAction.RESUME, reason, by, wait);
            } catch (IllegalStateException e) {
                throw new java.io.IOException(e.getMessage(), e);
            }
            return o.applied().map(SwitchCommand::describe).orElse((pause ? "pause" : "resume") + " of root " + root
                + " of host " + host + " sent; its agent has not applied it within " + wait.toSeconds() + " s");
        };
    }

    /** The latest state each root of {@code host} reported (the roots its agent knows), by root id. */
    Map<String, RootControlState> rootsOf(String host, Duration timeout) {
        Map<String, RootControlState> out = new TreeMap<>();
        AvroCodec<RootControlState> codec = AvroCodec.rootControlStates();
        try (KafkaConsumer<byte[], byte[]> states = stateConsumer()) {
            List<TopicPartition> parts = partitions(states, topics.rootState());
            states.assign(parts);
            states.seekToBeginning(parts);
            Map<TopicPartition, Long> end = states.endOffsets(parts, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (parts.stream().anyMatch(tp -> states.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : states.poll(Duration.ofMillis(200))) {
                    if (r.value() == null) continue;
                    try {
                        RootControlState s = codec.decode(r.value());
                        if (s.getHostId().equals(host)) out.put(s.getRootId(), s);
                    } catch (UndecodableRecordException e) {
                        // not a state this release can read: not a root it can switch either
                    }
                }
            }
        }
        return out;
    }

    private Optional<RootControlState> awaitApplied(KafkaConsumer<byte[], byte[]> states, ControlCommand cmd,
            Duration wait) {
        AvroCodec<RootControlState> codec = AvroCodec.rootControlStates();
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : states.poll(Duration.ofMillis(200))) {
                if (r.value() == null) continue;
                try {
                    RootControlState s = codec.decode(r.value());
                    if (s.getAppliedCommandId().equals(cmd.getCommandId())) return Optional.of(s);
                } catch (UndecodableRecordException e) {
                    // someone else's record; keep waiting for ours
                }
            }
        }
        return Optional.empty();
    }

    private void send(ControlCommand cmd) {
        Map<String, Object> p = new HashMap<>(kafka);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            byte[] key = ControlKey.of(cmd.getHostId(), cmd.getRootId());
            byte[] value = AvroCodec.controlCommands().encode(cmd);
            producer.send(new ProducerRecord<>(topics.control(), null, key, value,
                signer.sign(topics.control(), key, value))).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not publish the " + cmd.getAction() + " to " + topics.control()
                + " at " + kafka.get("bootstrap.servers") + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing the " + cmd.getAction(), e);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new IllegalStateException("could not publish the " + cmd.getAction() + " to " + topics.control()
                + " at " + kafka.get("bootstrap.servers") + ": " + e, e);
        }
    }

    private KafkaConsumer<byte[], byte[]> stateConsumer() {
        Map<String, Object> c = new HashMap<>(kafka);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return new KafkaConsumer<>(c);
    }

    private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c, String topic) {
        var info = c.partitionsFor(topic, Duration.ofSeconds(15));
        if (info == null || info.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist: start a worker, `rtb broker` or "
                + "`rtb up` of this release first (they create it)");
        }
        return info.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    }
}
