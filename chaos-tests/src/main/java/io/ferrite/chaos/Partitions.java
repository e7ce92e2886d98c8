package io.ferrite.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Network partitions between the chaos cluster's processes, made with iptables in the host's
 * network namespace (every container runs with host networking).
 *
 * <p>On loopback a connection's source address is 127.0.0.1 whatever address its peer listens
 * on, so addresses alone cannot say who sent a packet. Every process runs as its own uid
 * instead, and two chains do the rest:
 * <ul>
 *   <li>{@value #MARK_CHAIN} (table mangle, OUTPUT) marks each new connection (TCP, and Aeron's
 *       UDP flows) with its initiator's mark, the uid (1 for the root client);</li>
 *   <li>{@value #DROP_CHAIN} (table filter, OUTPUT) holds the cuts: packets sent by A to B are
 *       those owned by A's uid and either addressed to B's listening address (connections A
 *       opened) or on a connection B opened (B's connection mark).</li>
 * </ul>
 * A one-way cut drops one of the two directions; a cut both ways drops both. Connections
 * survive a cut (TCP retransmits), as they do when a real link drops packets. Kernel-generated
 * packets that belong to no process (SYN-ACKs, resets) pass, which does not let data through.
 *
 * <p>{@link #heal()} removes every cut; {@link #close()} removes the chains too, and a shutdown
 * hook does the same if the JVM exits first. Chains left by an earlier run that died are
 * removed at {@link #install}.
 */
public final class Partitions implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Partitions.class);
    static final String DROP_CHAIN = "FERRITE-CHAOS";
    static final String MARK_CHAIN = "FERRITE-CHAOS-MARK";
    private static final int ROOT_MARK = 1;

    private final List<String> cuts = new ArrayList<>();
    private final Thread shutdownHook = new Thread(this::removeChainsQuietly, "partitions-cleanup");
    private boolean closed;

    private Partitions() {
    }

    /**
     * Creates the chains (removing any left by an earlier run) and marks the connections of
     * {@code uids}; must run before those processes open connections.
     */
    public static Partitions install(Collection<Integer> uids) throws IOException {
        Partitions p = new Partitions();
        p.removeChainsQuietly();
        iptables("-t", "mangle", "-N", MARK_CHAIN);
        iptables("-t", "mangle", "-I", "OUTPUT", "1", "-j", MARK_CHAIN);
        iptables("-N", DROP_CHAIN);
        iptables("-I", "OUTPUT", "1", "-j", DROP_CHAIN);
        Runtime.getRuntime().addShutdownHook(p.shutdownHook);
        for (int uid : uids) {
            iptables("-t", "mangle", "-A", MARK_CHAIN, "-m", "conntrack", "--ctstate", "NEW", "-m", "owner",
                    "--uid-owner", Integer.toString(uid), "-j", "CONNMARK", "--set-mark",
                    Integer.toString(mark(uid)));
        }
        return p;
    }

    private static int mark(int uid) {
        return uid == 0 ? ROOT_MARK : uid;
    }

    /**
     * Drops every packet {@code from} sends to {@code to}.
     *
     * @param from   the sender's uid
     * @param toUid  the receiver's uid
     * @param toHost the receiver's listening address, or null if it listens nowhere (the client)
     */
    public synchronized void drop(int from, int toUid, String toHost) throws IOException {
        if (toHost != null) {
            iptables("-A", DROP_CHAIN, "-m", "owner", "--uid-owner", Integer.toString(from), "-d", toHost, "-j", "DROP");
        }
        iptables("-A", DROP_CHAIN, "-m", "owner", "--uid-owner", Integer.toString(from), "-m", "connmark", "--mark",
                Integer.toString(mark(toUid)), "-j", "DROP");
        cuts.add(from + "->" + toUid);
    }

    /** Drops {@code a}'s packets to {@code b}, and {@code b}'s to {@code a} when {@code bothWays}. */
    public void cut(Node a, Node b, boolean bothWays) throws IOException {
        drop(a.uid(), b.uid(), b.host());
        if (bothWays) {
            drop(b.uid(), a.uid(), a.host());
        }
    }

    /** The cuts in place, as {@code fromUid->toUid}. */
    public synchronized List<String> cuts() {
        return List.copyOf(cuts);
    }

    /** Removes every cut (the chains stay, so connection marks keep being set). */
    public synchronized void heal() throws IOException {
        if (!cuts.isEmpty()) {
            iptables("-F", DROP_CHAIN);
            cuts.clear();
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        removeChainsQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running or ran
        }
    }

    private void removeChainsQuietly() {
        quietly("-D", "OUTPUT", "-j", DROP_CHAIN);
        quietly("-F", DROP_CHAIN);
        quietly("-X", DROP_CHAIN);
        quietly("-t", "mangle", "-D", "OUTPUT", "-j", MARK_CHAIN);
        quietly("-t", "mangle", "-F", MARK_CHAIN);
        quietly("-t", "mangle", "-X", MARK_CHAIN);
    }

    private static void quietly(String... args) {
        try {
            run(args);
        } catch (IOException e) {
            // absent chain or rule: nothing to remove
        }
    }

    private static void iptables(String... args) throws IOException {
        run(args);
    }

    private static void run(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("iptables");
        command.add("-w");
        command.addAll(List.of(args));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("iptables is needed for partitions (apt-get install -y iptables): " + e.getMessage(), e);
        }
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
            if (process.exitValue() != 0) {
                throw new IOException("failed (" + process.exitValue() + "): " + String.join(" ", command)
                        + (output.isEmpty() ? "" : ": " + output));
            }
            LOG.debug("{}", String.join(" ", command));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }
}
