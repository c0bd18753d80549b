package io.rtbackup.kmod;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.ControlCommand;
import io.rtbackup.schema.ControlKey;
import io.rtbackup.schema.RootControlState;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * Flips the pause switch of one root of the guest's agent the way an operator's {@code rtb pause} does, with plain
 * Kafka clients: publishes an unsigned {@link ControlCommand} (the guest's agent has no keyring) keyed
 * {@code host/root} to the control topic and returns the {@link RootControlState} the agent published for that very
 * command, or empty when none came within the wait.
 */
final class GuestSwitch {
    private final String bootstrap;
    private final Topics topics;

    GuestSwitch(String bootstrap, Topics topics) {
        this.bootstrap = bootstrap;
        this.topics = topics;
    }

    Optional<RootControlState> flip(String host, String root, ControlAction action, Duration wait) {
        ControlCommand cmd = ControlCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setHostId(host)
                .setRootId(root).setAction(action).setReason("kmod qemu test").setIssuedBy("kmod-test")
                .setIssuedAtMs(System.currentTimeMillis()).build();
        try (KafkaConsumer<byte[], byte[]> states = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
            // at the end before sending, so the agent's answer cannot be missed
            List<TopicPartition> parts = states.partitionsFor(topics.rootState(), Duration.ofSeconds(15)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            states.assign(parts);
            states.seekToEnd(parts);
            parts.forEach(states::position);
            send(cmd);
            AvroCodec<RootControlState> codec = AvroCodec.rootControlStates();
            long deadline = System.nanoTime() + wait.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : states.poll(Duration.ofMillis(200))) {
                    if (r.value() == null) continue;
                    try {
                        RootControlState s = codec.decode(r.value());
                        if (s.getAppliedCommandId().equals(cmd.getCommandId())) return Optional.of(s);
                    } catch (UndecodableRecordException e) {
                        // not a state this test reads; the answer to its command is still to come
                    }
                }
            }
            return Optional.empty();
        }
    }

    private void send(ControlCommand cmd) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
            producer.send(new ProducerRecord<>(topics.control(), ControlKey.of(cmd.getHostId(), cmd.getRootId()),
                    AvroCodec.controlCommands().encode(cmd))).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not publish the " + cmd.getAction() + ": " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted publishing the " + cmd.getAction(), e);
        }
    }
}
