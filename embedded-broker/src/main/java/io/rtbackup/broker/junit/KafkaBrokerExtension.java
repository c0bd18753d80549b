package io.rtbackup.broker.junit;

import io.rtbackup.broker.BrokerSettings;
import io.rtbackup.broker.ChildJvmKafkaBroker;
import io.rtbackup.broker.ContainerKafkaBroker;
import io.rtbackup.broker.EmbeddedKafkaBroker;
import io.rtbackup.broker.KafkaBroker;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests a real Kafka broker: {@code @ExtendWith(KafkaBrokerExtension.class)} and a {@link KafkaBroker}
 * parameter. One broker per test JVM, shared by every test class (JUnit's root store closes it at the end), so
 * tests isolate themselves with their own topic prefix and group ids.
 *
 * <p>The broker kind is one switch, the system property {@code rtb.test.broker}: {@code embedded} (default, Kafka's
 * KRaft server in this JVM), {@code child} (the same in a child JVM), {@code testcontainers} (Docker, where an engine
 * exists), or {@code auto} (testcontainers when Docker answers, embedded otherwise).
 */
public final class KafkaBrokerExtension implements ParameterResolver {
    public static final String SWITCH = "rtb.test.broker";
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(KafkaBrokerExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(NS)
            .getOrComputeIfAbsent("broker", k -> new Holder(startConfigured()), Holder.class).broker;
    }

    static KafkaBroker startConfigured() {
        String kind = System.getProperty(SWITCH, "embedded");
        return switch (kind) {
            case "embedded" -> EmbeddedKafkaBroker.start(BrokerSettings.onFreePorts(EmbeddedKafkaBroker.tempLogDir()));
            case "child" -> ChildJvmKafkaBroker.start(BrokerSettings.onFreePorts(EmbeddedKafkaBroker.tempLogDir()));
            case "testcontainers" -> ContainerKafkaBroker.start(ContainerKafkaBroker.DEFAULT_IMAGE);
            case "auto" -> ContainerKafkaBroker.dockerAvailable()
                ? ContainerKafkaBroker.start(ContainerKafkaBroker.DEFAULT_IMAGE)
                : EmbeddedKafkaBroker.start(BrokerSettings.onFreePorts(EmbeddedKafkaBroker.tempLogDir()));
            default -> throw new IllegalArgumentException("-D" + SWITCH + "=" + kind
                + " is not one of embedded, child, testcontainers, auto");
        };
    }

    /** Closed by JUnit when the root context (the whole test run of this JVM) ends. */
    private record Holder(KafkaBroker broker) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            broker.close();
        }
    }
}
