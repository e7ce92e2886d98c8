package io.ferrite.server.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Finds a python3 with Debian's grpc and grpc_tools modules, and runs it with a deadline. */
final class PythonGrpc {
    private static final long RUN_TIMEOUT_S = 120;

    private PythonGrpc() {
    }

    /** The result of a run: exit status and combined output. */
    record Run(int status, String output) {
    }

    /** Whether a missing Python must fail the test rather than skip it. */
    static boolean required() {
        return "true".equalsIgnoreCase(System.getenv("CI")) || "1".equals(System.getenv("FERRITE_REQUIRE_PYTHON"));
    }

    /** {@code FERRITE_PYTHON}, else Debian's /usr/bin/python3, else python3 on PATH: the first that imports grpc and grpc_tools. */
    static Optional<String> find() throws IOException, InterruptedException {
        List<String> candidates = new ArrayList<>();
        String configured = System.getenv("FERRITE_PYTHON");
        if (configured != null && !configured.isBlank()) {
            candidates.add(configured);
        }
        candidates.add("/usr/bin/python3");
        candidates.add("python3");
        for (String python : candidates) {
            try {
                Process process = new ProcessBuilder(python, "-c", "import grpc, grpc_tools.protoc; grpc.insecure_channel")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0) {
                    return Optional.of(python);
                }
                process.destroyForcibly();
            } catch (IOException e) {
                // Not installed under this name: try the next.
            }
        }
        return Optional.empty();
    }

    static Run run(List<String> command, Path output) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(RUN_TIMEOUT_S, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Run(-1, "did not finish within " + RUN_TIMEOUT_S + " s: " + Files.readString(output));
        }
        return new Run(process.exitValue(), Files.readString(output));
    }
}
