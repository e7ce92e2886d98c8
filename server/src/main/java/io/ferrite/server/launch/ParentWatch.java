package io.ferrite.server.launch;

import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The {@code --exit-with-parent PID} option every role takes (a picocli mixin): when the
 * process {@code PID} exits, the role stops exactly as on SIGTERM (the JVM's shutdown, so the
 * role's close is bounded by its {@link RoleSupport.Lifecycle}). A supervisor such as
 * {@code ferrite local} passes its own pid, so no role outlives it even when the supervisor is
 * killed with SIGKILL and cannot stop its children itself.
 *
 * <p>Such a role ignores SIGINT: a Ctrl-C in a terminal reaches the whole process group, and the
 * supervisor alone should react, stopping its roles in order (servers, then coordinators, then
 * ZooKeeper) rather than all at once.
 *
 * <p>A daemon thread checks the parent every {@link #POLL_INTERVAL_MS} ms (the JDK's own
 * {@link ProcessHandle#onExit()} polls a non-child only every few seconds). A role that others
 * depend on while they stop (ZooKeeper) lingers for a while after the parent's exit, so the
 * servers and coordinators close their sessions while it still serves.
 */
public final class ParentWatch {
    /** How often the parent is checked. */
    static final long POLL_INTERVAL_MS = 250;

    @Option(names = "--exit-with-parent", paramLabel = "PID",
            description = "Stop (as on SIGTERM) when process PID exits; 'ferrite local' passes its own pid.")
    Long parentPid;

    /**
     * Starts watching, if the option was given.
     *
     * @param role     the role's name, for the message
     * @param lingerMs how long to go on serving after the parent's exit before stopping
     */
    void watch(String role, long lingerMs) {
        if (parentPid == null) {
            return;
        }
        long pid = parentPid;
        ignoreInterruptSignal(role);
        Optional<ProcessHandle> parent = ProcessHandle.of(pid);
        Thread.ofPlatform().daemon().name("ferrite-" + role + "-parent-watch").start(() -> {
            try {
                while (parent.isPresent() && parent.get().isAlive()) {
                    Thread.sleep(POLL_INTERVAL_MS);
                }
                RoleSupport.failed(role, "parent process " + pid + " (--exit-with-parent) is gone; stopping"
                        + (lingerMs > 0 ? " in " + lingerMs + " ms" : ""));
                if (lingerMs > 0) {
                    Thread.sleep(lingerMs);
                }
                System.exit(0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /**
     * {@code sun.misc.Signal.handle(new Signal("INT"), SignalHandler.SIG_IGN)}, by reflection:
     * javac warns about {@code sun.misc} at every use, and that warning cannot be suppressed.
     */
    private static void ignoreInterruptSignal(String role) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Object ignore = handler.getField("SIG_IGN").get(null);
            signal.getMethod("handle", signal, handler).invoke(null,
                    signal.getConstructor(String.class).newInstance("INT"), ignore);
        } catch (ReflectiveOperationException | RuntimeException e) {
            RoleSupport.failed(role, "cannot ignore SIGINT (" + e + "); a Ctrl-C may stop this role before its"
                    + " supervisor does");
        }
    }
}
