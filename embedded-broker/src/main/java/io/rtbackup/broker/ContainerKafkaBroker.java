package io.rtbackup.broker;

import org.testcontainers.kafka.KafkaContainer;

/**
 * Kafka in a Docker container through Testcontainers, for machines that have a Docker engine. The dependency is
 * optional: this class is only loaded when the fixture is switched to it.
 */
public final class ContainerKafkaBroker implements KafkaBroker {
    public static final String DEFAULT_IMAGE = "apache/kafka:4.1.0";

    private final KafkaContainer container;

    private ContainerKafkaBroker(KafkaContainer container) {
        this.container = container;
    }

    public static ContainerKafkaBroker start(String image) {
        KafkaContainer c = new KafkaContainer(image)
            .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
            .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
        try {
            c.start();
        } catch (RuntimeException e) {
            throw new BrokerStartException("Kafka container " + image + " failed to start: " + e.getMessage()
                + ". Check the Docker engine (DOCKER_HOST) or use -Drtb.test.broker=embedded", e);
        }
        return new ContainerKafkaBroker(c);
    }

    /** True when a Docker engine is reachable from here. */
    public static boolean dockerAvailable() {
        try {
            return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | NoClassDefFoundError e) {
            return false;
        }
    }

    @Override
    public String bootstrapServers() {
        return container.getBootstrapServers();
    }

    @Override
    public String kind() {
        return "testcontainers";
    }

    @Override
    public void close() {
        container.stop();
    }
}
