package io.rtbackup.agent.state;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pause decisions of this host's roots, kept in the state directory ({@value #FILE}) so a pause survives
 * restarts even when Kafka cannot be reached at the next start: the agent reads it before capture starts and
 * watches no paused root. One entry per root that ever got a decision: {@code <root>.paused},
 * {@code <root>.since-ms}, {@code <root>.reason}, {@code <root>.issued-by}, {@code <root>.command-id}.
 *
 * <p>Every change is durable ({@link DurableFile}) before {@link #put} returns, so a decision the agent acted on
 * and reported is never forgotten. A file that exists but cannot be parsed fails the start with its name: running
 * on with it ignored would capture a root an operator paused. Thread-safe.
 */
public final class PauseLedger {
    private static final Logger log = LoggerFactory.getLogger(PauseLedger.class);
    static final String FILE = "agent.pauses";

    private final Path file;
    private final Map<String, RootPause> roots;

    private PauseLedger(Path file, Map<String, RootPause> roots) {
        this.file = file;
        this.roots = roots;
    }

    /**
     * The ledger of {@code stateDir} (created if missing); empty on a first start.
     *
     * @throws UncheckedIOException when the file cannot be read or parsed (the message names it and the way out)
     */
    public static PauseLedger load(Path stateDir) {
        Path file = stateDir.resolve(FILE);
        Map<String, RootPause> roots = new TreeMap<>();
        try {
            Files.createDirectories(stateDir);
            String text = Files.readString(file, StandardCharsets.UTF_8);
            Properties p = new Properties();
            p.load(new StringReader(text));
            for (String key : p.stringPropertyNames()) {
                if (!key.endsWith(".paused")) continue;
                String root = key.substring(0, key.length() - ".paused".length());
                roots.put(root, new RootPause(root, Boolean.parseBoolean(p.getProperty(key)),
                    Long.parseLong(p.getProperty(root + ".since-ms", "0")), p.getProperty(root + ".reason"),
                    p.getProperty(root + ".issued-by"), p.getProperty(root + ".command-id")));
            }
        } catch (NoSuchFileException e) {
            return new PauseLedger(file, roots);
        } catch (IOException | IllegalArgumentException e) {
            throw new UncheckedIOException(new IOException("cannot read the pauses of this host's roots from " + file
                + " (" + e.getMessage() + "); repair it, or delete it to resume every root (the next `rtb pause` "
                + "applies again)", e));
        }
        roots.values().stream().filter(RootPause::paused).forEach(r -> log.info("root {} is paused since {} ({}), "
            + "as stored in {}", r.rootId(), r.sinceMs(), r.reason(), file));
        return new PauseLedger(file, roots);
    }

    /** The decision held for {@code rootId}; empty when none was ever applied. */
    public synchronized Optional<RootPause> get(String rootId) {
        return Optional.ofNullable(roots.get(rootId));
    }

    /** The roots paused now. */
    public synchronized Set<String> paused() {
        Set<String> out = new TreeSet<>();
        roots.values().stream().filter(RootPause::paused).forEach(r -> out.add(r.rootId()));
        return out;
    }

    /**
     * Records a decision durably.
     *
     * @throws UncheckedIOException when it cannot be stored; the caller must not act on it then
     */
    public synchronized void put(RootPause decision) {
        Map<String, RootPause> next = new TreeMap<>(roots);
        next.put(decision.rootId(), decision);
        Properties p = new Properties();
        for (RootPause r : next.values()) {
            p.setProperty(r.rootId() + ".paused", Boolean.toString(r.paused()));
            p.setProperty(r.rootId() + ".since-ms", Long.toString(r.sinceMs()));
            p.setProperty(r.rootId() + ".reason", r.reason());
            p.setProperty(r.rootId() + ".issued-by", r.issuedBy());
            p.setProperty(r.rootId() + ".command-id", r.commandId());
        }
        try {
            StringWriter w = new StringWriter();
            p.store(w, "rtbackup agent: pause decisions per root (written by the agent; rtb pause/resume change them)");
            DurableFile.write(file, w.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store the pause of root " + decision.rootId() + " in " + file, e);
        }
        roots.put(decision.rootId(), decision);
    }
}
