package io.rtbackup.agent.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.rtbackup.agent.event.CapturedEvent;
import io.rtbackup.agent.transport.PendingHints.Offer;
import io.rtbackup.schema.CaptureSource;
import io.rtbackup.schema.FileOp;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The publisher's merging buffer alone: which hints merge, the order they leave in, the bound, the threads. */
class PendingHintsTest {

    @Test
    void anExactDuplicateMergesIntoTheWaitingHintWhichKeepsItsPlaceAndItsFirstCapture() {
        PendingHints hints = new PendingHints(10);
        CapturedEvent first = hint("r", bytes("d/a"), FileOp.MODIFY, false, null);
        assertThat(hints.offer(first)).isEqualTo(Offer.QUEUED);
        assertThat(hints.offer(hint("r", bytes("d/b"), FileOp.MODIFY, false, null))).isEqualTo(Offer.QUEUED);
        // new arrays with the same bytes; another source, capture time and inode: still the same hint
        CapturedEvent again = new CapturedEvent("r", bytes("d/a"), FileOp.MODIFY, false, null, CaptureSource.SCAN,
                99, 1234);
        assertThat(hints.offer(again)).isEqualTo(Offer.MERGED);

        assertThat(hints.size()).isEqualTo(2);
        assertThat(hints.poll()).isSameAs(first);
        assertThat(hints.poll().path()).isEqualTo(bytes("d/b"));
        assertThat(hints.poll()).isNull();
        // taken by the sender: no longer waiting, so the next duplicate queues anew
        assertThat(hints.offer(again)).isEqualTo(Offer.QUEUED);
    }

    @Test
    void hintsThatDifferInAnyComparedFieldAreNotMergedAndLeaveInArrivalOrder() {
        PendingHints hints = new PendingHints(100);
        List<CapturedEvent> distinct = List.of(
                hint("r", bytes("a"), FileOp.MODIFY, false, null),
                hint("s", bytes("a"), FileOp.MODIFY, false, null),           // root
                hint("r", bytes("b"), FileOp.MODIFY, false, null),           // path
                hint("r", bytes("a"), FileOp.CLOSE_WRITE, false, null),      // op
                hint("r", bytes("a"), FileOp.CREATE, false, null),
                hint("r", bytes("a"), FileOp.MODIFY, true, null),            // directory
                hint("r", bytes("a"), FileOp.MODIFY, false, new byte[0]),    // otherPath: empty is not absent
                hint("r", bytes("a"), FileOp.MODIFY, false, bytes("x")),     // otherPath
                hint("r", bytes("a"), FileOp.MOVE_FROM, false, bytes("x")),
                hint("r", bytes("a"), FileOp.MOVE_FROM, false, bytes("y")),
                hint("r", bytes("x"), FileOp.MOVE_TO, false, bytes("a")),
                hint("r", new byte[0], FileOp.RESCAN, true, null),          // the root
                hint("r", new byte[0], FileOp.MODIFY, true, null),
                hint("r", bytes("a"), null, false, null));                   // no op (cannot be encoded)
        for (CapturedEvent e : distinct) assertThat(hints.offer(e)).as("%s", e).isEqualTo(Offer.QUEUED);
        for (CapturedEvent e : distinct) assertThat(hints.offer(copy(e))).as("%s", e).isEqualTo(Offer.MERGED);
        List<CapturedEvent> out = drain(hints);
        assertThat(out).containsExactlyElementsOf(distinct);
    }

    @Test
    void hostileNamesAreComparedByEveryByte() {
        PendingHints hints = new PendingHints(1000);
        List<byte[]> names = new ArrayList<>();
        names.add(new byte[0]);
        names.add(bytes("a\nb"));
        names.add(bytes("a"));
        names.add(bytes("a\n"));
        names.add(bytes("\n"));
        for (int b = 0x80; b <= 0xFF; b++) names.add(new byte[] {'d', '/', (byte) b});
        byte[] longName = new byte[255];
        Arrays.fill(longName, (byte) 0xFF);
        names.add(longName.clone());
        for (int i = 0; i < 255; i += 50) {
            byte[] n = longName.clone();
            n[i] = (byte) 0x80; // 255 bytes, one differs
            names.add(n);
        }
        byte[] last = longName.clone();
        last[254] = (byte) 0xFE;
        names.add(last);
        byte[] sub = new byte[254];
        Arrays.fill(sub, (byte) 0xFF);
        names.add(sub); // a prefix of longName
        for (byte[] n : names) {
            assertThat(hints.offer(hint("r", n, FileOp.MODIFY, false, null))).as(show(n)).isEqualTo(Offer.QUEUED);
        }
        for (byte[] n : names) {
            assertThat(hints.offer(hint("r", n.clone(), FileOp.MODIFY, false, null))).as(show(n))
                    .isEqualTo(Offer.MERGED);
            // the same bytes as the other name of a rename are a different hint from the same path without one
            assertThat(hints.offer(hint("r", n.clone(), FileOp.MODIFY, false, n.clone()))).as(show(n))
                    .isEqualTo(Offer.QUEUED);
        }
        assertThat(hints.size()).isEqualTo(2 * names.size());
    }

    @Test
    void pathsWithEqualHashCodesAreKeptApartAndRemovingOneLeavesTheOthersFindable() {
        // Arrays.hashCode over 3 bytes is 961*a + 31*b + c (+ a constant): these all hash alike
        List<byte[]> colliding = new ArrayList<>();
        for (int a = -2; a <= 2; a++) {
            for (int b = -4; b <= 4; b++) {
                int c = 1922 - 961 * a - 31 * b;
                if (c >= Byte.MIN_VALUE && c <= Byte.MAX_VALUE) colliding.add(new byte[] {(byte) a, (byte) b, (byte) c});
            }
        }
        assertThat(colliding).hasSizeGreaterThan(5);
        assertThat(colliding.stream().mapToInt(Arrays::hashCode).distinct().count()).isEqualTo(1);
        assertThat(colliding.stream().map(p -> PendingHints.hash(hint("r", p, FileOp.MODIFY, false, null)))
                .distinct().count()).isEqualTo(1);

        PendingHints hints = new PendingHints(100);
        for (byte[] p : colliding) hints.offer(hint("r", p, FileOp.MODIFY, false, null));
        // take them one by one and queue each again at the end: each time the others still merge (none got lost
        // behind a slot emptied by the removal)
        for (int taken = 0; taken < colliding.size(); taken++) {
            assertThat(hints.poll().path()).isEqualTo(colliding.get(taken));
            for (int i = 0; i < colliding.size(); i++) {
                if (i == taken) continue;
                assertThat(hints.offer(hint("r", colliding.get(i).clone(), FileOp.MODIFY, false, null)))
                        .as("%d after taking %d", i, taken).isEqualTo(Offer.MERGED);
            }
            assertThat(hints.offer(hint("r", colliding.get(taken).clone(), FileOp.MODIFY, false, null)))
                    .isEqualTo(Offer.QUEUED);
        }
        assertThat(drain(hints)).extracting(CapturedEvent::path).containsExactlyElementsOf(colliding);
    }

    @Test
    void theBoundCountsDistinctHintsAndDuplicatesAlwaysMerge() {
        PendingHints hints = new PendingHints(2);
        assertThat(hints.offer(hint("r", bytes("a"), FileOp.MODIFY, false, null))).isEqualTo(Offer.QUEUED);
        assertThat(hints.offer(hint("r", bytes("b"), FileOp.MODIFY, false, null))).isEqualTo(Offer.QUEUED);
        for (int i = 0; i < 1000; i++) {
            assertThat(hints.offer(hint("r", bytes(i % 2 == 0 ? "a" : "b"), FileOp.MODIFY, false, null)))
                    .isEqualTo(Offer.MERGED);
        }
        assertThat(hints.offer(hint("r", bytes("c"), FileOp.MODIFY, false, null))).isEqualTo(Offer.FULL);
        assertThat(hints.offer(hint("r", bytes("a"), FileOp.DELETE, false, null))).isEqualTo(Offer.FULL);
        assertThat(hints.size()).isEqualTo(2);
        hints.poll();
        assertThat(hints.offer(hint("r", bytes("c"), FileOp.MODIFY, false, null))).isEqualTo(Offer.QUEUED);
        assertThat(drain(hints)).extracting(e -> new String(e.path(), StandardCharsets.UTF_8)).containsExactly("b",
                "c");
    }

    /** Against a plain model (a LinkedHashMap keyed by content), across growth and the ring's wrap. */
    @Test
    void behavesLikeAnInsertionOrderedMapOfHints() {
        Random random = new Random(18);
        int capacity = 700; // not a power of two: the ring grows 64, 128, ... 512, 700
        PendingHints hints = new PendingHints(capacity);
        LinkedHashMap<List<Object>, CapturedEvent> model = new LinkedHashMap<>();
        FileOp[] ops = {FileOp.MODIFY, FileOp.CLOSE_WRITE, FileOp.DELETE, FileOp.MOVE_FROM};
        for (int step = 0; step < 200_000; step++) {
            // phases that fill and phases that drain, so size sweeps over the whole range many times
            boolean filling = (step / 5_000) % 2 == 0;
            if (random.nextInt(100) < (filling ? 70 : 30)) {
                byte[] path = bytes("p" + random.nextInt(900));
                FileOp op = ops[random.nextInt(ops.length)];
                byte[] other = op == FileOp.MOVE_FROM ? bytes("o" + random.nextInt(3)) : null;
                CapturedEvent e = hint("r" + random.nextInt(2), path, op, random.nextInt(10) == 0, other);
                List<Object> key = List.of(e.rootId(), ByteBuffer.wrap(path), op, e.directory(),
                        other == null ? "none" : ByteBuffer.wrap(other));
                Offer expected = model.containsKey(key) ? Offer.MERGED
                        : model.size() == capacity ? Offer.FULL : Offer.QUEUED;
                assertThat(hints.offer(e)).as("step %d", step).isEqualTo(expected);
                if (expected == Offer.QUEUED) model.put(key, e);
            } else {
                var it = model.values().iterator();
                CapturedEvent expected = it.hasNext() ? it.next() : null;
                if (expected != null) it.remove();
                assertThat(hints.poll()).as("step %d", step).isSameAs(expected);
            }
            assertThat(hints.size()).isEqualTo(model.size());
        }
    }

    @Test
    void severalProducersAndOneConsumer() throws Exception {
        PendingHints hints = new PendingHints(50);
        int producers = 4;
        int perProducer = 50_000;
        AtomicLong queued = new AtomicLong();
        AtomicLong merged = new AtomicLong();
        AtomicLong full = new AtomicLong();
        CountDownLatch done = new CountDownLatch(producers);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < producers; t++) {
            int seed = t;
            Thread thread = new Thread(() -> {
                Random r = new Random(seed);
                for (int i = 0; i < perProducer; i++) {
                    switch (hints.offer(hint("r", bytes("f" + r.nextInt(60)), FileOp.MODIFY, false, null))) {
                        case QUEUED -> queued.incrementAndGet();
                        case MERGED -> merged.incrementAndGet();
                        case FULL -> full.incrementAndGet();
                    }
                }
                done.countDown();
            });
            thread.start();
            threads.add(thread);
        }
        long polled = 0;
        while (done.getCount() > 0 || !hints.isEmpty()) {
            if (hints.poll(5, TimeUnit.MILLISECONDS) != null) polled++;
        }
        for (Thread t : threads) t.join();
        assertThat(queued.get() + merged.get() + full.get()).isEqualTo((long) producers * perProducer);
        assertThat(polled).isEqualTo(queued.get());
        assertThat(merged.get()).as("some merged").isPositive();
    }

    @Test
    void offeringMergingAndTakingAllocateNothingOnceGrown() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        PendingHints hints = new PendingHints(1000);
        CapturedEvent[] events = new CapturedEvent[1000];
        for (int i = 0; i < events.length; i++) events[i] = hint("r", bytes("d/f" + i), FileOp.CLOSE_WRITE, false, null);
        long allocated = 0;
        for (int round = 0; round < 3; round++) { // the last round, after the JIT compiled the loop, counts
            long before = threads.getCurrentThreadAllocatedBytes();
            assertThat(before).as("this JVM counts a thread's allocations").isPositive();
            for (int i = 0; i < 200_000; i++) {
                hints.offer(events[i % 1000]); // fills to 1,000 distinct, then merges
                if (i % 3 == 0) hints.poll();
            }
            allocated = threads.getCurrentThreadAllocatedBytes() - before;
            while (hints.poll() != null) { }
        }
        assertThat(allocated).as("bytes allocated for 200,000 offers and 66,667 polls").isLessThan(16 * 1024);
    }

    @Test
    void aTimedPollWaitsForAHint() throws Exception {
        PendingHints hints = new PendingHints(4);
        assertThat(hints.poll(10, TimeUnit.MILLISECONDS)).isNull();
        CapturedEvent e = hint("r", bytes("a"), FileOp.MODIFY, false, null);
        Thread producer = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException ignored) {
                return;
            }
            hints.offer(e);
        });
        producer.start();
        assertThat(hints.poll(10, TimeUnit.SECONDS)).isSameAs(e);
        producer.join();
    }

    private static List<CapturedEvent> drain(PendingHints hints) {
        List<CapturedEvent> out = new ArrayList<>();
        for (CapturedEvent e; (e = hints.poll()) != null; ) out.add(e);
        return out;
    }

    private static CapturedEvent hint(String root, byte[] path, FileOp op, boolean dir, byte[] other) {
        return new CapturedEvent(root, path, op, dir, other, CaptureSource.FANOTIFY, 1, CapturedEvent.NO_INODE);
    }

    private static CapturedEvent copy(CapturedEvent e) {
        return new CapturedEvent(e.rootId(), e.path().clone(), e.op(), e.directory(),
                e.otherPath() == null ? null : e.otherPath().clone(), CaptureSource.INOTIFY, 2, 7);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String show(byte[] b) {
        return Arrays.toString(b);
    }
}
