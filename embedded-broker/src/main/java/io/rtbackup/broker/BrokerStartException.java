package io.rtbackup.broker;

/** The broker did not come up; the message names the port, the log dir and the cause. */
public class BrokerStartException extends RuntimeException {
    public BrokerStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
