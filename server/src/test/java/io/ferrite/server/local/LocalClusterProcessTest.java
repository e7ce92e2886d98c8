package io.ferrite.server.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.ferrite.client.Ferrite;
import io.ferrite.client.FerriteClient;
import io.ferrite.client.ObjectValue;
import io.ferrite.client.Table;
import io.ferrite.server.ServerMain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code ferrite local} as a user runs it: the supervisor in its own JVM starts ZooKeeper, a
 * coordinator and two servers as processes of their own; the cli (in this JVM) and a Python
 * gRPC client generated from the .proto files use the cluster; SIGTERM to the supervisor
 * leaves no process behind, and neither does SIGKILL (the roles watch their parent).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LocalClusterProcessTest {
    private static final Duration READY_WAIT = Duration.ofSeconds(90);
    private static final Duration EXIT_WAIT = Duration.ofSeconds(60);
    private static final Path PROTO_DIR = moduleDir().resolve("../proto/src/main/proto").normalize();
    private static final Path PYTHON_SCRIPT = moduleDir().resolve("src/test/python/ferrite_interop.py");

    @TempDir
    static Path tmp;

    private Supervisor cluster;
    private final List<Supervisor> started = new ArrayList<>();

    /** A supervisor process, its stdout lines queued, and the READY line's address. */
    private record Supervisor(Process process, BlockingQueue<String> stdout, Path stderr, Path dataDir) {
        String awaitReady() throws InterruptedException {
            long deadline = System.nanoTime() + READY_WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                String line = stdout.poll(200, TimeUnit.MILLISECONDS);
                if (line != null && line.startsWith("READY local ")) {
                    return line.substring("READY local ".length()).trim();
                }
                if (line == null && !process.isAlive()) {
                    throw new AssertionError("local exited with " + process.exitValue() + ": " + read(stderr));
                }
            }
            throw new AssertionError("no READY line within " + READY_WAIT + ": " + read(stderr));
        }
    }

    private static Path moduleDir() {
        String basedir = System.getProperty("basedir");
        return Path.of(basedir != null ? basedir : System.getProperty("user.dir")).toAbsolutePath();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private Supervisor launchLocal(String name, String... args) throws IOException {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path dataDir = tmp.resolve(name);
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                ServerMain.class.getName(), "local", "--data-dir", dataDir.toString()));
        command.addAll(List.of(args));
        Path stderr = tmp.resolve(name + ".err");
        Process process = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().name("stdout-" + name).start(() -> {
            try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("stdout failed: " + e);
            }
        });
        Supervisor supervisor = new Supervisor(process, lines, stderr, dataDir);
        started.add(supervisor);
        return supervisor;
    }

    @BeforeAll
    void startLocalCluster() throws Exception {
        cluster = launchLocal("cluster", "--servers", "2", "--memory", "128m");
        String address = cluster.awaitReady();
        assertThat(address).matches("127\\.0\\.0\\.1:\\d+");
        assertThat(Files.readString(cluster.dataDir().resolve("cluster-address")).trim()).isEqualTo(address);
        // ZooKeeper, the coordinator and two servers: children of the supervisor.
        assertThat(cluster.process().children().count()).isEqualTo(4);
        for (String log : List.of("zookeeper", "coordinator", "server-0", "server-1")) {
            assertThat(cluster.dataDir().resolve("logs/" + log + ".log")).exists();
        }
    }

    @AfterAll
    void killLeftovers() {
        for (Supervisor supervisor : started) {
            supervisor.process().descendants().forEach(ProcessHandle::destroyForcibly);
            supervisor.process().destroyForcibly();
        }
    }

    /** One cli run in this JVM: exit status, stdout, stderr. */
    private record Cli(int status, String out, String err) {
    }

    private Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("cli", "--data-dir", cluster.dataDir().toString()));
        all.addAll(List.of(args));
        int status = new CommandLine(new ServerMain()).setOut(new PrintWriter(out, true))
                .setErr(new PrintWriter(err, true)).execute(all.toArray(String[]::new));
        return new Cli(status, out.toString(), err.toString());
    }

    @Test
    @Order(1)
    void cliAdministersAndReadsAndWrites() {
        Cli created = cli("create-table", "demo", "--span", "2");
        assertThat(created.status()).as(created.err()).isZero();
        assertThat(created.out()).contains("created table demo").contains("2 tablets");
        assertThat(cli("put", "demo", "hello", "world").out()).startsWith("OK version ");
        Cli get = cli("get", "demo", "hello");
        assertThat(get.status()).isZero();
        assertThat(get.out()).isEqualTo("world" + System.lineSeparator());
        assertThat(cli("get", "demo", "hello", "--verbose").out()).startsWith("world" + System.lineSeparator())
                .contains("version:");
        Cli missing = cli("get", "demo", "nobody");
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.out()).isEmpty();
        assertThat(missing.err()).contains("not found");
        assertThat(cli("incr", "demo", "n", "5").out().trim()).isEqualTo("5");
        assertThat(cli("incr", "demo", "n").out().trim()).isEqualTo("6");
        assertThat(cli("get", "demo", "n", "--as", "int64").out().trim()).isEqualTo("6");
        assertThat(cli("scan", "demo").out().lines()).contains("hello\tworld").hasSize(2);
        assertThat(cli("tables").out()).contains("demo");
        assertThat(cli("servers").out().lines().filter(l -> l.contains(" UP "))).hasSize(2);
        assertThat(cli("status").out()).contains("servers:       2 up, 0 crashed");
        Cli snapshot = cli("snapshot", "demo");
        assertThat(snapshot.status()).as(snapshot.err()).isZero();
        assertThat(snapshot.out()).startsWith("snapshot 1 of table demo: 2 objects");
        assertThat(cli("del", "demo", "hello").out()).startsWith("deleted version ");
        assertThat(cli("put", "demo", "later", "x").status()).isZero();
        assertThat(cli("get", "demo", "hello", "--snapshot", "1").out()).isEqualTo("world" + System.lineSeparator());
        assertThat(cli("get", "demo", "later", "--snapshot", "1").status()).isEqualTo(1);
        assertThat(cli("scan", "demo", "--snapshot", "1").out().lines()).contains("hello\tworld").hasSize(2);
        assertThat(cli("snapshots", "demo").out()).contains("COMPLETE");
        Cli overLive = cli("restore", "demo", "1");
        assertThat(overLive.status()).isEqualTo(2);
        assertThat(overLive.err()).contains("--force");
        assertThat(cli("restore", "demo", "1", "--into", "demo-restored").out())
                .startsWith("restored snapshot 1 of demo into new table demo-restored: 2 objects");
        assertThat(cli("get", "demo-restored", "hello").out()).isEqualTo("world" + System.lineSeparator());
        String export = tmp.resolve("demo.frsnap").toString();
        assertThat(cli("export", "demo", "1", export).out()).startsWith("exported snapshot 1 of demo to " + export
                + ": 2 objects");
        assertThat(cli("import", export, "demo-imported").out()).startsWith("imported " + export
                + " into new table demo-imported: 2 objects");
        assertThat(cli("get", "demo-imported", "hello").out()).isEqualTo("world" + System.lineSeparator());
        Cli noSuchSnapshot = cli("get", "demo", "hello", "--snapshot", "7");
        assertThat(noSuchSnapshot.status()).isEqualTo(1);
        assertThat(noSuchSnapshot.err()).contains("no snapshot 7 of table 'demo'");
        assertThat(cli("drop-snapshot", "demo", "1").out()).contains("dropped snapshot 1");
        assertThat(cli("snapshots", "demo").err()).contains("no snapshots");
        assertThat(cli("autosave", "demo", "--every", "5x").status()).isEqualTo(2);
        assertThat(cli("autosave", "demo", "--every", "5m", "--budget", "64m").out())
                .startsWith("autosave of table demo every 5m, budget 64m");
        org.awaitility.Awaitility.await("autosave takes its first snapshot").atMost(java.time.Duration.ofSeconds(30))
                .until(() -> cli("snapshots", "demo").out().contains("autosave"));
        assertThat(cli("restore", "demo", "--as-of", java.time.Instant.now().toString(), "--into", "demo-as-of").out())
                .startsWith("restored snapshot 2 of demo into new table demo-as-of");
        assertThat(cli("autosave", "demo", "--off").out()).startsWith("autosave of table demo off");
        Cli unknown = cli("get", "no-such-table", "k");
        assertThat(unknown.status()).isEqualTo(1);
        assertThat(unknown.err()).contains("no-such-table");
        assertThat(cli("drop-table", "demo").status()).isZero();
        Cli elsewhere = new Cli(new CommandLine(new ServerMain()).setErr(new PrintWriter(new StringWriter()))
                .execute("cli", "--data-dir", tmp.resolve("nothing-here").toString(), "tables"), "", "");
        assertThat(elsewhere.status()).isEqualTo(1);
    }

    @Test
    @Order(2)
    void aSecondSupervisorOnTheSameDataDirSaysWhy() throws Exception {
        Supervisor second = launchLocal("cluster", "--servers", "1");
        assertThat(second.process().waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(second.process().exitValue()).isEqualTo(1);
        assertThat(read(second.stderr())).contains("is in use by another 'ferrite local' (pid "
                + cluster.process().pid() + ")").contains("--data-dir");
        assertThat(cluster.dataDir().resolve("cluster-address")).exists();
        assertThat(cluster.process().isAlive()).isTrue();
    }

    @Test
    @Order(3)
    void moreReplicasThanOtherServersAreRefusedClearly() {
        int status = new CommandLine(new ServerMain()).execute("local", "--servers", "2", "--replicas", "2",
                "--data-dir", tmp.resolve("replicas").toString());
        assertThat(status).isEqualTo(2);
        assertThat(tmp.resolve("replicas")).doesNotExist();
    }

    @Test
    @Order(4)
    void pythonClientGeneratedFromTheProtoFilesCreatesWritesAndReads() throws Exception {
        Optional<String> python = PythonGrpc.find();
        if (python.isEmpty()) {
            String install = "apt-get install -y python3-grpcio python3-grpc-tools (./ferrite test does it as root)";
            if (PythonGrpc.required()) {
                fail("python3 with the grpc and grpc_tools modules is required here (CI=true or"
                        + " FERRITE_REQUIRE_PYTHON=1) but none was found; " + install);
            }
            Assumptions.abort("no python3 with the grpc and grpc_tools modules: the Python interoperability"
                    + " test is skipped; " + install);
        }
        Path stubs = tmp.resolve("python-stubs");
        Files.createDirectories(stubs);
        List<String> protoc = new ArrayList<>(List.of(python.get(), "-m", "grpc_tools.protoc", "-I" + PROTO_DIR,
                "--python_out=" + stubs, "--grpc_python_out=" + stubs));
        try (Stream<Path> files = Files.list(PROTO_DIR.resolve("ferrite/v1"))) {
            files.filter(f -> f.toString().endsWith(".proto")).sorted().forEach(f -> protoc.add(f.toString()));
        }
        PythonGrpc.Run generated = PythonGrpc.run(protoc, tmp.resolve("protoc.out"));
        assertThat(generated.status()).as("protoc: %s", generated.output()).isZero();
        assertThat(stubs.resolve("ferrite/v1/data_pb2_grpc.py")).exists();

        String address = Files.readString(cluster.dataDir().resolve("cluster-address")).trim();
        PythonGrpc.Run client = PythonGrpc.run(List.of(python.get(), PYTHON_SCRIPT.toString(), stubs.toString(),
                address, "from_python"), tmp.resolve("python.out"));
        assertThat(client.status()).as("python client: %s", client.output()).isZero();
        assertThat(client.output()).contains("OK python wrote and read 40 keys");

        // What Python wrote, read back through the Java SDK.
        try (FerriteClient java = Ferrite.connect(address)) {
            Table table = java.table("from_python");
            for (int i = 0; i < 40; i++) {
                assertThat(table.read("py-" + i).map(ObjectValue::valueAsString)).hasValue("python:py-" + i);
            }
            byte[] counter = table.read("py-counter").orElseThrow().value();
            assertThat(ByteBuffer.wrap(counter).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(21);
        }
    }

    @Test
    @Order(10)
    void sigtermStopsEveryProcess() throws Exception {
        List<ProcessHandle> processes = cluster.process().descendants().toList();
        assertThat(processes).hasSize(4);
        cluster.process().destroy();
        assertThat(cluster.process().waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS)).as("local exits").isTrue();
        assertThat(cluster.process().exitValue()).as(read(cluster.stderr())).isZero();
        assertThat(processes).noneMatch(ProcessHandle::isAlive);
        assertThat(read(cluster.stderr())).contains("stopped cleanly");
        assertThat(cluster.dataDir().resolve("cluster-address")).doesNotExist();
    }

    @Test
    @Order(11)
    void sigkillOfTheSupervisorLeavesNoProcessBehind() throws Exception {
        Supervisor doomed = launchLocal("doomed", "--servers", "1", "--memory", "64m");
        doomed.awaitReady();
        List<ProcessHandle> processes = doomed.process().descendants().toList();
        assertThat(processes).hasSize(3);
        doomed.process().destroyForcibly();
        // The roles see their parent gone; ZooKeeper lingers 5 s so the others close their sessions first.
        Awaitility.await("every role exits after its supervisor's SIGKILL").atMost(EXIT_WAIT)
                .pollInterval(Duration.ofMillis(200))
                .until(() -> processes.stream().noneMatch(ProcessHandle::isAlive));
    }
}
