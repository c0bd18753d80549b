package io.rtbackup.agent.capture;

import io.rtbackup.schema.FileOp;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Every operation the load generator says it did ({@code bench/capture/loadgen.c}'s manifest) against the events
 * read back from Kafka. An operation counts as published when: a write or an append has a CREATE, MODIFY or
 * CLOSE_WRITE of its path (the kernel merges a file's queued events, and the normaliser a burst of modifies, so
 * a write and the append after it may arrive as one event; its sync reads the content after both); a rename has
 * the MOVE_FROM of the old name carrying the new one and the MOVE_TO of the new name carrying the old; a delete
 * has the DELETE of its path. A RESCAN is not counted as covering anything: a run with one is a run with loss.
 */
record ManifestCheck(long operations, long lost, List<String> firstMissing) {

    static ManifestCheck of(Path manifest, String absPrefix, PublishedEvents published) throws IOException {
        long ops = 0;
        long lost = 0;
        List<String> missing = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(manifest, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                ops++;
                String[] f = line.split(" ");
                String a = rel(f[1], absPrefix);
                boolean ok = switch (f[0]) {
                    case "W", "A" -> published.has(FileOp.CREATE, a) || published.has(FileOp.MODIFY, a)
                            || published.has(FileOp.CLOSE_WRITE, a);
                    case "R" -> {
                        String b = rel(f[2], absPrefix);
                        yield published.hasMove(FileOp.MOVE_FROM, a, b) && published.hasMove(FileOp.MOVE_TO, b, a);
                    }
                    case "D" -> published.has(FileOp.DELETE, a);
                    default -> throw new IOException("manifest " + manifest + ": unknown line " + line);
                };
                if (!ok) {
                    lost++;
                    if (missing.size() < 3) missing.add(line);
                }
            }
        }
        return new ManifestCheck(ops, lost, missing);
    }

    /** The path relative to the watched root ("run/d3/f17"), as the events carry it. */
    private static String rel(String abs, String absPrefix) {
        if (!abs.startsWith(absPrefix)) throw new IllegalArgumentException(abs + " is not under " + absPrefix);
        return "run/" + abs.substring(absPrefix.length());
    }
}
