package io.rtbackup.worker.offsets;

import io.rtbackup.schema.OffsetRange;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Compresses a set of event refs into inclusive runs of consecutive offsets per partition (a command's covers). */
public final class OffsetRuns {
    private OffsetRuns() {
    }

    public static List<OffsetRange> of(Collection<EventRef> refs) {
        List<EventRef> sorted = new ArrayList<>(refs);
        sorted.sort(null);
        List<OffsetRange> out = new ArrayList<>();
        int i = 0;
        while (i < sorted.size()) {
            EventRef first = sorted.get(i);
            long to = first.offset();
            int j = i + 1;
            while (j < sorted.size() && sorted.get(j).partition() == first.partition() && sorted.get(j).offset() <= to + 1) {
                to = Math.max(to, sorted.get(j).offset());
                j++;
            }
            out.add(new OffsetRange(first.partition(), first.offset(), to));
            i = j;
        }
        return out;
    }
}
