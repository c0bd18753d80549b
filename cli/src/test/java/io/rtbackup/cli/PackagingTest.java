package io.rtbackup.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.config.CaptureConfig;
import io.rtbackup.agent.config.ExecConfig;
import io.rtbackup.worker.config.WorkerConfig;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * These machines have no Docker engine or systemd to try the packaging with, so the files are checked for what
 * breaks them in practice: commands the CLI does not accept, config files that are missing or do not parse,
 * destinations and brokers that point at services that do not exist.
 */
class PackagingTest {
    static final Path REPO = Path.of(System.getProperty("rtb.repo.root", "..")).toAbsolutePath().normalize();

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<String> strings(Object o) {
        return (List<String>) o;
    }

    static Object yaml(String text) {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    }

    static Properties properties(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Properties p = new Properties();
            p.load(r);
            return p;
        }
    }

    /** Parses an rtb command line exactly as the CLI would (without running it); returns the subcommand's parse. */
    static ParseResult parseRtb(List<String> args) {
        ParseResult top = new CommandLine(new Rtb()).parseArgs(args.toArray(String[]::new));
        assertThat(top.hasSubcommand()).as("rtb %s names a subcommand", args).isTrue();
        return top.subcommand();
    }

    static WorkerConfig parseWorker(Properties p) {
        Properties copy = new Properties();
        copy.putAll(p);
        copy.remove("kafka.bootstrap.servers"); // the command line takes it out before WorkerConfig sees the rest
        return WorkerConfig.fromProperties(copy);
    }

    @Test
    void composeServicesRunRealCommandsWithConfigsThatExistAndParse() throws IOException {
        Map<String, Object> compose = map(yaml(Files.readString(REPO.resolve("docker-compose.yml"))));
        Map<String, Object> services = map(compose.get("services"));
        assertThat(services).containsKeys("kafka", "rsync-a", "rsync-b", "worker-1", "worker-2", "agent");

        Set<String> declaredVolumes = map(compose.get("volumes")).keySet();
        Set<String> agentDestinations = new TreeSet<>();
        Map<String, String> agentDestinationHosts = new HashMap<>();
        Set<String> rsyncModules = new TreeSet<>();
        List<WorkerConfig> workers = new ArrayList<>();
        Set<String> workerIds = new TreeSet<>();
        List<String> bootstrapHosts = new ArrayList<>();

        for (var entry : services.entrySet()) {
            String name = entry.getKey();
            Map<String, Object> svc = map(entry.getValue());
            Map<String, Path> mounts = new LinkedHashMap<>(); // container path -> file in the repository
            for (String volume : strings(svc.getOrDefault("volumes", List.of()))) {
                String[] parts = volume.split(":");
                if (parts[0].startsWith("./")) {
                    Path host = REPO.resolve(parts[0].substring(2)).normalize();
                    assertThat(host).as("%s mounts %s", name, parts[0]).exists();
                    mounts.put(parts[1], host);
                } else {
                    assertThat(declaredVolumes).as("%s uses named volume %s", name, parts[0]).contains(parts[0]);
                }
            }
            if (svc.containsKey("build")) {
                Path dockerfile = REPO.resolve(String.valueOf(map(svc.get("build")).get("dockerfile")));
                assertThat(dockerfile).as("%s builds from", name).exists();
                assertThat(Files.readString(dockerfile)).contains("io.rtbackup.cli.Rtb");
            }
            Object entrypoint = svc.get("entrypoint");
            List<String> command = strings(svc.getOrDefault("command", List.of()));
            if (name.equals("kafka")) {
                // The broker image is the same Kafka version the project's clients are built against.
                String pom = Files.readString(REPO.resolve("pom.xml"));
                Matcher v = Pattern.compile("<kafka.version>([^<]+)</kafka.version>").matcher(pom);
                assertThat(v.find()).isTrue();
                assertThat(svc.get("image")).isEqualTo("apache/kafka:" + v.group(1));
                assertThat(map(svc.get("environment")).get("KAFKA_PROCESS_ROLES")).isEqualTo("broker,controller");
            } else if (entrypoint != null) {
                assertThat(strings(entrypoint)).as("%s: only rsync daemons replace the rtb entrypoint", name)
                    .containsExactly("rsync");
                assertThat(command).contains("--daemon", "--no-detach");
                String configArg = command.stream().filter(a -> a.startsWith("--config=")).findFirst().orElseThrow();
                Path conf = mounts.get(configArg.substring("--config=".length()));
                assertThat(conf).as("%s: its rsyncd.conf is mounted from the repository", name).isNotNull();
                String text = Files.readString(conf);
                Matcher module = Pattern.compile("(?m)^\\s*\\[([^\\]]+)\\]").matcher(text);
                while (module.find()) rsyncModules.add(module.group(1));
                Matcher secrets = Pattern.compile("(?m)^\\s*secrets file\\s*=\\s*(\\S+)").matcher(text);
                while (secrets.find()) {
                    assertThat(mounts).as("%s: secrets file is mounted", name).containsKey(secrets.group(1));
                }
            } else {
                ParseResult sub = parseRtb(command);
                String role = sub.commandSpec().name();
                String configPath = sub.matchedOptionValue("--config", (Path) null).toString();
                Path file = mounts.get(configPath);
                assertThat(file).as("%s: --config %s is mounted from the repository", name, configPath).isNotNull();
                Properties p = properties(file);
                bootstrapHosts.add(p.getProperty("kafka.bootstrap.servers"));
                if (role.equals("agent")) {
                    Map<String, String> env = new HashMap<>();
                    map(svc.getOrDefault("environment", Map.of())).forEach((k, val) -> env.put(k, String.valueOf(val)));
                    CaptureConfig capture = CaptureConfig.parse(p);
                    assertThat(capture.roots()).isNotEmpty();
                    ExecConfig exec = ExecConfig.from(p, env);
                    exec.destinations().forEach((dest, d) -> {
                        agentDestinations.add(dest);
                        assertThat(d.password()).as("%s: destination %s has a password", name, dest).isPresent();
                        ExecConfig.DaemonTarget t = (ExecConfig.DaemonTarget) d.target();
                        agentDestinationHosts.put(dest, t.host() + "/" + t.module());
                    });
                } else {
                    assertThat(role).as("%s runs a pipeline role", name).isEqualTo("worker");
                    WorkerConfig w = parseWorker(p);
                    workers.add(w);
                    workerIds.add(w.workerId());
                }
            }
        }
        assertThat(workers).hasSize(2);
        assertThat(workerIds).as("each worker has its own id").hasSize(2);
        for (WorkerConfig w : workers) {
            assertThat(w.destinations().stream().map(d -> d.name()).toList())
                .as("workers route to the destinations the agent knows").containsExactlyInAnyOrderElementsOf(agentDestinations);
        }
        agentDestinationHosts.forEach((dest, hostModule) -> {
            String[] hm = hostModule.split("/");
            assertThat(services).as("destination %s points at a service", dest).containsKey(hm[0]);
            assertThat(rsyncModules).as("destination %s names a served module", dest).contains(hm[1]);
        });
        for (String bootstrap : bootstrapHosts) {
            assertThat(services).as("kafka.bootstrap.servers=%s names a service", bootstrap)
                .containsKey(bootstrap.split(":")[0]);
        }
    }

    static Map<String, List<String>> unit(String file) throws IOException {
        Map<String, List<String>> settings = new LinkedHashMap<>();
        for (String line : Files.readAllLines(REPO.resolve("packaging/systemd").resolve(file))) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#") || t.startsWith("[")) continue;
            int eq = t.indexOf('=');
            settings.computeIfAbsent(t.substring(0, eq), k -> new ArrayList<>()).add(t.substring(eq + 1));
        }
        return settings;
    }

    static String one(Map<String, List<String>> unit, String key) {
        assertThat(unit).as("setting %s", key).containsKey(key);
        assertThat(unit.get(key)).as("setting %s once", key).hasSize(1);
        return unit.get(key).get(0);
    }

    static ParseResult execStart(Map<String, List<String>> unit) {
        List<String> argv = List.of(one(unit, "ExecStart").split("\\s+"));
        assertThat(argv.get(0)).isEqualTo("/usr/bin/rtb");
        return parseRtb(argv.subList(1, argv.size()));
    }

    @Test
    void systemdUnitsRunRealSubcommandsWithTheirHardening() throws IOException {
        for (String file : List.of("rtbackup-agent.service", "rtbackup-worker.service", "rtbackup-broker.service")) {
            Map<String, List<String>> u = unit(file);
            assertThat(one(u, "ProtectSystem")).as(file).isEqualTo("strict");
            assertThat(one(u, "PrivateTmp")).as(file).isEqualTo("yes");
            assertThat(one(u, "NoNewPrivileges")).as(file).isEqualTo("yes");
            String state = one(u, "StateDirectory");
            assertThat(one(u, "ReadWritePaths")).as(file).contains("/var/lib/" + state);
        }
        Map<String, List<String>> agent = unit("rtbackup-agent.service");
        assertThat(execStart(agent).commandSpec().name()).isEqualTo("agent");
        assertThat(Set.of(one(agent, "CapabilityBoundingSet").split(" ")))
            .containsExactlyInAnyOrder("CAP_SYS_ADMIN", "CAP_DAC_READ_SEARCH");
        assertThat(one(agent, "AmbientCapabilities")).isEqualTo(one(agent, "CapabilityBoundingSet"));

        Map<String, List<String>> worker = unit("rtbackup-worker.service");
        assertThat(execStart(worker).commandSpec().name()).isEqualTo("worker");
        assertThat(one(worker, "DynamicUser")).isEqualTo("yes");
        assertThat(one(worker, "CapabilityBoundingSet")).isEmpty();
        assertThat(one(worker, "AmbientCapabilities")).isEmpty();
    }

    @Test
    void brokerAndPerUserUpUnitsRunRealSubcommands() throws IOException {
        Map<String, List<String>> broker = unit("rtbackup-broker.service");
        ParseResult b = execStart(broker);
        assertThat(b.commandSpec().name()).isEqualTo("broker");
        String state = one(broker, "StateDirectory");
        assertThat(b.matchedOptionValue("--state-dir", (Path) null)).hasToString("/var/lib/" + state);
        assertThat(one(broker, "ReadWritePaths")).isEqualTo("/var/lib/" + state);
        assertThat(one(broker, "DynamicUser")).isEqualTo("yes");
        assertThat(one(broker, "CapabilityBoundingSet")).isEmpty();

        // the user unit passes its arguments as an @file, which rtb (picocli) expands: the shipped example parses
        Map<String, List<String>> up = unit("rtbackup-up.service");
        List<String> argv = List.of(one(up, "ExecStart").split("\\s+"));
        assertThat(argv.subList(0, 2)).containsExactly("/usr/bin/rtb", "up");
        assertThat(argv.get(2)).isEqualTo("@" + one(up, "ConditionPathExists"));
        ParseResult sub = parseRtb(List.of("up", "@" + REPO.resolve("examples/up.args")));
        assertThat(sub.commandSpec().name()).isEqualTo("up");
        List<Path> sources = sub.matchedOptionValue("--source", List.<Path>of());
        assertThat(sources).isNotEmpty().allMatch(Path::isAbsolute);
        assertThat(sub.matchedOptionValue("--dest", List.<String>of())).isNotEmpty();
    }

    @Test
    void kubernetesWorkersRunTheWorkerWithTheirConfigMap() throws IOException {
        Map<String, Map<String, Object>> byKind = new HashMap<>();
        Yaml y = new Yaml(new SafeConstructor(new LoaderOptions()));
        for (Object doc : y.loadAll(Files.readString(REPO.resolve("packaging/k8s/worker-deployment.yaml")))) {
            byKind.put(String.valueOf(map(doc).get("kind")), map(doc));
        }
        assertThat(byKind).containsOnlyKeys("ConfigMap", "Deployment", "NetworkPolicy");
        Map<String, Object> pod = map(map(map(byKind.get("Deployment").get("spec")).get("template")).get("spec"));
        Map<String, Object> container = map(((List<?>) pod.get("containers")).get(0));
        ParseResult sub = parseRtb(strings(container.get("args")));
        assertThat(sub.commandSpec().name()).isEqualTo("worker");
        Path config = sub.matchedOptionValue("--config", (Path) null);

        Map<String, Object> configMap = byKind.get("ConfigMap");
        String mountedAt = ((List<?>) container.get("volumeMounts")).stream().map(PackagingTest::map)
            .filter(m -> m.get("name").equals("config")).map(m -> String.valueOf(m.get("mountPath")))
            .findFirst().orElseThrow();
        assertThat(config.getParent()).hasToString(mountedAt);
        String text = String.valueOf(map(configMap.get("data")).get(config.getFileName().toString()));
        Properties p = new Properties();
        p.load(new StringReader(text));
        assertThat(p.getProperty("kafka.bootstrap.servers")).isNotBlank();
        assertThat(p.getProperty("worker.id")).as("the flag sets it per pod; one in the file would mislead").isNull();
        p.setProperty("worker.id", "rtbackup-worker-5d8f7c9b6-x7k2p"); // what a pod name looks like
        assertThat(parseWorker(p).destinations()).isNotEmpty();
        // Several replicas share the ConfigMap; each pod's name (downward API) is its worker id.
        assertThat((Integer) map(byKind.get("Deployment").get("spec")).get("replicas")).isGreaterThanOrEqualTo(2);
        assertThat(sub.matchedOptionValue("--worker-id", (String) null)).isEqualTo("$(POD_NAME)");
        Map<String, Object> podName = ((List<?>) container.get("env")).stream().map(PackagingTest::map)
            .filter(e -> "POD_NAME".equals(e.get("name"))).findFirst().orElseThrow();
        assertThat(map(map(podName.get("valueFrom")).get("fieldRef")).get("fieldPath")).isEqualTo("metadata.name");
        assertThat(parseWorker(p).workerId()).isEqualTo("rtbackup-worker-5d8f7c9b6-x7k2p");
        // Scrapable from outside the pod, on the port the container declares.
        Integer metricsPort = sub.matchedOptionValue("--metrics-port", (Integer) null);
        assertThat(sub.matchedOptionValue("--metrics-host", (String) null)).isEqualTo("0.0.0.0");
        assertThat(((List<?>) container.get("ports")).stream().map(PackagingTest::map)
            .map(m -> m.get("containerPort"))).contains(metricsPort);
        kubernetesMetricsNeedTheTokenAndOnlyMonitoringReachesThem(byKind, pod, container, sub, metricsPort);
    }

    /**
     * Bound to 0.0.0.0 the worker refuses to start without an owner-only token file: the args name one, an init
     * container puts it there from the Secret (mode 600), and a NetworkPolicy lets only the monitoring namespace
     * reach the metrics port.
     */
    private static void kubernetesMetricsNeedTheTokenAndOnlyMonitoringReachesThem(Map<String, Map<String, Object>> byKind,
            Map<String, Object> pod, Map<String, Object> container, ParseResult sub, Integer metricsPort) {
        Path token = sub.matchedOptionValue("--metrics-token-file", (Path) null);
        assertThat(token).as("the worker binds 0.0.0.0, which needs --metrics-token-file").isNotNull();
        Map<String, String> volumeOfMount = new HashMap<>();
        ((List<?>) container.get("volumeMounts")).stream().map(PackagingTest::map)
            .forEach(m -> volumeOfMount.put(String.valueOf(m.get("mountPath")), String.valueOf(m.get("name"))));
        String tokenVolume = volumeOfMount.get(token.getParent().toString());
        assertThat(tokenVolume).as("the token file's directory is a mounted volume").isNotNull();
        Map<String, Map<String, Object>> volumes = new HashMap<>();
        ((List<?>) pod.get("volumes")).stream().map(PackagingTest::map)
            .forEach(v -> volumes.put(String.valueOf(v.get("name")), v));
        assertThat(volumes.get(tokenVolume)).containsKey("emptyDir");

        // The init container copies the Secret's key into that volume, owner-only.
        Map<String, Object> init = ((List<?>) pod.get("initContainers")).stream().map(PackagingTest::map)
            .filter(c -> ((List<?>) c.get("volumeMounts")).stream().map(PackagingTest::map)
                .anyMatch(m -> tokenVolume.equals(m.get("name"))))
            .findFirst().orElseThrow();
        List<String> copy = strings(init.get("command"));
        assertThat(copy).startsWith("install", "-m", "600").endsWith(token.toString());
        Map<String, String> initMounts = new HashMap<>();
        ((List<?>) init.get("volumeMounts")).stream().map(PackagingTest::map)
            .forEach(m -> initMounts.put(String.valueOf(m.get("name")), String.valueOf(m.get("mountPath"))));
        Path source = Path.of(copy.get(copy.size() - 2));
        String secretVolume = initMounts.entrySet().stream().filter(e -> source.getParent().toString()
            .equals(e.getValue())).map(Map.Entry::getKey).findFirst().orElseThrow();
        assertThat(map(volumes.get(secretVolume).get("secret")).get("secretName")).isEqualTo("rtbackup-metrics-token");
        assertThat(source.getFileName()).hasToString("token");

        // Only the monitoring namespace reaches the workers, and only on the metrics port.
        Map<String, Object> policy = map(byKind.get("NetworkPolicy").get("spec"));
        Map<String, Object> podLabels = map(map(map(map(byKind.get("Deployment").get("spec")).get("template"))
            .get("metadata")).get("labels"));
        assertThat(podLabels).containsAllEntriesOf(map(map(policy.get("podSelector")).get("matchLabels")));
        assertThat(strings(policy.get("policyTypes"))).contains("Ingress");
        List<Map<String, Object>> rules = ((List<?>) policy.get("ingress")).stream().map(PackagingTest::map).toList();
        assertThat(rules).isNotEmpty();
        for (Map<String, Object> rule : rules) {
            assertThat(((List<?>) rule.get("ports")).stream().map(PackagingTest::map).map(m -> m.get("port")))
                .containsOnly(metricsPort);
            List<Map<String, Object>> from = ((List<?>) rule.get("from")).stream().map(PackagingTest::map).toList();
            assertThat(from).isNotEmpty().allSatisfy(peer -> assertThat(map(map(peer.get("namespaceSelector"))
                .get("matchLabels"))).containsEntry("kubernetes.io/metadata.name", "monitoring"));
        }
    }
}
