package io.rtbackup.cli;

import io.rtbackup.kafka.AclRecipe;
import io.rtbackup.kafka.KafkaAccessErrors;
import io.rtbackup.kafka.KafkaClientSettings;
import io.rtbackup.kafka.SettingException;
import io.rtbackup.topics.Topics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rtb acl}: grants agents and workers the ACLs of their role ({@link AclRecipe}) on a cluster whose
 * authorizer denies by default. Logs in with the {@code kafka.*} settings of {@code --config}, which must be a
 * super user's (or hold ALTER on the cluster). Creating an ACL that exists is a no-op, so it can run at every
 * deployment. With {@code --dry-run} it only prints the bindings.
 */
@Command(name = "acl", mixinStandardHelpOptions = true,
    description = "Grant Kafka ACLs: agents write rtb.events, rtb.results and rtb.root-state and read rtb.commands and "
        + "rtb.control; workers (and operators who pause roots, with a worker's login) the rest.")
final class AclCommand implements Callable<Integer> {
    static final int EXIT_REFUSED = 1;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", description = "Properties file with the admin's kafka.* client settings "
        + "(kafka.bootstrap.servers, kafka.sasl.username, kafka.sasl.password.file, kafka.ssl.truststore.location...).")
    Path config;

    @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers; overrides kafka.bootstrap.servers.")
    String bootstrapServers;

    @Option(names = "--topic-prefix", defaultValue = "", description = "Prefix of the rtb.* topic names (default: none).")
    String topicPrefix;

    @Option(names = "--agent", paramLabel = "PRINCIPAL", description = "An agent's principal, e.g. User:host-web1 "
        + "(repeatable).")
    List<String> agents = new ArrayList<>();

    @Option(names = "--worker", paramLabel = "PRINCIPAL", description = "A worker's principal, e.g. User:rtb-worker "
        + "(repeatable).")
    List<String> workers = new ArrayList<>();

    @Option(names = "--dry-run", description = "Print the ACLs without applying them.")
    boolean dryRun;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (agents.isEmpty() && workers.isEmpty()) throw usage("name at least one --agent or --worker principal");
        for (String p : concat(agents, workers)) {
            if (!p.startsWith("User:") || p.length() == "User:".length()) {
                throw usage("principal '" + p + "' is not User:<name> (the SASL user name)");
            }
        }
        AclRecipe recipe = new AclRecipe(Topics.withPrefix(topicPrefix));
        List<AclBinding> bindings = new ArrayList<>();
        agents.forEach(a -> bindings.addAll(recipe.agent(a)));
        workers.forEach(w -> bindings.addAll(recipe.worker(w)));
        for (AclBinding b : bindings) out.println(describe(b));
        out.flush();
        if (dryRun) return 0;

        Properties props = new Properties();
        props.putAll(clientProperties());
        props.put("client.id", "rtb-acl");
        props.put("default.api.timeout.ms", "60000");
        try (Admin admin = Admin.create(props)) {
            admin.createAcls(bindings).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            err.println("rtb acl: " + KafkaAccessErrors.explain(cause)
                .orElse("cannot create the ACLs at " + props.get("bootstrap.servers") + ": " + cause));
            err.flush();
            return EXIT_REFUSED;
        }
        out.println("rtb acl: " + bindings.size() + " ACLs in place");
        out.flush();
        return 0;
    }

    private Map<String, String> clientProperties() {
        Map<String, String> file = new LinkedHashMap<>();
        if (config != null) {
            Properties p = PropertiesFile.load(spec, config);
            p.stringPropertyNames().forEach(k -> file.put(k, p.getProperty(k)));
        }
        if (bootstrapServers != null) file.put("kafka.bootstrap.servers", bootstrapServers);
        if (file.getOrDefault("kafka.bootstrap.servers", "").isBlank()) {
            throw usage("no Kafka address: pass --bootstrap-servers or --config with kafka.bootstrap.servers");
        }
        try {
            return KafkaClientSettings.fromConfig(file);
        } catch (SettingException e) {
            throw usage((config == null ? "" : config + ": ") + e.getMessage());
        }
    }

    /** One line per ACL, in the terms of kafka-acls.sh. */
    static String describe(AclBinding b) {
        return b.entry().permissionType() + " " + b.entry().principal() + " " + b.entry().operation() + " "
            + b.pattern().resourceType() + " " + b.pattern().name() + " (" + b.pattern().patternType().name()
            .toLowerCase(java.util.Locale.ROOT) + ")";
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), "rtb acl: " + message);
    }
}
