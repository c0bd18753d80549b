package io.rtbackup.status;

import io.rtbackup.schema.AvroCodec;
import io.rtbackup.schema.ControlAction;
import io.rtbackup.schema.ControlCommand;
import io.rtbackup.schema.ControlKey;
import io.rtbackup.schema.RootControlState;
import io.rtbackup.schema.UndecodableRecordException;
import io.rtbackup.status.FleetStatus.RootSwitch;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What the two compacted topics of the pause switch mean together: per {@code <host>/<root>} key the latest
 * {@link RootControlState} its agent published and the latest {@link ControlCommand} an operator gave. A command
 * the state does not name as applied is pending. Records that do not decode, or whose key does not match their
 * value, are left out (the agent refuses such commands too).
 */
final class SwitchFold {
    private static final AvroCodec<ControlCommand> COMMANDS = AvroCodec.controlCommands();
    private static final AvroCodec<RootControlState> STATES = AvroCodec.rootControlStates();

    private SwitchFold() {}

    static List<RootSwitch> fold(Collection<ConsumerRecord<byte[], byte[]>> commands,
                                 Collection<ConsumerRecord<byte[], byte[]>> states) {
        Map<String, ControlCommand> cmd = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : commands) {
            if (r.value() == null) continue;
            try {
                ControlCommand c = COMMANDS.decode(r.value());
                if (java.util.Arrays.equals(r.key(), ControlKey.of(c.getHostId(), c.getRootId()))) cmd.put(key(c.getHostId(), c.getRootId()), c);
            } catch (UndecodableRecordException e) {
                // left out: not a command any agent would apply
            }
        }
        Map<String, RootControlState> st = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : states) {
            if (r.value() == null) continue;
            try {
                RootControlState s = STATES.decode(r.value());
                if (java.util.Arrays.equals(r.key(), ControlKey.of(s.getHostId(), s.getRootId()))) st.put(key(s.getHostId(), s.getRootId()), s);
            } catch (UndecodableRecordException e) {
                // left out: not a state any agent of this release wrote
            }
        }
        TreeMap<String, Object> keys = new TreeMap<>();
        cmd.keySet().forEach(k -> keys.put(k, k));
        st.keySet().forEach(k -> keys.put(k, k));
        List<RootSwitch> out = new ArrayList<>();
        for (String k : keys.keySet()) {
            ControlCommand c = cmd.get(k);
            RootControlState s = st.get(k);
            String host = s != null ? s.getHostId() : c.getHostId();
            String root = s != null ? s.getRootId() : c.getRootId();
            boolean pending = c != null && (s == null || !c.getCommandId().equals(s.getAppliedCommandId()));
            out.add(new RootSwitch(host, root, s != null && s.getPaused(), s == null ? 0 : s.getSinceMs(),
                s != null ? s.getReason() : "", s != null ? s.getIssuedBy() : "", s == null ? "" : s.getNote(),
                s == null ? 0 : s.getPublishedAtMs(),
                c == null || c.getAction() == ControlAction.UNKNOWN ? "" : c.getAction().name(),
                c == null ? 0 : c.getIssuedAtMs(), c == null ? "" : c.getIssuedBy(), pending));
        }
        return out;
    }

    private static String key(String host, String root) {
        return host + "\u0000" + root;
    }
}
