package io.ferrite.chaos;

import io.ferrite.chaos.history.CheckReport;
import io.ferrite.chaos.history.FinalState;
import io.ferrite.chaos.history.History;
import io.ferrite.chaos.history.HistoryFile;
import io.ferrite.chaos.history.Op;
import io.ferrite.chaos.history.Result;
import io.ferrite.client.ClientOptions;
import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.ServerInfo;
import io.ferrite.client.Table;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chaos run: the cluster in containers, the workload recording its history, the faults in
 * the schedule's order (inject, hold, heal, wait until the cluster settles), then every fault
 * healed, the final state read from the cluster and from the certified replicas, and the
 * checkers' verdict.
 */
final class ChaosRun {
    private static final Logger LOG = LoggerFactory.getLogger(ChaosRun.class);
    static final String TABLE = "chaos";
    /** Servers the workload table spans: the others are only backups for it, until recoveries move tablets. */
    private static final int TABLE_SPAN = 3;

    private final ChaosSettings settings;
    private final PrintStream out;

    ChaosRun(ChaosSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /** What the run found. */
    record Outcome(CheckReport report, List<String> problems, String json) {
        boolean passed() {
            return report.passed() && problems.isEmpty();
        }
    }

    Outcome run() throws Exception {
        long start = System.nanoTime();
        Topology topology = Topology.of(3, 2, settings.servers());
        List<Integer> uids = new ArrayList<>(topology.all().stream().map(Node::uid).toList());
        uids.add(Topology.CLIENT_UID);
        List<String> problems = new ArrayList<>();
        History history = new History();
        Files.createDirectories(settings.runDir());
        say("seed %d; run directory %s", settings.seed(), settings.runDir());
        try (Partitions partitions = Partitions.install(uids)) {
            say("starting %d containers (3 ZooKeeper, 2 coordinators, %d servers) from %s", topology.all().size(),
                    settings.servers(), settings.image());
            try (ChaosCluster cluster = ChaosCluster.start(topology, settings)) {
                say("cluster up in %d s", elapsedS(start));
                try {
                    return exercise(cluster, partitions, history, problems);
                } finally {
                    cluster.saveLogs(settings.runDir().resolve("logs"));
                }
            }
        }
    }

    private Outcome exercise(ChaosCluster cluster, Partitions partitions, History history, List<String> problems)
            throws Exception {
        Topology topology = cluster.topology();
        ClientOptions options = ClientOptions.builder().timeout(Duration.ofSeconds(5)).build();
        try (FerriteClient client = Ferrite.connect(topology.coordinatorAddresses(), options);
             ClusterView view = new ClusterView(topology, client)) {
            awaitSettled(cluster, view, "the start", problems);
            long tableId = createTable(client);
            Table table = client.table(TABLE);
            Workload workload = new Workload(table, history, settings.registers(), settings.counters(),
                    settings.threads(), settings.opsPerSecond(), settings.seed());
            workload.start();
            FaultInjector injector = new FaultInjector(cluster, view, partitions, TABLE);
            FaultSchedule schedule = new FaultSchedule(settings);
            long faultsStart = System.nanoTime();
            int injected = 0;
            awaitSettled(cluster, view, "the table's creation", problems);
            for (FaultSchedule.Planned planned; (planned = schedule.next()) != null; ) {
                if (!settings.smoke() && System.nanoTime() - faultsStart > settings.duration().toNanos()) {
                    break;
                }
                pause(settings.quiet());
                int fault = history.faultInjected(planned.kind().id());
                long at = System.nanoTime();
                FaultInjector.Injected f;
                try {
                    f = injector.inject(planned.kind(), planned.targets());
                } catch (IOException | RuntimeException e) {
                    problems.add("could not inject " + planned.kind().id() + ": " + e);
                    history.faultHealed(fault);
                    continue;
                }
                injected++;
                say("fault %d %s: %s (held %.1f s) — %d ok, %d unknown so far", injected, planned.kind().id(),
                        f.description(), planned.hold().toMillis() / 1000.0, workload.ok(), workload.info());
                pause(planned.hold());
                try {
                    f.heal();
                } catch (IOException | RuntimeException e) {
                    problems.add("could not heal " + planned.kind().id() + ": " + e);
                } finally {
                    partitions.heal(); // whatever the heal did, no rule outlives its fault
                }
                history.faultHealed(fault);
                long settledMs = awaitSettled(cluster, view, planned.kind().id(), problems);
                say("  healed after %.1f s; settled %.1f s after the heal", ms(at) / 1000.0, settledMs / 1000.0);
            }
            partitions.heal();
            awaitSettled(cluster, view, "the end", problems);
            workload.stop();
            say("workload stopped: %d ok, %d unknown, %d failed; reading the final state", workload.ok(),
                    workload.info(), workload.failed());
            FinalState fromCluster = finalRead(table, history, problems);
            List<FinalState> certified = certified(client, tableId, problems);
            CheckReport report = CheckReport.check(settings.seed(), history, fromCluster, certified.getFirst());
            for (FinalState other : certified.subList(1, certified.size())) {
                CheckReport again = CheckReport.check(settings.seed(), history, fromCluster, other);
                if (!again.passed()) {
                    problems.add("with another choice of replica copies: " + again.explain());
                }
            }
            HistoryFile.write(settings.runDir().resolve("history.jsonl"), history, fromCluster, certified.getFirst(),
                    settings.seed());
            String json = report.toJson();
            Files.writeString(settings.runDir().resolve("report.json"), json, StandardCharsets.UTF_8);
            return new Outcome(report, problems, json);
        }
    }

    /** Creates the workload table, retrying while a just-started cluster is slow to answer. */
    private static long createTable(FerriteClient client) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            try {
                return client.createTable(TABLE, TABLE_SPAN);
            } catch (io.ferrite.client.TableExistsException e) {
                return client.listTables().stream().filter(t -> t.name().equals(TABLE)).findFirst().orElseThrow().id();
            } catch (io.ferrite.client.FerriteTimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                LOG.info("creating the table: {}; retrying", e.getMessage());
            }
        }
    }

    /**
     * Waits until the cluster settles, restarting whatever process is down meanwhile — as a
     * supervisor would: a server the cluster declared CRASHED while it was alive (paused, cut
     * off, or too slow) exits once it learns it was deposed, and comes back as a new generation.
     * Returns how long that took.
     */
    private long awaitSettled(ChaosCluster cluster, ClusterView view, String after, List<String> problems) {
        long start = System.nanoTime();
        long deadline = start + settings.settleTimeout().toNanos();
        Optional<String> why;
        while (true) {
            for (Node node : cluster.topology().all()) {
                if (!cluster.isRunning(node)) {
                    say("  %s is down (it exited after %s); restarting it", node, after);
                    cluster.restart(node);
                }
            }
            why = view.unsettled(TABLE, cluster.topology().servers());
            if (why.isEmpty()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                problems.add("not settled " + settings.settleTimeout().toSeconds() + " s after " + after + ": "
                        + why.get());
                say("  NOT SETTLED after %s: %s", after, why.get());
                return ms(start);
            }
            pause(Duration.ofMillis(250)); // polling interval of a condition with a deadline
        }
        return ms(start);
    }

    /** Reads every key through the cluster (recorded in the history too), retrying until it answers. */
    private FinalState finalRead(Table table, History history, List<String> problems) {
        Map<String, Result> registers = new TreeMap<>();
        Map<String, Long> counters = new TreeMap<>();
        int process = 1_000_000;
        for (int i = 0; i < settings.registers() + settings.counters(); i++) {
            boolean counter = i >= settings.registers();
            String key = counter ? Workload.counter(i - settings.registers()) : Workload.register(i);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                long id = history.invoke(process, Op.read(key));
                try {
                    Optional<ObjectValue> v = table.read(key);
                    Result r;
                    if (counter) {
                        long value = v.map(Workload::asLong).orElse(0L);
                        counters.put(key, value);
                        r = v.isPresent() ? Result.counter(value) : Result.absent();
                    } else {
                        r = v.<Result>map(o -> Result.found(o.valueAsString(), o.version())).orElse(Result.absent());
                        registers.put(key, r);
                    }
                    history.ok(id, r);
                    break;
                } catch (RuntimeException e) {
                    history.info(id, e.toString());
                    process++;
                    if (System.nanoTime() > deadline) {
                        problems.add("final read of " + key + " failed for 60 s: " + e);
                        break;
                    }
                }
            }
        }
        return new FinalState(registers, counters);
    }

    /** The final state per choice of replica copies, from the certified replicas of every UP server. */
    private List<FinalState> certified(FerriteClient client, long tableId, List<String> problems) {
        List<String> up = client.servers().stream().filter(s -> s.status().equals("UP")).map(ServerInfo::address)
                .toList();
        try (CertifiedReplicas replicas = new CertifiedReplicas()) {
            CertifiedReplicas.Reading reading = replicas.read(up, up, tableId);
            problems.addAll(reading.problems());
            List<FinalState> states = new ArrayList<>();
            for (Map<String, CertifiedReplicas.Entry> state : reading.states()) {
                Map<String, Result> registers = new HashMap<>();
                Map<String, Long> counters = new HashMap<>();
                for (var e : state.entrySet()) {
                    CertifiedReplicas.Entry entry = e.getValue();
                    if (e.getKey().startsWith("c")) {
                        counters.put(e.getKey(), entry.tombstone() ? 0L : Workload.asLong(e.getKey(), entry.value()));
                    } else {
                        registers.put(e.getKey(), entry.tombstone() ? Result.absent()
                                : Result.found(new String(entry.value(), StandardCharsets.UTF_8), entry.version()));
                    }
                }
                for (int i = 0; i < settings.registers(); i++) {
                    registers.putIfAbsent(Workload.register(i), Result.absent());
                }
                for (int i = 0; i < settings.counters(); i++) {
                    counters.putIfAbsent(Workload.counter(i), 0L);
                }
                states.add(new FinalState(registers, counters));
            }
            return states;
        }
    }

    private void say(String format, Object... args) {
        out.printf("chaos: " + format + "%n", args);
        out.flush();
    }

    private static long ms(long since) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }

    private static long elapsedS(long since) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since);
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis()); // a fault's hold / quiet period: the schedule's timing, not synchronization
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
