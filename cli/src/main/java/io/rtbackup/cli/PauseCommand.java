package io.rtbackup.cli;

import io.rtbackup.schema.ControlAction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rtb pause}: stops backing up a root of a host until {@code rtb resume}: its agent stops capturing it and
 * runs no command for it. The pause survives restarts of the agent and of {@code rtb up}. See {@link SwitchCommand}.
 */
@Command(name = "pause", mixinStandardHelpOptions = true,
    description = {"Pause the backup of a root: its agent stops capturing it and runs no command for it, until "
        + "rtb resume (which catches up what changed meanwhile). Survives restarts.",
        "On a host running rtb up: rtb pause [--root R] [--reason TEXT]. In a fleet: add --host H --config FILE."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:the agent paused it", "1:sent, but the agent has not applied it yet", "2:usage error",
        "3:Kafka could not be written or read"})
final class PauseCommand extends SwitchCommand {
    @Option(names = "--reason", paramLabel = "TEXT", defaultValue = "",
        description = "Why; rtb status and the status page show it.")
    String reason;

    @Override
    ControlAction action() {
        return ControlAction.PAUSE;
    }

    @Override
    String reason() {
        return reason;
    }
}
