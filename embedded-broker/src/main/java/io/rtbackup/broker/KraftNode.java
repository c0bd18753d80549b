package io.rtbackup.broker;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import kafka.server.BrokerServer;
import kafka.server.ControllerServer;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.server.Server;
import kafka.server.SharedServer;
import kafka.server.StandardFaultHandlerFactory;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.controller.Controller;
import org.apache.kafka.metadata.bootstrap.BootstrapMetadata;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble;
import org.apache.kafka.raft.QuorumConfig;
import org.apache.kafka.server.ProcessRole;
import org.apache.kafka.server.ServerSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Kafka's combined KRaft node (a controller and a broker sharing one metadata log), built from the same parts as
 * Kafka's own {@code KafkaRaftServer} but started in two steps, controller then broker, so that something can be done
 * with the controller before the broker registers with it ({@link PreviousIncarnation}). {@code KafkaRaftServer}
 * starts the same two parts in the same order, without the pause.
 *
 * <p>Contract: only a combined node that is the quorum's only voter ({@code process.roles=broker,controller},
 * {@code controller.quorum.voters} naming this node alone, as {@code broker-config/server.properties} has it): its
 * controller then holds no registration of a live broker before its own broker starts. {@link #shutdown} stops
 * whatever was started, broker first (as {@code KafkaRaftServer} does), and may be called after a failed start.
 */
final class KraftNode {
    private static final Logger log = LoggerFactory.getLogger(KraftNode.class);

    private final ControllerServer controller;
    private final BrokerServer broker;

    private KraftNode(ControllerServer controller, BrokerServer broker) {
        this.controller = controller;
        this.broker = broker;
    }

    /** The parts of a combined node for {@code config} (process.roles=broker,controller); nothing started yet. */
    static KraftNode create(KafkaConfig config, Time time) {
        requireSingleCombinedNode(config);
        Tuple2<MetaPropertiesEnsemble, BootstrapMetadata> dirs =
            KafkaRaftServer.initializeLogDirs(config, log, "[KraftNode id=" + config.nodeId() + "] ");
        MetaPropertiesEnsemble ensemble = dirs._1();
        Metrics metrics = Server.initializeMetrics(config, time, ensemble.clusterId().get());
        SharedServer shared = new SharedServer(config, ensemble, time, metrics,
            CompletableFuture.completedFuture(QuorumConfig.parseVoterConnections(config.quorumConfig().voters())),
            QuorumConfig.parseBootstrapServers(config.quorumConfig().bootstrapServers()),
            new StandardFaultHandlerFactory(), ServerSocketFactory.INSTANCE);
        return new KraftNode(new ControllerServer(shared, KafkaRaftServer.configSchema(), dirs._2()),
            new BrokerServer(shared));
    }

    private static void requireSingleCombinedNode(KafkaConfig config) {
        if (!config.processRoles().contains(ProcessRole.BrokerRole)
                || !config.processRoles().contains(ProcessRole.ControllerRole)) {
            throw new IllegalArgumentException("process.roles is " + config.processRoles().mkString(",") + ": the "
                + "embedded broker runs a combined node only (process.roles=broker,controller); remove the override");
        }
        Set<Integer> voters = QuorumConfig.parseVoterIds(config.quorumConfig().voters());
        if (!voters.equals(Set.of(config.nodeId()))) {
            throw new IllegalArgumentException("controller.quorum.voters names nodes " + voters + ": the embedded "
                + "broker is the quorum's only voter (node.id " + config.nodeId() + "); remove the override");
        }
    }

    /** Starts the controller: it listens when this returns, and becomes the active controller soon after. */
    void startController() {
        controller.startup();
    }

    /** This node's controller, for requests made in-process. */
    Controller controller() {
        return controller.controller();
    }

    /** Starts the broker; returns once it is registered and unfenced (as {@code KafkaRaftServer#startup} does). */
    void startBroker() {
        broker.startup();
    }

    /** Stops the broker, then the controller, and waits for both; either may never have been started. */
    void shutdown() {
        broker.shutdown();
        controller.shutdown();
        broker.awaitShutdown();
        controller.awaitShutdown();
    }
}
