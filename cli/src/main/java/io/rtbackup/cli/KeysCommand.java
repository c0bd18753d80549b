package io.rtbackup.cli;

import io.rtbackup.schema.signing.PublicKeys;
import io.rtbackup.schema.signing.SigningKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code rtb keys}: the Ed25519 keys that sign records (see docs/security-signing.md). {@code generate} writes a
 * key pair ({@code NAME.key}, 0600, and {@code NAME.pub}); {@code show} prints the key id of a key file, the id
 * that the logs and the DLQ reasons name.
 */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = "Make and inspect the Ed25519 keys that sign events, results and commands.",
    subcommands = {KeysCommand.Generate.class, KeysCommand.Show.class, CommandLine.HelpCommand.class})
public final class KeysCommand {
    static final int EXIT_FAILED = 1;

    @Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Write a new key pair: DIR/NAME.key (private, 0600) and DIR/NAME.pub (public). NAME is the "
            + "principal: the host id for an agent's key, the worker's name for a worker's key.")
    static final class Generate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for the two files "
            + "(created 0700 when missing).")
        Path out;

        @Option(names = "--name", required = true, paramLabel = "NAME", description = "Host id or worker name.")
        String name;

        @Override
        public Integer call() {
            PrintWriter o = spec.commandLine().getOut();
            try {
                String id = SigningKey.generate(out, name);
                o.println("rtb keys: wrote " + out.resolve(name + ".key") + " (private, 0600) and "
                    + out.resolve(name + ".pub") + "; key id " + id);
                o.println("rtb keys: put " + name + ".pub into the signing.keyring directory of every process that "
                    + "must accept " + name + "'s records, and signing.key=" + out.resolve(name + ".key").toAbsolutePath()
                    + " into " + name + "'s own config");
                o.flush();
                return 0;
            } catch (IOException e) {
                spec.commandLine().getErr().println("rtb keys generate: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return EXIT_FAILED;
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
        description = "Print the key id of a key file (NAME.key or NAME.pub).")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "A private or public key file.")
        Path file;

        @Override
        public Integer call() {
            try {
                spec.commandLine().getOut().println(file + ": " + PublicKeys.keyIdOf(file));
                spec.commandLine().getOut().flush();
                return 0;
            } catch (IOException e) {
                spec.commandLine().getErr().println("rtb keys show: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return EXIT_FAILED;
            }
        }
    }
}
