package io.rtbackup.broker;

/** A running Kafka cluster that clients reach at {@link #bootstrapServers()}. */
public interface KafkaBroker extends AutoCloseable {

    /** {@code host:port[,host:port]} for the clients' {@code bootstrap.servers}. */
    String bootstrapServers();

    /** What kind of broker this is, for logs and benchmark output: embedded, child-jvm, testcontainers. */
    String kind();

    /** Stops the broker; its log dir stays, so a new broker on the same dir resumes. */
    @Override
    void close();
}
