package io.rtbackup.cli;

import java.time.Duration;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rtb} command. Each subcommand is one process role of the system. */
@Command(name = "rtb", mixinStandardHelpOptions = true, versionProvider = Rtb.Version.class,
    description = "rtbackup: real-time remote backup. File changes go through Kafka to rsync destinations.",
    subcommands = {UpCommand.class, AgentCommand.class, WorkerCommand.class, BrokerCommand.class, AclCommand.class,
        VerifyCommand.class, StatusCommand.class, DlqCommand.class, VersionsCommand.class, RestoreCommand.class,
        PruneCommand.class, ReconcileCommand.class, PauseCommand.class, ResumeCommand.class, KeysCommand.class,
        CommandLine.HelpCommand.class})
public final class Rtb {

    /**
     * How long a long-running role (agent, worker, up) may take to stop cleanly after a part gave up before the
     * JVM is halted: longer than the agent's own stop (executor grace plus capture and publisher).
     */
    static final Duration FATAL_EXIT_GRACE = Duration.ofSeconds(90);

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (2 for usage errors). */
    public static int run(String... args) {
        // `rtb agent` starts on every source host and is timed to watching: its own command line is built alone,
        // without picocli building (by reflection) the fourteen other commands and loading the classes they name
        // (a tenth of the agent's start-up CPU; docs/performance.md). Its help and errors read the same.
        if (args.length > 0 && args[0].equals("agent")) {
            AgentWarmUp.start();
            return new CommandLine(new AgentCommand()).setCommandName("rtb agent")
                .setCaseInsensitiveEnumValuesAllowed(true).execute(Arrays.copyOfRange(args, 1, args.length));
        }
        return new CommandLine(new Rtb()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {BuildInfo.ofThisBuild().describe()};
        }
    }
}
