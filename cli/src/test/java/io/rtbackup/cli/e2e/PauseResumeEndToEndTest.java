package io.rtbackup.cli.e2e;

import static io.rtbackup.fs.BytePaths.join;
import static io.rtbackup.fs.BytePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.broker.KafkaBroker;
import io.rtbackup.broker.junit.KafkaBrokerExtension;
import io.rtbackup.cli.Rtb;
import io.rtbackup.fs.ByteFs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * {@code rtb pause} and {@code rtb resume} as an operator runs them against a fleet (through Kafka, naming the host),
 * with a real agent, worker and rsync daemons: the pause is applied and shown by {@code rtb status}, a change made
 * while paused reaches no destination, and the resume reports what it caught up, after which the change is on both.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PauseResumeEndToEndTest {

    record Run(int exit, String out, String err) {
    }

    private static Run rtb(Fleet fleet, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap-servers", fleet.broker.bootstrapServers(), "--topic-prefix", fleet.topicPrefix));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = new CommandLine(new Rtb()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
            .execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void pauseHoldsTheRootBackAndResumeCatchesItUp(KafkaBroker broker) throws Exception {
        try (Fleet fleet = new Fleet(broker)) {
            fleet.startWorker().startAgent();
            ByteFs.write(join(fleet.source, utf8("before.txt")), utf8("before"));
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(60));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(60));

            Run pause = rtb(fleet, "pause", "--host", Fleet.HOST, "--root", Fleet.ROOT, "--reason", "disk swap");
            assertThat(pause.exit()).as(pause.err()).isZero();
            assertThat(pause.out()).contains("rtb pause: root " + Fleet.ROOT + " of host " + Fleet.HOST
                + ": paused: capture and commands off").contains("reason: disk swap");

            ByteFs.write(join(fleet.source, utf8("while-paused.txt")), utf8("held back"));
            Thread.sleep(8_000);
            assertThat(ByteFs.exists(join(fleet.replica(fleet.d1), utf8("while-paused.txt")))).isFalse();
            assertThat(ByteFs.exists(join(fleet.replica(fleet.d2), utf8("while-paused.txt")))).isFalse();

            Run status = rtb(fleet, "status");
            assertThat(status.out()).contains("paused roots:").contains(Fleet.HOST + ":" + Fleet.ROOT + "  PAUSED since")
                .contains(": disk swap");

            // Without --root: every root the host's agent reported (here its one root).
            Run resume = rtb(fleet, "resume", "--host", Fleet.HOST);
            assertThat(resume.exit()).as(resume.err()).isZero();
            assertThat(resume.out()).contains("rtb resume: root " + Fleet.ROOT + " of host " + Fleet.HOST
                + ": resumed: caught up 2 changed path(s) in 2 replica tree(s)");
            fleet.awaitConverged(fleet.d1, Duration.ofSeconds(30));
            fleet.awaitConverged(fleet.d2, Duration.ofSeconds(30));
            assertThat(rtb(fleet, "status").out()).contains("paused roots: none");

            // A host nobody runs: the command stays on the topic, and the CLI says it was not applied yet.
            Run absent = rtb(fleet, "pause", "--host", "no-such-host", "--root", Fleet.ROOT, "--wait-s", "2");
            assertThat(absent.exit()).isEqualTo(1);
            assertThat(absent.out()).contains("sent, but its agent has not applied it");
            assertThat(rtb(fleet, "status").out()).contains("no-such-host:" + Fleet.ROOT)
                .contains("pause requested").contains("not applied yet");
        }
    }
}
