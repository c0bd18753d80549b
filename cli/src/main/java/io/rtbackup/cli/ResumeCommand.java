package io.rtbackup.cli;

import io.rtbackup.schema.ControlAction;
import picocli.CommandLine.Command;

/**
 * {@code rtb resume}: ends a pause: the agent captures the root again, runs its commands again, and reconciles the
 * root with each destination so everything changed while it was paused arrives; it says how many paths that
 * changed. See {@link SwitchCommand}.
 */
@Command(name = "resume", mixinStandardHelpOptions = true,
    description = {"Resume the backup of a paused root: capture and commands back on, then a whole-root "
        + "reconciliation catches up what changed while it was paused.",
        "On a host running rtb up: rtb resume [--root R]. In a fleet: add --host H --config FILE."},
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {"0:the agent resumed it and caught up", "1:sent, but the agent has not applied it yet",
        "2:usage error", "3:Kafka could not be written or read"})
final class ResumeCommand extends SwitchCommand {
    @Override
    ControlAction action() {
        return ControlAction.RESUME;
    }

    @Override
    String reason() {
        return "";
    }
}
