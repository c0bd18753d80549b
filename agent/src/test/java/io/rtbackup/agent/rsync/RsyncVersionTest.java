package io.rtbackup.agent.rsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rtbackup.agent.rsync.RsyncVersion.Verdict;
import io.rtbackup.agent.rsync.RsyncVersion.Verdict.Kind;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RsyncVersionTest {
    private static final Path BIN = Path.of("/usr/bin/rsync");

    /** dpkg's answers as data: which version owns which binary, and a table of "a >= b". */
    private record Answers(Map<Path, String> owners, Map<String, Boolean> atLeast) implements RsyncPackage {
        @Override
        public Optional<String> versionOwning(Path binary) {
            return Optional.ofNullable(owners.get(binary));
        }

        @Override
        public boolean atLeast(String version, String floor) {
            Boolean b = atLeast.get(version + " >= " + floor);
            if (b == null) throw new AssertionError("unexpected comparison " + version + " >= " + floor);
            return b;
        }
    }

    private static final Answers NO_PACKAGE = new Answers(Map.of(), Map.of());

    private static String out(String v) {
        return "rsync  version " + v + "  protocol version 32\nCopyright (C) 1996-2024 by Andrew Tridgell...\n";
    }

    private static Answers debian(String version, boolean fixed) {
        return new Answers(Map.of(BIN, version), Map.of(version + " >= 3.2.7-1+deb12u1", fixed));
    }

    @Test
    void theRsyncVersionIsChecked() {
        RsyncVersion.check("rsync"); // Debian's 3.2.7-1+deb12u6 on this machine: patched, so accepted
        assertThatThrownBy(() -> RsyncVersion.check("/nonexistent/rsync"))
            .hasMessageContaining("install rsync >= 3.2.3");
        assertThatThrownBy(() -> RsyncVersion.check("true")).hasMessageContaining("does not look like rsync");
    }

    @Test
    void thisMachinesDebianRsyncIsShownPatchedByDpkg() {
        DpkgRsyncPackage dpkg = new DpkgRsyncPackage();
        Optional<Path> binary = RsyncVersion.resolve("rsync");
        assertThat(binary).contains(BIN);
        assertThat(dpkg.versionOwning(BIN)).hasValueSatisfying(v -> assertThat(v).startsWith("3.2.7-1+deb12u"));
        assertThat(dpkg.atLeast("3.2.7-1+deb12u6", "3.2.7-1+deb12u1")).isTrue();
        assertThat(dpkg.atLeast("3.2.7-1", "3.2.7-1+deb12u1")).isFalse();
        assertThat(dpkg.versionOwning(Path.of("/bin/true").toAbsolutePath())).isEmpty(); // coreutils owns it
        assertThat(RsyncVersion.judge("rsync", out("3.2.7"), binary, dpkg, false).kind()).isEqualTo(Kind.ACCEPTED);
    }

    @Test
    void upstreamReleasesFromThreeFourOnAreAcceptedWithoutAskingTheDistribution() {
        for (String v : new String[] {"3.4.0", "3.4.1", "3.5.0", "4.0.0"}) {
            assertThat(RsyncVersion.judge("rsync", out(v), Optional.empty(), NO_PACKAGE, false).kind())
                .as(v).isEqualTo(Kind.ACCEPTED);
        }
    }

    @Test
    void tooOldForMkpathIsRefusedEvenWithTheOptOut() {
        Verdict v = RsyncVersion.judge("rsync", out("3.2.2"), Optional.of(BIN), debian("3.2.2-1", true), true);
        assertThat(v.kind()).isEqualTo(Kind.REFUSED);
        assertThat(v.text()).contains(">= 3.2.3", "--mkpath");
    }

    @Test
    void anOlderVersionIsAcceptedOnlyWhenItsDistributionPackageCarriesTheFixes() {
        assertThat(RsyncVersion.judge("rsync", out("3.2.7"), Optional.of(BIN), debian("3.2.7-1+deb12u1", true),
            false).kind()).isEqualTo(Kind.ACCEPTED);
        Verdict accepted = RsyncVersion.judge("rsync", out("3.2.7"), Optional.of(BIN),
            debian("3.2.7-1+deb12u6", true), false);
        assertThat(accepted.kind()).isEqualTo(Kind.ACCEPTED);
        assertThat(accepted.text()).contains("3.2.7-1+deb12u6", "3.2.7-1+deb12u1");

        Verdict unfixed = RsyncVersion.judge("rsync", out("3.2.7"), Optional.of(BIN), debian("3.2.7-1", false), false);
        assertThat(unfixed.kind()).isEqualTo(Kind.REFUSED);
        assertThat(unfixed.text()).contains("CVE-2024-12084", "CVE-2024-12747", "3.4.0",
            "3.2.7-1 is older than 3.2.7-1+deb12u1", "patched package", "rsync.allow-unpatched=true");
    }

    @Test
    void aBinaryNoPackageOwnsOrThatIsNotThePackagesBuildIsRefused() {
        // Built from source into /usr/local: dpkg knows nothing of it.
        Verdict local = RsyncVersion.judge("/usr/local/bin/rsync", out("3.2.7"), Optional.of(Path.of("/usr/local/bin/rsync")),
            debian("3.2.7-1+deb12u6", true), false);
        assertThat(local.kind()).isEqualTo(Kind.REFUSED);
        assertThat(local.text()).contains("no distribution package is known to have installed /usr/local/bin/rsync");
        // A binary on PATH that cannot be found again.
        assertThat(RsyncVersion.judge("rsync", out("3.3.0"), Optional.empty(), NO_PACKAGE, false).kind())
            .isEqualTo(Kind.REFUSED);
        // The package says 3.2.7 but the binary says 3.3.0: replaced behind dpkg's back.
        Verdict swapped = RsyncVersion.judge("rsync", out("3.3.0"), Optional.of(BIN), debian("3.2.7-1+deb12u6", true),
            false);
        assertThat(swapped.kind()).isEqualTo(Kind.REFUSED);
        assertThat(swapped.text()).contains("not that package's build");
        // A version with no known patched build (e.g. an Ubuntu or older Debian line): refused, opt-out possible.
        Verdict unknown = RsyncVersion.judge("rsync", out("3.2.3"), Optional.of(BIN),
            new Answers(Map.of(BIN, "1:3.2.3-4+deb11u1"), Map.of()), false);
        assertThat(unknown.kind()).isEqualTo(Kind.REFUSED);
        assertThat(unknown.text()).contains("not a build known to carry them");
    }

    @Test
    void theOptOutRunsAnUnpatchedRsyncAndSaysSoLoudly() {
        Verdict v = RsyncVersion.judge("rsync", out("3.2.7"), Optional.of(BIN), debian("3.2.7-1", false), true);
        assertThat(v.kind()).isEqualTo(Kind.ACCEPTED_UNPATCHED);
        assertThat(v.text()).contains("CVE-2024-12084", "rsync.allow-unpatched=true");
    }

    @Test
    void dpkgOwnershipLinesAreReadExactly() {
        assertThat(DpkgRsyncPackage.ownedByRsync("rsync: /usr/bin/rsync\n", "/usr/bin/rsync")).isTrue();
        assertThat(DpkgRsyncPackage.ownedByRsync("rsync:amd64: /usr/bin/rsync\n", "/usr/bin/rsync")).isTrue();
        assertThat(DpkgRsyncPackage.ownedByRsync("rsync-static: /usr/bin/rsync\n", "/usr/bin/rsync")).isFalse();
        assertThat(DpkgRsyncPackage.ownedByRsync("rsync: /usr/bin/rsync-ssl\n", "/usr/bin/rsync")).isFalse();
        assertThat(DpkgRsyncPackage.ownedByRsync("diversion by x from: /usr/bin/rsync\n", "/usr/bin/rsync")).isFalse();
    }

    @Test
    void theUpstreamPartOfAPackageVersionDropsEpochAndRevision() {
        assertThat(RsyncVersion.upstreamOf("3.2.7-1+deb12u6")).isEqualTo("3.2.7");
        assertThat(RsyncVersion.upstreamOf("1:3.2.3-4+deb11u1")).isEqualTo("3.2.3");
        assertThat(RsyncVersion.upstreamOf("3.4.1+ds1-5")).isEqualTo("3.4.1+ds1");
    }
}
