package io.rtbackup.worker.transport;

import java.util.function.Consumer;

/** Where given-up records go (the DLQ topic). */
public interface DeadLetterSink {
    /** Sends asynchronously; {@code onDone} runs (on another thread) with null once stored, or with the error. */
    void send(DeadLetter letter, Consumer<Exception> onDone);
}
