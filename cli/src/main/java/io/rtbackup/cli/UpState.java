package io.rtbackup.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;

/**
 * What a running {@code rtb up} records in its state dir, {@code <state>/up.properties}, so that {@code rtb status}
 * with no flags finds its broker: the Kafka address, the topic prefix, the destinations, and which process wrote
 * it. Written at start, after the broker listens, atomically (a temporary file renamed over it) and readable by
 * the owner only; it is kept when {@code rtb up} ends (cleanly or not), and the pid with the process's start
 * time tells a reader whether that very process still runs (a reused pid has another start time).
 *
 * <p>Its keys are those of a worker config that {@code rtb status --config} reads
 * ({@code kafka.bootstrap.servers}, {@code destination.NAME.routes}), plus {@code up.*} for the rest.
 *
 * @param bootstrapServers the embedded broker's address
 * @param topicPrefix      the prefix of the rtb.* topics ("" for none)
 * @param hostId           the host id rtb up backs up as
 * @param destinations     the destination names
 * @param pid              the rtb up process
 * @param processStart     that process's start time, as the OS reports it (empty where it reports none)
 */
record UpState(String bootstrapServers, String topicPrefix, String hostId, List<String> destinations, long pid,
               Optional<Instant> processStart) {
    static final String FILE = "up.properties";
    /** The OS reports a process's start time in clock ticks; two reads of it may round differently. */
    private static final Duration START_TOLERANCE = Duration.ofSeconds(1);

    /** This process's record. */
    static UpState ofThisProcess(String bootstrapServers, String topicPrefix, String hostId, List<String> destinations) {
        ProcessHandle self = ProcessHandle.current();
        return new UpState(bootstrapServers, topicPrefix, hostId, List.copyOf(destinations), self.pid(),
            self.info().startInstant());
    }

    static Path file(Path stateDir) {
        return stateDir.resolve(FILE);
    }

    /** Writes {@code <stateDir>/up.properties} atomically, mode 0600. */
    void write(Path stateDir) throws IOException {
        Properties p = new Properties();
        p.setProperty("kafka.bootstrap.servers", bootstrapServers);
        p.setProperty("up.topic-prefix", topicPrefix);
        p.setProperty("up.host-id", hostId);
        p.setProperty("up.pid", Long.toString(pid));
        processStart.ifPresent(t -> p.setProperty("up.process-start", t.toString()));
        for (String d : destinations) p.setProperty("destination." + d + ".routes", "*:*");
        Path tmp = stateDir.resolve(FILE + ".tmp-" + pid);
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            throw new IOException("cannot write " + tmp + ": it reappeared", e);
        }
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "written by rtb up (pid " + pid + "); read by rtb status");
        }
        Files.move(tmp, file(stateDir), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The record in {@code stateDir}; empty when there is none.
     *
     * @throws IOException when it exists but cannot be read or is not such a record
     */
    static Optional<UpState> read(Path stateDir) throws IOException {
        Path f = file(stateDir);
        if (!Files.exists(f)) return Optional.empty();
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        String bootstrap = p.getProperty("kafka.bootstrap.servers");
        String pid = p.getProperty("up.pid");
        if (bootstrap == null || pid == null || !pid.matches("\\d{1,18}")) {
            throw new IOException(f + " is not a record of rtb up (no kafka.bootstrap.servers or up.pid)");
        }
        Optional<Instant> start;
        try {
            start = Optional.ofNullable(p.getProperty("up.process-start")).map(Instant::parse);
        } catch (DateTimeParseException e) {
            throw new IOException(f + ": up.process-start is not a time: " + e.getMessage(), e);
        }
        List<String> dests = new ArrayList<>();
        for (String k : new TreeSet<>(p.stringPropertyNames())) {
            if (k.startsWith("destination.") && k.endsWith(".routes")) {
                dests.add(k.substring("destination.".length(), k.length() - ".routes".length()));
            }
        }
        return Optional.of(new UpState(bootstrap, p.getProperty("up.topic-prefix", ""), p.getProperty("up.host-id", ""),
            dests, Long.parseLong(pid), start));
    }

    /** Whether the process that wrote this record still runs (the same pid with the same start time). */
    boolean running() {
        Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (h.isEmpty()) return false;
        if (processStart.isEmpty()) return true;
        return h.get().info().startInstant()
            .map(t -> Duration.between(t, processStart.get()).abs().compareTo(START_TOLERANCE) <= 0)
            .orElse(true);
    }
}
