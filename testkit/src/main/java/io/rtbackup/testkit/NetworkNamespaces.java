package io.rtbackup.testkit;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A network of one test's own: a bridge in this namespace with address 10.b.c.1/24 (a random b, c, no route out), and
 * network namespaces each joined to it by one veth with address 10.b.c.N. This namespace reaches every namespace
 * through the bridge; {@link #linkDown} cuts one off (its veth's bridge end down), {@link #linkUp} heals it.
 * {@link #close()} deletes the namespaces and the bridge. Needs root and iproute2; {@link #create()} says why not
 * where the kernel refuses the bridge, so the caller can skip.
 */
public final class NetworkNamespaces implements AutoCloseable {
    private final String tag;
    private final String subnet;
    private final List<String> namespaces = new ArrayList<>();

    private NetworkNamespaces(String tag, String subnet) {
        this.tag = tag;
        this.subnet = subnet;
    }

    /** The bridge, up with its gateway address; empty with the reason when it cannot be made here (not root). */
    public static Creation create() throws IOException {
        SplittableRandom rnd = new SplittableRandom();
        String tag = Integer.toHexString(rnd.nextInt(0x1000, 0x10000));
        NetworkNamespaces net = new NetworkNamespaces(tag, "10." + (200 + rnd.nextInt(50)) + "." + rnd.nextInt(1, 250));
        ExternalCommand.Result probe = ExternalCommand.of("ip", "link", "add", net.bridge(), "type", "bridge")
            .timeout(Duration.ofSeconds(10)).run();
        if (probe.exitCode() != 0) {
            return new Creation(Optional.empty(), "network namespaces cannot be set up here (needs root and iproute2): "
                + probe.stderrText().strip());
        }
        try {
            net.ip("addr", "add", net.gateway() + "/24", "dev", net.bridge());
            net.ip("link", "set", net.bridge(), "up");
        } catch (IOException | RuntimeException e) {
            net.close();
            throw e;
        }
        return new Creation(Optional.of(net), "");
    }

    /** What {@link #create()} made, or why it could not. */
    public record Creation(Optional<NetworkNamespaces> network, String whyNot) {
    }

    String bridge() {
        return "rtbbr" + tag;
    }

    /** This namespace's address on the bridge. */
    public String gateway() {
        return subnet + ".1";
    }

    /** The address {@link #addNamespace} gives host number {@code host}. */
    public String address(int host) {
        return subnet + "." + host;
    }

    /** The full name of namespace {@code name}, for {@code ip netns exec}. */
    public String namespace(String name) {
        return "rtb" + tag + "-" + name;
    }

    /** A namespace with one veth on the bridge, address .{@code host}, loopback up; returns its full name. */
    public String addNamespace(String name, int host) throws IOException {
        String ns = namespace(name);
        String outside = "rv" + tag + name;
        String inside = "rp" + tag + name;
        ip("netns", "add", ns);
        namespaces.add(ns);
        ip("link", "add", outside, "type", "veth", "peer", "name", inside);
        ip("link", "set", inside, "netns", ns);
        ip("link", "set", outside, "master", bridge());
        ip("link", "set", outside, "up");
        ip("netns", "exec", ns, "ip", "addr", "add", address(host) + "/24", "dev", inside);
        ip("netns", "exec", ns, "ip", "link", "set", inside, "up");
        ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
        return ns;
    }

    /** Cuts namespace {@code name} off: nothing reaches it or leaves it until {@link #linkUp}. */
    public void linkDown(String name) throws IOException {
        ip("link", "set", "rv" + tag + name, "down");
    }

    public void linkUp(String name) throws IOException {
        ip("link", "set", "rv" + tag + name, "up");
    }

    private void ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        ExternalCommand.Result r = ExternalCommand.of(cmd).timeout(Duration.ofSeconds(10)).run();
        if (r.exitCode() != 0) throw new IOException(String.join(" ", cmd) + " failed: " + r.stderrText().strip());
    }

    /** Deletes the namespaces (a process still in one keeps it alive until it exits) and the bridge. */
    @Override
    public void close() {
        for (String ns : namespaces) {
            try {
                ip("netns", "del", ns);
            } catch (IOException e) {
                System.err.println("cleanup: " + e.getMessage());
            }
        }
        try {
            ip("link", "del", bridge());
        } catch (IOException e) {
            System.err.println("cleanup: " + e.getMessage());
        }
    }
}
