package io.rtbackup.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.rtbackup.fs.BytePaths;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rtb dlq list}: one line per selected dead letter (offset, time, kind, destination, host:root and paths when
 * the letter names them, reason), or a JSON array with every path in full. Reads the DLQ topic from its beginning
 * without a consumer group ({@link DeadLetterTopicReader}), so listing changes nothing.
 */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = "List the dead letters in the DLQ topic (oldest first). Names are escaped: printable ASCII as is, "
        + "\\\\ \\n \\t \\r and \\xNN for every other byte.",
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:listed (none or some)", "2:usage error", "3:cannot read the DLQ (Kafka unreachable, topic missing)"})
final class DlqListCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Mixin
    DlqSelection selection;

    @Option(names = "--json", description = "Print a JSON array (for scripts); paths in full, escaped as above.")
    boolean json;

    @Override
    public Integer call() throws JsonProcessingException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long now = System.currentTimeMillis();
        selection.validate(now);
        KafkaAccess kafka = selection.kafka();
        KafkaAccess.quietKafkaLogs();
        List<StoredDeadLetter> letters;
        try {
            letters = selection.select(DeadLetterTopicReader.readAll(kafka, selection.topics().dlq(),
                selection.timeout()), Set.of(), now);
        } catch (DeadLetterTopicReader.Unavailable e) {
            err.println("rtb dlq list: " + e.getMessage());
            err.flush();
            return DlqCommand.EXIT_UNAVAILABLE;
        }
        if (json) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (StoredDeadLetter l : letters) rows.add(row(l));
            out.println(JSON.writeValueAsString(rows));
        } else if (letters.isEmpty()) {
            out.println("no dead letters in " + selection.topics().dlq() + " match");
        } else {
            for (StoredDeadLetter l : letters) {
                Optional<ReplayTarget> t = ReplayTarget.of(l);
                out.println(l.offset() + "  " + DlqCommand.time(l.timestampMs()) + "  " + DlqCommand.shown(l.kind())
                    + "  " + DlqCommand.shown(l.destination()) + "  "
                    + t.map(DlqCommand::where).orElse("(host and root unknown)") + "  " + DlqCommand.shown(l.reason()));
            }
        }
        out.flush();
        return 0;
    }

    private static Map<String, Object> row(StoredDeadLetter l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("partition", l.partition());
        m.put("offset", l.offset());
        m.put("timestamp", DlqCommand.time(l.timestampMs()));
        m.put("kind", l.kind());
        m.put("destination", l.destination());
        m.put("reason", l.reason());
        m.put("worker", l.worker());
        m.put("sourceTopic", l.sourceTopic());
        m.put("sourcePartition", l.sourcePartition());
        m.put("sourceOffset", l.sourceOffset());
        m.put("commandId", l.commandId());
        Optional<ReplayTarget> t = ReplayTarget.of(l);
        m.put("host", t.map(ReplayTarget::hostId).orElse(null));
        m.put("root", t.map(ReplayTarget::rootId).orElse(null));
        m.put("wholeRoot", t.map(ReplayTarget::wholeRoot).orElse(null));
        m.put("paths", t.map(x -> x.paths().stream().map(BytePaths::show).toList()).orElse(null));
        m.put("replayable", t.isPresent());
        return m;
    }
}
