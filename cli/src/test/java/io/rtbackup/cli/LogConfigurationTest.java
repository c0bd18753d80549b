package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LogConfigurationTest {

    @Test
    void logbackFindsItAsAService() {
        assertThat(ServiceLoader.load(Configurator.class).stream().map(p -> p.type().getName()))
            .contains(LogConfiguration.class.getName());
    }

    @Test
    void configuresWhatTheXmlFileDid() {
        LoggerContext context = new LoggerContext();
        ExecutionStatus status = configurator(Set.of(), Map.of()).configure(context);

        assertThat(status).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.INFO);
        assertThat(context.getLogger("org.apache.kafka.clients.producer.KafkaProducer").getEffectiveLevel())
            .isEqualTo(Level.WARN);
        assertThat(context.getLogger("org.apache.kafka.controller.QuorumController").getEffectiveLevel())
            .isEqualTo(Level.ERROR);
        assertThat(context.getLogger("kafka.server.KafkaServer").getEffectiveLevel()).isEqualTo(Level.WARN);
        assertThat(context.getLogger("io.rtbackup.topics.TopicProvisioner").getEffectiveLevel())
            .isEqualTo(Level.ERROR);
        assertThat(context.getLogger("io.rtbackup.agent.Agent").getEffectiveLevel()).isEqualTo(Level.INFO);

        ConsoleAppender<ILoggingEvent> err = (ConsoleAppender<ILoggingEvent>) root.getAppender("ERR");
        assertThat(err.getTarget()).isEqualTo("System.err");
        assertThat(err.isStarted()).isTrue();
        LoggingEvent event = new LoggingEvent("x", context.getLogger("io.rtbackup.agent.exec.CommandExecutor"),
            Level.WARN, "rsync to {} failed", null, new Object[] {"d"});
        String line = new String(err.getEncoder().encode(event), StandardCharsets.UTF_8);
        assertThat(line).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  i\\.r\\.agent\\.exec\\.CommandExecutor - rsync to d "
            + "failed\\R");
    }

    @Test
    void rootLevelFromRtbLogLevel() {
        LoggerContext context = new LoggerContext();
        configurator(Set.of(), Map.of("RTB_LOG_LEVEL", "debug")).configure(context);
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.DEBUG);

        assertThat(LogConfiguration.rootLevel(null)).isEqualTo(Level.INFO);
        assertThat(LogConfiguration.rootLevel(" ")).isEqualTo(Level.INFO);
        assertThat(LogConfiguration.rootLevel("nonsense")).isEqualTo(Level.INFO);
        assertThat(LogConfiguration.rootLevel("WARN ")).isEqualTo(Level.WARN);
    }

    @Test
    void anXmlFileGivenOrOnTheClassPathWins() {
        for (LogConfiguration c : new LogConfiguration[] {
            configurator(Set.of("logback-test.xml"), Map.of()),
            configurator(Set.of("logback.xml"), Map.of()),
            configurator(Set.of(), Map.of("logback.configurationFile", "/etc/rtb/logback.xml"))}) {
            LoggerContext context = new LoggerContext();
            assertThat(c.configure(context)).isEqualTo(ExecutionStatus.NEUTRAL);
            assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("ERR")).isNull();
        }
    }

    private static LogConfiguration configurator(Set<String> resources, Map<String, String> settings) {
        return new LogConfiguration(resources::contains, settings::get);
    }
}
