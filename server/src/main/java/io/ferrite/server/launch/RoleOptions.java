package io.ferrite.server.launch;

import io.ferrite.server.config.Settings;
import java.util.Collection;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Options every role takes (a picocli mixin): the properties file, the interface to bind and
 * the Prometheus port. The values reach the role through {@link #settings}, which reads every
 * option of the command by name, as flags win over the environment and the file.
 */
public final class RoleOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--config", paramLabel = "FILE", description = "Properties file with settings (FERRITE_CONFIG).")
    String config;

    @Option(names = "--listen-host", paramLabel = "HOST", description = "Interface to bind (default: 127.0.0.1).")
    String listenHost;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Prometheus endpoint port; 0 = any free port, off = none (default: 0).")
    String metricsPort;

    /**
     * The role's settings: its flags, {@code FERRITE_*} variables and the properties file
     * ({@code --config}, else {@code FERRITE_CONFIG}).
     *
     * @param known the role's setting names
     * @throws IllegalArgumentException naming an unknown setting in the file or a file that cannot be read
     */
    Settings settings(Collection<String> known) {
        String file = config != null ? config : System.getenv("FERRITE_CONFIG");
        return RoleSupport.settings(command, known, file);
    }
}
