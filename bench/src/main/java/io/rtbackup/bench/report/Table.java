package io.rtbackup.bench.report;

import io.rtbackup.bench.contender.Contender;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One workload's results: a row per metric, a column per contender, then rtbackup/lsyncd ratios (rtbackup's
 * figure divided by each lsyncd column's; the first rtbackup column with a figure in that row is the numerator).
 */
public final class Table {
    private final String id;
    private final String title;
    private final String description;
    private final List<Contender> contenders = new ArrayList<>();
    private final Map<String, Map<String, Measure>> rows = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();

    public Table(String id, String title, String description) {
        this.id = id;
        this.title = title;
        this.description = description;
    }

    /** The workload's id ({@code latency100}, {@code startup}...). */
    public String id() {
        return id;
    }

    public String title() {
        return title;
    }

    public void add(Contender c, Map<String, Measure> results) {
        contenders.add(c);
        results.forEach((metric, m) -> rows.computeIfAbsent(metric, k -> new LinkedHashMap<>()).put(c.id(), m));
    }

    public void note(String n) {
        notes.add(n);
    }

    public Optional<Measure> get(String contenderId, String metric) {
        return Optional.ofNullable(rows.getOrDefault(metric, Map.of()).get(contenderId));
    }

    public String markdown() {
        List<Contender> lsyncds = contenders.stream().filter(c -> !c.isRtbackup()).toList();
        List<Contender> rtbs = contenders.stream().filter(Contender::isRtbackup).toList();
        StringBuilder sb = new StringBuilder();
        sb.append("### ").append(title).append("\n\n").append(description).append("\n\n");
        sb.append("| metric |");
        contenders.forEach(c -> sb.append(' ').append(c.label()).append(" |"));
        lsyncds.forEach(l -> sb.append(" rtb / ").append(l.label()).append(" |"));
        sb.append("\n|---|");
        contenders.forEach(c -> sb.append("---:|"));
        lsyncds.forEach(l -> sb.append("---:|"));
        sb.append('\n');
        rows.forEach((metric, cells) -> {
            sb.append("| ").append(metric).append(" |");
            contenders.forEach(c -> sb.append(' ').append(Optional.ofNullable(cells.get(c.id()))
                    .map(Measure::show).orElse("")).append(" |"));
            Optional<Measure> rtb = rtbs.stream().map(c -> cells.get(c.id())).filter(m -> m != null && m.present())
                    .findFirst();
            for (Contender l : lsyncds) {
                Measure lm = cells.get(l.id());
                String ratio = "";
                if (rtb.isPresent() && lm != null && lm.present() && lm.value() != 0
                        && rtb.get().unit() != Measure.Unit.RATIO) {
                    ratio = String.format(Locale.ROOT, "%.3g×", rtb.get().value() / lm.value());
                }
                sb.append(' ').append(ratio).append(" |");
            }
            sb.append('\n');
        });
        if (!notes.isEmpty()) {
            sb.append('\n');
            notes.forEach(n -> sb.append("- ").append(n).append('\n'));
        }
        sb.append('\n');
        return sb.toString();
    }
}
