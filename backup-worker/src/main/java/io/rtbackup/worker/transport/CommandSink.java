package io.rtbackup.worker.transport;

import io.rtbackup.schema.SyncCommand;
import java.util.function.Consumer;

/** Where commands go (the commands topic, keyed by host, in the partition the host's agent reads). */
public interface CommandSink {
    /** Sends asynchronously; {@code onFailure} runs (on another thread) only if the broker did not take it. */
    void send(SyncCommand command, Consumer<Exception> onFailure);
}
