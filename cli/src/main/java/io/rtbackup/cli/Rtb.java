package io.rtbackup.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rtb} command. Each subcommand is one process role of the system. */
@Command(name = "rtb", mixinStandardHelpOptions = true, versionProvider = Rtb.Version.class,
    description = "rtbackup: real-time remote backup. File changes go through Kafka to rsync destinations.",
    subcommands = {UpCommand.class, AgentCommand.class, WorkerCommand.class, BrokerCommand.class, VerifyCommand.class,
        StatusCommand.class, RestoreCommand.class, PruneCommand.class, CommandLine.HelpCommand.class})
public final class Rtb {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (2 for usage errors). */
    public static int run(String... args) {
        return new CommandLine(new Rtb()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {BuildInfo.ofThisBuild().describe()};
        }
    }
}
