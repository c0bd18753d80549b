package io.rtbackup.bench.fleet;

import java.util.OptionalDouble;

/** One backup worker the simulator runs: started ready, measured, stopped as an operator would stop it. */
interface SimWorker extends AutoCloseable {
    String id();

    /** CPU the worker used so far, seconds; empty when it cannot be measured apart from the simulator. */
    OptionalDouble cpuSeconds();

    /** A clean stop (SIGTERM for a process): the worker commits what is done and closes its clients. */
    @Override
    void close();
}
