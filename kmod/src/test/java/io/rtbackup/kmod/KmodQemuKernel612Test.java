package io.rtbackup.kmod;

/**
 * {@link KmodQemuTest} on the 6.12 kernel Debian 12 also ships (bookworm-backports/security): the {@code >= 6.11}
 * branch of rtbackup_compat.h (object-pointer {@code fsnotify_add_mark}).
 */
class KmodQemuKernel612Test extends KmodQemuTest {
    @Override
    String kernelSeries() {
        return "6.12.";
    }
}
