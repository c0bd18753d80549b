package io.rtbackup.cli;

import io.rtbackup.schema.AvroCodec;
import org.slf4j.LoggerFactory;

/**
 * Loads, on a thread of its own, what {@code rtb agent} needs before it watches but reaches last: the event codec
 * (Avro's schema parser and the Jackson it parses with, about a quarter of the classes loaded before watching;
 * docs/performance.md). It runs beside the command line, the configuration and the logging set-up, so the main
 * thread finds those classes loaded and initialised when it builds the event publisher. It only loads and discards:
 * nothing depends on it having run, and a failure here is the main thread's to meet again (and report) when it
 * builds the same codec.
 */
final class AgentWarmUp implements Runnable {
    private AgentWarmUp() {
    }

    /**
     * Sets up logging on the calling thread, then starts the warm-up (a daemon thread, ended with its work) and
     * returns. Logging first: Avro's classes take their loggers as they load, and a logger taken on another thread
     * while SLF4J is still initialising is a substitute that can stay silent (the agent's "capture source ...
     * started" line went missing that way).
     */
    static void start() {
        LoggerFactory.getILoggerFactory();
        // a Runnable of its own, not a lambda: a lambda's class is spun at run time, outside the class-data archive
        Thread t = new Thread(new AgentWarmUp(), "rtb-agent-warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    @Override
    public void run() {
        try {
            AvroCodec.fileEvents();
        } catch (RuntimeException | LinkageError e) {
            // nothing lost: the publisher builds the codec itself, and fails there with this cause if it must
        }
    }
}
