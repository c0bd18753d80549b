package io.rtbackup.schema;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class EventKeyTest {

    @Test
    void keyIsHostNulRootNulPathAndParsesBack() {
        byte[] path = {'a', '/', '\n', (byte) 0xff};
        byte[] key = EventKey.of("h1", "r1", path);
        assertThat(key).isEqualTo(new byte[] {'h', '1', 0, 'r', '1', 0, 'a', '/', '\n', (byte) 0xff});
        EventKey.Parts parts = EventKey.parse(key).orElseThrow();
        assertThat(parts.hostId()).isEqualTo("h1");
        assertThat(parts.rootId()).isEqualTo("r1");
        assertThat(parts.path()).isEqualTo(path);
        assertThat(EventKey.parse(EventKey.of("h", "r", new byte[0])).orElseThrow().path()).isEmpty();
    }

    @Test
    void whatNoAgentWroteIsNoKey() {
        assertThat(EventKey.parse(null)).isEmpty();
        assertThat(EventKey.parse("h1".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(EventKey.parse(new byte[] {'h', 0, 'r'})).isEmpty();
        assertThat(EventKey.parse(new byte[] {0, 'r', 0, 'p'})).isEmpty();
        assertThat(EventKey.parse(new byte[] {'h', 0, 0, 'p'})).isEmpty();
    }
}
