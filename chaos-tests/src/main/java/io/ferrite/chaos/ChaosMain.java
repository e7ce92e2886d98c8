package io.ferrite.chaos;

/** Entry point of {@code ./ferrite chaos}. */
public final class ChaosMain {
    private ChaosMain() {
    }

    public static void main(String[] args) {
        System.err.println("ferrite chaos: not built yet");
        System.exit(2);
    }
}
