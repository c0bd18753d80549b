package io.rtbackup.kmod;

/** {@link KmodQemuTest} on Debian 12's own kernel, 6.1 (the pre-6.11 branch of rtbackup_compat.h). */
class KmodQemuKernel61Test extends KmodQemuTest {
    @Override
    String kernelSeries() {
        return "6.1.";
    }
}
