package io.rtbackup.schema;

import static io.rtbackup.schema.HostilePaths.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class WirePathTest {

    @Test
    void hostileButLegalNamesAreAccepted() {
        for (byte[] p : HostilePaths.all()) {
            assertThat(WirePath.eventPathProblem(p)).as(WirePath.show(p)).isEmpty();
            if (p.length > 0) assertThat(WirePath.commandPathProblem(p)).as(WirePath.show(p)).isEmpty();
        }
        assertThat(WirePath.commandPathProblem(utf8("new\nline/-rf/--delete"))).isEmpty();
        assertThat(WirePath.commandPathProblem(utf8("...")) ).isEmpty();
        assertThat(WirePath.commandPathProblem(utf8(".hidden/..x/x.."))).isEmpty();
        byte[] high = new byte[128];
        for (int i = 0; i < high.length; i++) high[i] = (byte) (0x80 + i);
        assertThat(WirePath.commandPathProblem(high)).isEmpty();
        byte[] name255 = new byte[255];
        Arrays.fill(name255, (byte) 'n');
        assertThat(WirePath.commandPathProblem(name255)).isEmpty();
        byte[] longest = new byte[WirePath.MAX_PATH_BYTES];
        Arrays.fill(longest, (byte) 'a');
        for (int i = 200; i < longest.length; i += 201) longest[i] = '/';
        assertThat(WirePath.commandPathProblem(longest)).isEmpty();
    }

    @Test
    void pathsLeavingTheRootOrNoLinuxNameCanHoldAreRefused() {
        assertThat(WirePath.commandPathProblem(utf8("../etc/passwd"))).get().asString().contains("'..' component")
            .contains("under the root");
        assertThat(WirePath.eventPathProblem(utf8("a/../../etc"))).get().asString().contains("'..'");
        assertThat(WirePath.eventPathProblem(utf8("a/.."))).get().asString().contains("'..'");
        assertThat(WirePath.eventPathProblem(utf8("/etc/passwd"))).get().asString().contains("absolute path '/etc/passwd'")
            .contains("relative to the root");
        assertThat(WirePath.eventPathProblem(new byte[] {'a', 0, 'b'})).get().asString().contains("NUL")
            .contains("'a\\x00b'");
        assertThat(WirePath.eventPathProblem(utf8("a//b"))).get().asString().contains("empty component")
            .contains("single '/'");
        assertThat(WirePath.eventPathProblem(utf8("a/"))).get().asString().contains("empty component");
        assertThat(WirePath.eventPathProblem(utf8("./a"))).get().asString().contains("'.' component");
        byte[] name256 = new byte[256];
        Arrays.fill(name256, (byte) 'n');
        assertThat(WirePath.eventPathProblem(name256)).get().asString().contains("256 bytes").contains("NAME_MAX")
            .contains("at most 255");
        byte[] tooLong = new byte[WirePath.MAX_PATH_BYTES + 1];
        Arrays.fill(tooLong, (byte) 'a');
        for (int i = 200; i < tooLong.length; i += 201) tooLong[i] = '/';
        assertThat(WirePath.eventPathProblem(tooLong)).get().asString().contains("4096 bytes").contains("PATH_MAX")
            .contains("at most 4095");
    }

    @Test
    void theEmptyPathIsTheRootInEventsButNotACommandPath() {
        assertThat(WirePath.eventPathProblem(new byte[0])).isEmpty();
        assertThat(WirePath.commandPathProblem(new byte[0])).get().asString().contains("empty path")
            .contains("fullSync");
    }

    @Test
    void showKeepsMessagesOnOneLine() {
        assertThat(WirePath.show(new byte[] {'a', '\n', '\\', (byte) 0xff, '\t', 0x7f})).isEqualTo("a\\n\\\\\\xff\\t\\x7f");
    }
}
