package io.rtbackup.cli;

import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.topics.TopicProvisioner;
import io.rtbackup.topics.Topics;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rtb broker}: a single-node KRaft broker with the rtbackup topics, in the foreground. */
@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Run a single-node Kafka (KRaft) broker with the rtbackup topics until interrupted.")
final class BrokerCommand implements Callable<Integer> {

    @Option(names = "--state-dir", description = "Broker log dir parent (default: ${DEFAULT-VALUE}).",
        defaultValue = "${user.home}/.rtb")
    Path stateDir;

    @Option(names = "--port", description = "Client port on 127.0.0.1 (default: ${DEFAULT-VALUE}).", defaultValue = "9092")
    int port;

    @Option(names = "--controller-port", description = "KRaft controller port on 127.0.0.1 (default: ${DEFAULT-VALUE}).",
        defaultValue = "9093")
    int controllerPort;

    @Override
    public Integer call() throws InterruptedException {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(
            new BrokerSettings(stateDir.resolve("kafka"), port, controllerPort, Map.of()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "rtb-broker-shutdown"));
        TopicProvisioner.ensure(broker.bootstrapServers(), Topics.defaults());
        System.out.println("rtb broker: Kafka at " + broker.bootstrapServers() + " (state " + stateDir
            + "), topics ready; Ctrl-C stops it");
        stopped.await();
        return 0;
    }
}
