package io.rtbackup.agent.capture.kmod;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.rtbackup.agent.capture.CaptureSource;
import io.rtbackup.agent.capture.CaptureUnavailableException;
import io.rtbackup.agent.capture.ChangeSink;
import io.rtbackup.agent.capture.LossReportingSink;
import io.rtbackup.agent.capture.RawChange;
import io.rtbackup.agent.capture.WatchedRoot;
import io.rtbackup.process.FatalErrorHandler;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Capture through the rtbackup kernel module: configures {@code /dev/rtbackup} with the roots, switches
 * capture on, and turns the records it reads into {@link RawChange}s on its own thread. {@link #close()}
 * switches capture off again, which removes the module's hook. A device error, a record that cannot be decoded
 * and any other failure while reading become a rescan of every root; a change the sink rejects becomes a rescan
 * of its directory ({@link LossReportingSink}).
 */
public final class KmodSource implements CaptureSource {
    private static final Logger log = LoggerFactory.getLogger(KmodSource.class);
    private static final int POLL_MS = 200;

    private final String devicePath;
    private final KmodRecordDecoder decoder = new KmodRecordDecoder();
    private final Counter records;
    private final Counter protocolErrors;
    private final Counter lostEvents;
    private final FatalErrorHandler fatal;
    private final Object lifecycle = new Object();
    private KmodDevice device;
    private Thread reader;
    private volatile boolean running;

    /** @param fatal told when not even a rescan covering a rejected change can be delivered */
    public KmodSource(String devicePath, KmodMetrics metrics, FatalErrorHandler fatal) {
        this.devicePath = devicePath;
        this.fatal = fatal;
        this.records = metrics.records();
        this.protocolErrors = metrics.protocolErrors();
        this.lostEvents = metrics.lostEvents();
    }

    /** For a single instance: registers the metrics in {@code registry}. */
    public KmodSource(String devicePath, PrometheusRegistry registry, FatalErrorHandler fatal) {
        this(devicePath, KmodMetrics.register(registry), fatal);
    }

    public KmodSource(KmodMetrics metrics, FatalErrorHandler fatal) {
        this(KmodDevice.DEFAULT_PATH, metrics, fatal);
    }

    @Override
    public String name() {
        return "kmod";
    }

    @Override
    public io.rtbackup.schema.CaptureSource kind() {
        return io.rtbackup.schema.CaptureSource.KMOD;
    }

    @Override
    public void start(List<WatchedRoot> roots, ChangeSink sink) throws CaptureUnavailableException {
        synchronized (lifecycle) {
            if (device != null) throw new IllegalStateException("kmod source already started");
            KmodDevice dev;
            try {
                dev = KmodDevice.open(devicePath);
            } catch (KmodDevice.OpenFailed e) {
                throw new CaptureUnavailableException("kmod capture unavailable: " + e.getMessage()
                        + "; load rtbackup.ko (modprobe rtbackup) or use fanotify", e);
            }
            try {
                int version = dev.version();
                if (version != KmodDevice.UAPI_VERSION) {
                    throw new CaptureUnavailableException("kmod capture unavailable: " + devicePath
                            + " speaks protocol " + version + ", this agent speaks " + KmodDevice.UAPI_VERSION
                            + "; install the module and agent of the same release");
                }
                configure(dev, roots);
            } catch (CaptureUnavailableException e) {
                dev.close();
                throw e;
            } catch (IOException e) {
                dev.close();
                throw new CaptureUnavailableException("kmod capture unavailable: " + e.getMessage(), e);
            }
            device = dev;
            running = true;
            ChangeSink out = guarded(sink);
            reader = new Thread(fatal.guard("kmod capture reader", () -> readLoop(dev, out)), "rtb-kmod-reader");
            reader.setDaemon(true);
            reader.start();
            log.info("kmod capture started on {} for {} root(s)", devicePath, roots.size());
        }
    }

    /**
     * Switches the module off ({@code RTB_IOC_DISABLE}), replaces its roots with {@code roots} and, when any is
     * left, switches it on again: the module has one root list and one switch for all roots, so pausing a root is
     * a reconfiguration. Changes made while it is off (microseconds) go unreported; the caller rescans.
     */
    @Override
    public boolean retarget(List<WatchedRoot> roots) throws CaptureUnavailableException {
        synchronized (lifecycle) {
            if (device == null) throw new IllegalStateException("kmod source not started");
            try {
                configure(device, roots);
            } catch (IOException e) {
                throw new CaptureUnavailableException("kmod capture: could not set the roots " + roots + ": "
                        + e.getMessage(), e);
            }
            log.info("kmod capture now watches {} root(s): {}", roots.size(), roots);
            return true;
        }
    }

    private static void configure(KmodDevice dev, List<WatchedRoot> roots)
            throws IOException, CaptureUnavailableException {
        dev.disable();
        dev.clearRoots();
        for (WatchedRoot root : roots) {
            try {
                dev.addRoot(root.absolutePath());
            } catch (IOException e) {
                throw new CaptureUnavailableException("kmod capture unavailable: root '" + root.id()
                        + "' (" + PathDisplay.show(root.absolutePath()) + ") rejected: " + e.getMessage()
                        + "; it must be an existing absolute directory", e);
            }
        }
        if (roots.isEmpty()) return; // every root paused: the hook stays off
        dev.setMask(KmodOp.maskAll());
        dev.enable();
    }

    /** The sink the reader delivers into: {@code sink} behind a {@link LossReportingSink}. */
    ChangeSink guarded(ChangeSink sink) {
        return new LossReportingSink(name(), sink, fatal);
    }

    private void readLoop(KmodDevice dev, ChangeSink sink) {
        while (running) {
            try {
                if (!dev.awaitReadable(POLL_MS)) continue;
                byte[] chunk = dev.readRecords();
                if (chunk.length > 0) deliver(chunk, sink);
            } catch (IOException e) {
                if (!running) break;
                // the device failed under us: report a loss so every root is rescanned, then keep trying
                log.error("kmod capture: {}; requesting a rescan of every root", e.getMessage());
                protocolErrors.inc();
                sink.accept(new RawChange.Overflow(null, 0, System.currentTimeMillis() * 1_000_000L));
                sleepQuietly();
            } catch (RuntimeException e) {
                // the chunk being turned into changes is (partly) lost: cover it, then read on
                log.error("kmod capture: handling a read failed; requesting a rescan of every root", e);
                protocolErrors.inc();
                sink.accept(new RawChange.Overflow(null, 0, System.currentTimeMillis() * 1_000_000L));
            }
        }
    }

    void deliver(byte[] chunk, ChangeSink sink) {
        List<KmodRecord> decoded;
        try {
            decoded = decoder.decode(chunk);
        } catch (KmodProtocolException e) {
            log.error("kmod capture: {} ({} bytes read); requesting a rescan of every root", e.getMessage(),
                    chunk.length);
            protocolErrors.inc();
            sink.accept(new RawChange.Overflow(null, 0, System.currentTimeMillis() * 1_000_000L));
            return;
        }
        for (KmodRecord r : decoded) {
            records.labelValues(r.op().name().toLowerCase(Locale.ROOT)).inc();
            if (r.op() == KmodOp.OVERFLOW) {
                lostEvents.inc(r.dropped());
                log.warn("kmod capture: the module lost {} event(s) (ring full); rescanning", r.dropped());
            }
            sink.accept(KmodRecordDecoder.toRawChange(r));
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        synchronized (lifecycle) {
            if (device == null) return;
            running = false;
            try {
                reader.join(5 * POLL_MS + 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                device.disable();
                device.clearRoots();
            } catch (IOException e) {
                log.warn("kmod capture: could not switch the module off: {}", e.getMessage());
            }
            device.close();
            device = null;
            log.info("kmod capture stopped; module hook removed");
        }
    }
}
