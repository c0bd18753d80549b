package io.rtbackup.bench.fleet;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.process.ExitingFatalErrorHandler;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;

/**
 * A real backup {@link Worker} in a JVM of its own, for the fleet simulator ({@link ChildJvmWorker}): arguments
 * are the bootstrap servers, the topic prefix and a worker properties file. Prints {@value #READY} once every
 * pipeline has joined its group; SIGTERM closes the worker as {@code rtb worker} does.
 */
public final class FleetWorkerMain {
    static final String READY = "FLEET-WORKER-READY";

    private FleetWorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: FleetWorkerMain BOOTSTRAP TOPIC_PREFIX WORKER_PROPERTIES");
            System.exit(2);
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(Path.of(args[2]))) {
            p.load(r);
        }
        Worker worker = new Worker(WorkerConfig.fromProperties(p), Topics.withPrefix(args[1]), args[0],
            new PrometheusRegistry(), ExitingFatalErrorHandler.forThisJvm("fleet worker", Duration.ofSeconds(10)));
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "fleet-worker-shutdown"));
        worker.start();
        if (!worker.awaitReady(Duration.ofMinutes(2))) {
            System.err.println("worker " + worker.workerId() + " did not get ready within 2 minutes");
            System.exit(1);
        }
        System.out.println(READY);
        System.out.flush();
        Thread.currentThread().join();
    }
}
