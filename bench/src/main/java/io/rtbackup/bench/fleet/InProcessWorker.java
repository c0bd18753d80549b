package io.rtbackup.bench.fleet;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.process.FatalErrorHandler;
import io.rtbackup.topics.Topics;
import io.rtbackup.worker.Worker;
import io.rtbackup.worker.config.WorkerConfig;
import java.time.Duration;
import java.util.OptionalDouble;
import java.util.Properties;

/**
 * A worker in the simulator's JVM: cheap to start (the CI smoke test), but its CPU cannot be told apart from the
 * simulator's and the broker's, so it reports none.
 */
final class InProcessWorker implements SimWorker {
    private final Worker worker;

    private InProcessWorker(Worker worker) {
        this.worker = worker;
    }

    static InProcessWorker start(String bootstrap, Topics topics, Properties workerProps, FatalErrorHandler fatal) {
        Worker w = new Worker(WorkerConfig.fromProperties(workerProps), topics, bootstrap, new PrometheusRegistry(),
            fatal);
        w.start();
        try {
            if (!w.awaitReady(Duration.ofMinutes(2))) {
                w.close();
                throw new IllegalStateException("worker " + w.workerId() + " did not get ready within 2 minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            w.close();
            throw new IllegalStateException("interrupted while starting worker " + w.workerId(), e);
        }
        return new InProcessWorker(w);
    }

    @Override
    public String id() {
        return worker.workerId();
    }

    @Override
    public OptionalDouble cpuSeconds() {
        return OptionalDouble.empty();
    }

    @Override
    public void close() {
        worker.close();
    }
}
