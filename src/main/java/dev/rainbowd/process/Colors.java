package dev.rainbowd.process;

/** Generations are named by rainbow colours, in order, then around again. */
public final class Colors {
    private static final String[] RAINBOW = {"red", "orange", "yellow", "green", "blue", "indigo", "violet"};

    private Colors() {}

    public static String of(int generation) {
        return RAINBOW[Math.floorMod(generation - 1, RAINBOW.length)];
    }
}
