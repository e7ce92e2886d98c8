package io.ferrite.master;

/**
 * Seeds and sizes for the randomized tests. Each test has a fixed default seed so runs are
 * repeatable; {@code -Dferrite.seed=N} replaces it (and {@code -Dferrite.seed=random} picks a
 * fresh one). Every failure message starts with {@link #describe} so the seed can be replayed.
 */
public final class TestSeeds {
    /** System property that overrides every randomized test's seed. */
    public static final String SEED_PROPERTY = "ferrite.seed";

    private TestSeeds() {
    }

    /** The seed to use: the override if given, else {@code defaultSeed}. */
    public static long seed(long defaultSeed) {
        String override = System.getProperty(SEED_PROPERTY);
        if (override == null || override.isBlank()) {
            return defaultSeed;
        }
        if (override.equalsIgnoreCase("random")) {
            return System.nanoTime() ^ Double.doubleToLongBits(Math.random());
        }
        return Long.parseLong(override.trim());
    }

    /** A long setting from a system property, for scaling a test up from the command line. */
    public static long longProperty(String name, long defaultValue) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? defaultValue : Long.parseLong(value.trim());
    }

    /** The prefix of every failure message: how to replay the run. */
    public static String describe(long seed) {
        return "[seed=" + seed + ", replay with -D" + SEED_PROPERTY + "=" + seed + "] ";
    }
}
