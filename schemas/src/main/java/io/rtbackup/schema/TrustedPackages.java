package io.rtbackup.schema;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 refuses to instantiate classes it does not trust when it resolves a schema to a class. Our generated
 * classes are added to whatever the process already trusts (the defaults and {@code
 * org.apache.avro.SERIALIZABLE_PACKAGES}); nothing else is widened.
 */
final class TrustedPackages {
    private static boolean installed;

    private TrustedPackages() {}

    static synchronized void install() {
        if (installed) return;
        ClassSecurityValidator.ClassSecurityPredicate ours = ClassSecurityValidator.builder()
            .add(FileEvent.class).add(FileOp.class).add(CaptureSource.class)
            .add(SyncCommand.class).add(OffsetRange.class)
            .add(SyncResult.class).add(SyncOutcome.class).add(FailureSide.class).add(StuckPath.class)
            .add(WorkerStatus.class).add(SyncSummary.class).add(StuckPathStatus.class)
            .add(ControlCommand.class).add(ControlAction.class).add(RootControlState.class)
            .build();
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), ours));
        installed = true;
    }
}
