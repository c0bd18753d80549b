package io.rtbackup.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The logging of every {@code rtb} process, set up in code (found by logback through {@code META-INF/services}):
 * one appender to standard error, Kafka's chatty INFO lines hidden, and the root level from {@code RTB_LOG_LEVEL}
 * (a system property or the environment; INFO by default). It replaces a {@code logback.xml} because reading one
 * loads logback's XML configurator and the JDK's XML parser, some 500 classes: start-up CPU and resident memory of
 * the agent on every source host (docs/performance.md, "agent memory").
 *
 * <p>An XML configuration still wins when one is given: {@code -Dlogback.configurationFile=FILE}, or a
 * {@code logback-test.xml} or {@code logback.xml} on the class path (the tests'); then this configurator steps
 * aside and logback reads that file as usual.
 */
public final class LogConfiguration extends ContextAwareBase implements Configurator {
    static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{30} - %msg%n";
    /** Loggers quieter than the root: Kafka's own broker and clients are chatty at INFO; their warnings show. */
    static final Map<String, Level> QUIETER = Map.of(
        "org.apache.kafka", Level.WARN,
        "kafka", Level.WARN,
        "state.change.logger", Level.WARN,
        "io.rtbackup.topics.TopicProvisioner", Level.ERROR,
        "org.apache.kafka.controller", Level.ERROR);

    private final Predicate<String> onClassPath;
    private final UnaryOperator<String> setting;

    /** As logback makes it: the class path and system properties of this JVM, then its environment. */
    public LogConfiguration() {
        this(LogConfiguration::resource, name -> System.getProperty(name, System.getenv(name)));
    }

    /**
     * @param onClassPath whether a resource of that name is on the class path
     * @param setting     a system property or, when there is none, the environment variable of that name; null if
     *                    neither
     */
    LogConfiguration(Predicate<String> onClassPath, UnaryOperator<String> setting) {
        this.onClassPath = onClassPath;
        this.setting = setting;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (setting.apply("logback.configurationFile") != null || onClassPath.test("logback-test.xml")
                || onClassPath.test("logback.xml")) {
            return ExecutionStatus.NEUTRAL;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> err = new ConsoleAppender<>();
        err.setContext(context);
        err.setName("ERR");
        err.setTarget("System.err");
        err.setEncoder(encoder);
        err.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(rootLevel(setting.apply("RTB_LOG_LEVEL")));
        root.addAppender(err);
        QUIETER.forEach((name, level) -> context.getLogger(name).setLevel(level));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** {@code RTB_LOG_LEVEL}'s value as a level (TRACE, DEBUG, INFO, WARN, ERROR, OFF); INFO when unset or unknown. */
    static Level rootLevel(String value) {
        return value == null || value.isBlank() ? Level.INFO : Level.toLevel(value.strip(), Level.INFO);
    }

    private static boolean resource(String name) {
        ClassLoader loader = LogConfiguration.class.getClassLoader();
        return loader != null && loader.getResource(name) != null;
    }
}
