package io.rtbackup.testkit;

import java.io.IOException;
import java.io.InputStream;

/**
 * One node of a {@link KafkaCluster}: Kafka's own {@code kafka.Kafka} main on a server.properties file
 * ({@code KafkaNodeMain <server.properties>}), plus one thing of ours: the node exits (through Kafka's shutdown hook,
 * a controlled shutdown) when its standard input closes, so a test JVM that dies leaves no broker behind. A shutdown
 * that hangs (the other nodes, and with them the quorum, going at the same moment) is cut short after 30 s.
 */
public final class KafkaNodeMain {
    private KafkaNodeMain() {
    }

    public static void main(String[] args) {
        Thread parentWatch = new Thread(() -> {
            try (InputStream in = System.in) {
                while (in.read() >= 0) {
                    // the parent never writes; EOF means it is gone
                }
            } catch (IOException ignored) {
                // same meaning as EOF
            }
            Thread halt = new Thread(() -> {
                try {
                    Thread.sleep(30_000);
                } catch (InterruptedException ignored) {
                    // halting now is as good
                }
                Runtime.getRuntime().halt(1);
            }, "shutdown-deadline");
            halt.setDaemon(true);
            halt.start();
            System.exit(0);
        }, "parent-watch");
        parentWatch.setDaemon(true);
        parentWatch.start();
        kafka.Kafka.main(args);
    }
}
