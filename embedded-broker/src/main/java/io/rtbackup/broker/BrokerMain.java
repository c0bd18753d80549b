package io.rtbackup.broker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one embedded broker as its own process: {@code BrokerMain <log-dir> <port> <controller-port>}. Prints
 * {@value #READY} followed by the bootstrap address once clients can connect, and stops on SIGTERM or when its
 * standard input closes (so a crashed parent never leaves an orphan broker behind).
 */
public final class BrokerMain {
    public static final String READY = "RTB-BROKER-READY ";

    private BrokerMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: BrokerMain <log-dir> <port> <controller-port>");
            System.exit(2);
        }
        BrokerSettings settings = new BrokerSettings(Path.of(args[0]), Integer.parseInt(args[1]),
            Integer.parseInt(args[2]), Map.of());
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(settings);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stop.countDown();
        }, "broker-shutdown"));
        System.out.println(READY + broker.bootstrapServers());
        System.out.flush();
        Thread stdinWatch = new Thread(() -> {
            try (InputStream in = System.in) {
                while (in.read() >= 0) {
                    // The parent never writes; EOF means it is gone.
                }
            } catch (IOException ignored) {
                // Same meaning as EOF.
            }
            System.exit(0);
        }, "parent-watch");
        stdinWatch.setDaemon(true);
        stdinWatch.start();
        stop.await();
    }
}
