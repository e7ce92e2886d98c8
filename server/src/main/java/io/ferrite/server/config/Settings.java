package io.ferrite.server.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Raw settings of one role, layered: a command-line flag wins over an environment variable,
 * which wins over a line of the properties file, which wins over the built-in default. Every
 * setting has one name used everywhere: {@code memory} is the flag {@code --memory}, the
 * variable {@code FERRITE_MEMORY} and the file line {@code memory=512m}.
 *
 * <p>Values stay strings here; the role's typed context parses them with the helpers below,
 * whose errors name the setting and where its value came from.
 */
public final class Settings {
    /** Prefix of the environment variables read: {@code FERRITE_} plus the name upper-cased, '-' as '_'. */
    public static final String ENV_PREFIX = "FERRITE_";

    private final Map<String, Value> values;

    /** A raw value and where it came from ("flag --memory", "environment FERRITE_MEMORY", "file x.properties"). */
    public record Value(String raw, String source) {
    }

    private Settings(Map<String, Value> values) {
        this.values = values;
    }

    /** Settings from flags only (tests, embedding). */
    public static Settings of(Map<String, String> flags) {
        Map<String, Value> values = new HashMap<>();
        flags.forEach((name, raw) -> values.put(name, new Value(raw, "flag --" + name)));
        return new Settings(values);
    }

    /**
     * Layers the sources.
     *
     * @param known names this role understands; an unknown name in the file is an error (a typo
     *              would otherwise be ignored silently); unknown environment variables are ignored
     * @param flags flags given on the command line (name without dashes → value)
     * @param env   the environment ({@link System#getenv()})
     * @param file  a properties file, or null
     * @throws IllegalArgumentException naming the file or the unknown setting
     */
    public static Settings load(Collection<String> known, Map<String, String> flags, Map<String, String> env,
                                Path file) {
        Map<String, Value> values = new HashMap<>();
        if (file != null) {
            Properties properties = new Properties();
            try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(reader);
            } catch (IOException e) {
                throw new IllegalArgumentException("config: cannot read " + file + " (" + e.getMessage() + ")", e);
            }
            for (String name : new TreeSet<>(properties.stringPropertyNames())) {
                if (!known.contains(name)) {
                    throw new IllegalArgumentException("config: " + file + " sets '" + name
                            + "', which is not a setting of this role (known: " + new TreeSet<>(known) + ")");
                }
                values.put(name, new Value(properties.getProperty(name).trim(), "file " + file));
            }
        }
        for (String name : known) {
            String variable = envName(name);
            String raw = env.get(variable);
            if (raw != null && !raw.isEmpty()) {
                values.put(name, new Value(raw.trim(), "environment " + variable));
            }
        }
        flags.forEach((name, raw) -> {
            if (raw != null) {
                values.put(name, new Value(raw, "flag --" + name));
            }
        });
        return new Settings(values);
    }

    /** The environment variable of a setting: {@code listen-port} → {@code FERRITE_LISTEN_PORT}. */
    public static String envName(String name) {
        return ENV_PREFIX + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    public Optional<Value> value(String name) {
        return Optional.ofNullable(values.get(name));
    }

    public Set<String> names() {
        return values.keySet();
    }

    /** The value as given, or {@code fallback}. */
    public String string(String name, String fallback) {
        Value value = values.get(name);
        return value == null ? fallback : value.raw();
    }

    public int integer(String name, int fallback) {
        Value value = values.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.raw().trim().replace("_", ""));
        } catch (NumberFormatException e) {
            throw bad(name, value, "is not an integer");
        }
    }

    /** A size in bytes: a number with an optional unit k, m, g, t (powers of 1024; "kb"/"mib" spellings too). */
    public long size(String name, long fallback) {
        Value value = values.get(name);
        if (value == null) {
            return fallback;
        }
        long bytes = Sizes.parse(value.raw());
        if (bytes < 0) {
            throw bad(name, value, "is not a size (e.g. 512m, 1g, 65536)");
        }
        return bytes;
    }

    /** One of {@code choices} (case-insensitive), returned lower-case. */
    public String choice(String name, String fallback, String... choices) {
        Value value = values.get(name);
        if (value == null) {
            return fallback;
        }
        String lower = value.raw().trim().toLowerCase(Locale.ROOT);
        for (String choice : choices) {
            if (choice.equals(lower)) {
                return choice;
            }
        }
        throw bad(name, value, "is not one of " + String.join(", ", choices));
    }

    private static IllegalArgumentException bad(String name, Value value, String problem) {
        return new IllegalArgumentException(name + ": '" + value.raw() + "' (" + value.source() + ") " + problem);
    }

    /** Where a setting's value came from, for error messages ("default" if not set). */
    public String sourceOf(String name) {
        Value value = values.get(name);
        return value == null ? "default" : value.source();
    }
}
