package io.rtbackup.cli;

import io.rtbackup.schema.signing.RecordSigner;
import io.rtbackup.schema.signing.SigningKey;
import io.rtbackup.schema.signing.SigningSettings;
import java.nio.file.Path;

import io.rtbackup.kafka.KafkaAccessErrors;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rtb dlq replay}: for each selected dead letter whose host, root and paths can be recovered
 * ({@link ReplayTarget}), publishes {@code RESCAN} events for them to the events topic ({@link RescanPublisher});
 * the workers then validate and sync them as any other event, under the host's own config. The DLQ itself is left
 * as it is. A letter that names nothing is reported "cannot replay" and makes the exit code 1.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = {"Bring dead letters back: publish RESCAN events for the paths they name (or their whole root) to "
        + "the events topic, so the workers sync those paths again.",
        "Replay is idempotent in effect: an event is only a hint and replication is state-based, so replaying a "
            + "letter twice just syncs its paths twice. The letters stay in the DLQ."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:every selected letter replayed (or none selected)", "1:some selected letter cannot be replayed "
        + "(it names no host and root)", "2:usage error", "3:cannot read the DLQ or publish the events (Kafka)"})
final class DlqReplayCommand implements Callable<Integer> {
    static final int EXIT_CANNOT_REPLAY = 1;

    @Spec
    CommandSpec spec;

    @Mixin
    DlqSelection selection;

    @Option(names = "--offset", paramLabel = "N", description = "Only the letter at this offset of the DLQ topic "
        + "(repeatable; the offsets rtb dlq list shows).")
    List<Long> offsets;

    @Option(names = "--dry-run", description = "Print what would be replayed; publish nothing.")
    boolean dryRun;

    @Option(names = "--signing-key", paramLabel = "FILE", description = "A private key whose .pub is in the workers' "
        + "signing.keyring, to sign the RESCAN events with (default: signing.key of --config). Workers with a "
        + "keyring refuse unsigned ones (docs/security-signing.md).")
    Path signingKey;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long now = System.currentTimeMillis();
        selection.validate(now);
        KafkaAccess kafka = selection.kafka();
        KafkaAccess.quietKafkaLogs();
        List<StoredDeadLetter> letters;
        try {
            letters = selection.select(DeadLetterTopicReader.readAll(kafka, selection.topics().dlq(),
                selection.timeout()), offsets == null ? Set.of() : new HashSet<>(offsets), now);
        } catch (DeadLetterTopicReader.Unavailable e) {
            err.println("rtb dlq replay: " + e.getMessage());
            err.flush();
            return DlqCommand.EXIT_UNAVAILABLE;
        }
        if (letters.isEmpty()) {
            out.println("no dead letters in " + selection.topics().dlq() + " match; nothing replayed");
            out.flush();
            return 0;
        }
        int cannot = 0;
        String events = selection.topics().events();
        RecordSigner signer = signer();
        try (RescanPublisher publisher = dryRun ? null : new RescanPublisher(kafka, events, selection.timeout(),
            DlqReplayCommand::epochNanos, signer)) {
            for (StoredDeadLetter l : letters) {
                Optional<ReplayTarget> t = ReplayTarget.of(l);
                String head = l.offset() + " " + DlqCommand.shown(l.kind()) + " " + DlqCommand.shown(l.destination());
                if (t.isEmpty()) {
                    cannot++;
                    out.println("cannot replay " + head + ": it names no valid host and root ("
                        + DlqCommand.shown(l.reason()) + ")");
                    continue;
                }
                if (publisher != null) publisher.publish(t.get());
                out.println((dryRun ? "would replay " : "replayed ") + head + ": RESCAN "
                    + DlqCommand.where(t.get()) + " -> " + events);
            }
        } catch (RescanPublisher.Failed e) {
            out.flush();
            err.println("rtb dlq replay: " + KafkaAccessErrors.explain(e).orElse(e.getMessage())
                + "; the letters above were replayed, run again to replay the rest (replaying twice is harmless)");
            err.flush();
            return DlqCommand.EXIT_UNAVAILABLE;
        }
        out.flush();
        return cannot > 0 ? EXIT_CANNOT_REPLAY : 0;
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** The key of {@code --signing-key}, else {@code signing.key} of {@code --config}; none when neither is set. */
    private RecordSigner signer() {
        Path key = signingKey;
        if (key == null && selection.config != null) {
            String k = PropertiesFile.load(spec, selection.config).getProperty(SigningSettings.KEY, "").trim();
            if (!k.isEmpty()) key = Path.of(k);
        }
        if (key == null) return RecordSigner.NONE;
        try {
            return new RecordSigner(SigningKey.load(key));
        } catch (java.io.IOException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--signing-key: " + e.getMessage());
        }
    }
}
