package io.rtbackup.topics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics of a {@link TopicCatalog} that do not exist and checks the ones that do. Used at start by the
 * embedded mode, by workers, by the tests and by docker-compose, so there is one definition of every topic.
 *
 * <p>Replication is lowered to the cluster's size (with a warning), so the one catalog serves a single-node
 * broker and a fleet. An existing topic with fewer partitions than the catalog asks for is an error: key-to-partition
 * mapping would silently differ from what the operator configured. Other config differences are logged, not
 * changed: an operator may have tuned them on purpose.
 *
 * <p>The commands topic is the one exception to "never change partitions": it is sized to the fleet. The number of
 * agents is the number of agent consumer groups ({@link AgentGroup}: every agent commits its position under one at
 * its first start), and the topic gets {@link CommandPartitions#forFleet} partitions for it: created with them, or
 * grown to them when the fleet has outgrown the topic (commands are transient and keyed by host; agents and workers
 * follow the new count, see {@link CommandPartitions}). The results topic likewise follows the number of workers
 * (the distinct workers among the static members of the destinations' groups, {@link DestinationGroup#member}):
 * {@link ResultPartitions#forWorkers} partitions, so a worker reads about its own results only.
 */
public final class TopicProvisioner {
    private static final Logger log = LoggerFactory.getLogger(TopicProvisioner.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final Admin admin;
    private final TopicCatalog catalog;

    public TopicProvisioner(Admin admin, TopicCatalog catalog) {
        this.admin = admin;
        this.catalog = catalog;
    }

    /** Convenience: a short-lived Admin client on {@code bootstrapServers} with the shipped catalog. */
    public static void ensure(String bootstrapServers, Topics topics) {
        ensure(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), topics);
    }

    /**
     * As {@link #ensure(String, Topics)}, with a client built from {@code clientProperties}: bootstrap.servers and
     * the security settings (TLS, SASL) of the {@code kafka.*} section, as {@code KafkaClientSettings} resolves it.
     */
    public static void ensure(Map<String, String> clientProperties, Topics topics) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "rtb-topic-provisioner");
        try (Admin admin = Admin.create(props)) {
            new TopicProvisioner(admin, TopicCatalog.load()).ensure(topics);
        }
    }

    /** Creates what is missing and validates the rest; throws {@link TopicSetupException} naming the topic. */
    public void ensure(Topics topics) {
        try {
            int brokers = admin.describeCluster().nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).size();
            Set<String> existing = admin.listTopics().names().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            List<String> groups = admin.listGroups().all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).stream()
                .map(GroupListing::groupId).toList();
            int commandPartitions = commandPartitions(groups);
            int resultPartitions = resultPartitions(groups);
            List<NewTopic> toCreate = new ArrayList<>();
            for (TopicSpec spec : catalog.specs()) {
                String name = topics.forRole(spec.role());
                int partitions = switch (spec.role()) {
                    case "commands" -> commandPartitions;
                    case "results" -> resultPartitions;
                    default -> spec.partitions();
                };
                if (!existing.contains(name)) toCreate.add(newTopic(name, spec, partitions, brokers));
            }
            if (!toCreate.isEmpty()) {
                create(toCreate);
                // Metadata of new topics reaches the broker's cache a moment after creation: describing them
                // before that fails with UnknownTopicOrPartition.
                awaitLeaders(topics);
            }
            validateOnceKnown(topics);
            grow(topics.commands(), commandPartitions, "the fleet has outgrown", "at most "
                + CommandPartitions.HOSTS_PER_PARTITION + " hosts per partition; agents and workers move the hosts "
                + "whose partition changes within a metadata refresh");
            grow(topics.results(), resultPartitions, "the workers have outgrown", "at most "
                + ResultPartitions.WORKERS_PER_PARTITION + " worker(s) per partition; a worker whose partition "
                + "changes reads its old one too until the agents have noticed");
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new TopicSetupException("cannot set up topics " + topics + " on the cluster: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TopicSetupException("interrupted while setting up topics " + topics, e);
        }
    }

    /** The commands topic's size for the agents known to the cluster (see {@link CommandPartitions}). */
    private int commandPartitions(List<String> groups) {
        long agents = groups.stream().filter(AgentGroup::isAgentGroup).count();
        return CommandPartitions.forFleet(agents, catalog.spec("commands").partitions());
    }

    /**
     * The results topic's size for the live workers: the distinct worker ids among the static members of every
     * destination's group (see {@link ResultPartitions}). A worker being started is not counted yet; the next
     * start of any worker (or {@code rtb broker}) counts it.
     */
    private int resultPartitions(List<String> groups) throws InterruptedException, ExecutionException,
            TimeoutException {
        Map<String, String> destinations = new HashMap<>();
        for (String g : groups) DestinationGroup.destinationOf(g).ifPresent(d -> destinations.put(g, d));
        Set<String> workers = new HashSet<>();
        if (!destinations.isEmpty()) {
            Map<String, ConsumerGroupDescription> described = admin.describeConsumerGroups(destinations.keySet())
                .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            for (var e : described.entrySet()) {
                String destination = destinations.get(e.getKey());
                for (MemberDescription m : e.getValue().members()) {
                    m.groupInstanceId().flatMap(id -> DestinationGroup.workerOf(id, destination)).ifPresent(workers::add);
                }
            }
        }
        return ResultPartitions.forWorkers(workers.size(), catalog.spec("results").partitions());
    }

    /** Adds partitions to {@code name} up to {@code wanted} (a no-op when it has as many or more). */
    private void grow(String name, int wanted, String outgrown, String rule) throws InterruptedException,
            ExecutionException, TimeoutException {
        int now = admin.describeTopics(List.of(name)).allTopicNames().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .get(name).partitions().size();
        if (now >= wanted) return;
        log.info("topic {}: {} {} partitions; growing it to {} ({})", name, outgrown, now, wanted, rule);
        try {
            admin.createPartitions(Map.of(name, NewPartitions.increaseTo(wanted))).all()
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            // Another worker grew it at the same moment: what matters is that it has enough now.
            if (!(e.getCause() instanceof InvalidPartitionsException)) throw e;
        }
    }

    private NewTopic newTopic(String name, TopicSpec spec, int partitions, int brokers) {
        short rf = spec.replicationFactor();
        Map<String, String> configs = new HashMap<>(spec.configs());
        if (rf > brokers) {
            log.warn("topic {}: the catalog asks for replication factor {} but the cluster has {} broker(s); "
                + "creating it with {} (add brokers and reassign partitions for durability)", name, rf, brokers, brokers);
            rf = (short) brokers;
        }
        String minIsr = configs.get("min.insync.replicas");
        if (minIsr != null && Integer.parseInt(minIsr) > rf) configs.put("min.insync.replicas", String.valueOf(rf));
        return new NewTopic(name, partitions, rf).configs(configs);
    }

    private void create(List<NewTopic> toCreate) throws InterruptedException, ExecutionException, TimeoutException {
        var result = admin.createTopics(toCreate);
        for (var entry : result.values().entrySet()) {
            try {
                entry.getValue().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                log.info("created topic {}", entry.getKey());
            } catch (ExecutionException e) {
                // Another process (a second worker, the embedded mode) may have created it at the same moment.
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
            }
        }
    }

    /** New partitions take a moment to get a leader; clients that start right away would only see retries. */
    private void awaitLeaders(Topics topics) throws InterruptedException, ExecutionException, TimeoutException {
        List<String> names = catalog.specs().stream().map(s -> topics.forRole(s.role())).toList();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Map<String, TopicDescription> d =
                    admin.describeTopics(names).allTopicNames().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                boolean allLed = d.values().stream().flatMap(t -> t.partitions().stream())
                    .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
                if (allLed) return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) throw e;
            }
            Thread.sleep(50);
        }
        throw new TopicSetupException("topics " + names + " still have partitions without a leader after "
            + TIMEOUT.toSeconds() + " s; check the broker's log", null);
    }

    /**
     * A new topic reaches each broker's metadata at its own pace: on a cluster, a broker that has not heard of it yet
     * answers describe requests with UnknownTopicOrPartition although another one already showed it led.
     */
    private void validateOnceKnown(Topics topics) throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            try {
                validate(topics);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) throw e;
                Thread.sleep(100);
            }
        }
    }

    private void validate(Topics topics) throws InterruptedException, ExecutionException, TimeoutException {
        List<String> names = catalog.specs().stream().map(s -> topics.forRole(s.role())).toList();
        Map<String, TopicDescription> descriptions =
            admin.describeTopics(names).allTopicNames().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Collection<ConfigResource> resources = names.stream()
            .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
        Map<ConfigResource, Config> configs =
            admin.describeConfigs(resources).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        for (TopicSpec spec : catalog.specs()) {
            String name = topics.forRole(spec.role());
            int partitions = descriptions.get(name).partitions().size();
            if (partitions < spec.partitions()) {
                throw new TopicSetupException("topic " + name + " has " + partitions + " partitions but "
                    + "broker-config/topics.properties asks for " + spec.partitions() + " (" + spec.role()
                    + ".partitions); add partitions with kafka-topics.sh --alter --partitions " + spec.partitions()
                    + " --topic " + name + " or lower the setting", null);
            }
            Config actual = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name));
            for (var wanted : spec.configs().entrySet()) {
                ConfigEntry entry = actual.get(wanted.getKey());
                String value = entry == null ? null : entry.value();
                if (wanted.getKey().equals("min.insync.replicas")) continue; // lowered to the cluster's size
                if (!wanted.getValue().equals(value)) {
                    log.warn("topic {}: {} is '{}' but broker-config/topics.properties says '{}' ({}.config.{}); "
                        + "leaving it as the operator set it", name, wanted.getKey(), value, wanted.getValue(),
                        spec.role(), wanted.getKey());
                }
            }
        }
    }
}
