package io.rtbackup.cli;

import io.rtbackup.schema.AvroCodec;

/**
 * Loads, on a thread of its own, what {@code rtb agent} needs before it watches but reaches last: the event codec
 * (Avro's schema parser and the Jackson it parses with, about a quarter of the classes loaded before watching;
 * docs/performance.md). It runs beside the command line, the configuration and the logging set-up, so the main
 * thread finds those classes loaded and initialised when it builds the event publisher. It only loads and discards:
 * nothing depends on it having run, and a failure here is the main thread's to meet again (and report) when it
 * builds the same codec.
 */
final class AgentWarmUp {
    private AgentWarmUp() {
    }

    /** Starts the warm-up (a daemon thread, ended with its work) and returns at once. */
    static void start() {
        Thread t = new Thread(AgentWarmUp::load, "rtb-agent-warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }

    private static void load() {
        try {
            AvroCodec.fileEvents();
        } catch (RuntimeException | LinkageError e) {
            // nothing lost: the publisher builds the codec itself, and fails there with this cause if it must
        }
    }
}
