package dev.rainbowd.testing;

import java.time.Duration;

/**
 * How long a test waits for something before it gives up and fails. A test names what the wait
 * takes at most on a quiet machine; it waits {@link #FACTOR} times that, so a machine busy with
 * other builds (2 cores, load average 8) does not fail it. The wait ends as soon as the thing
 * happens: the slack costs nothing when the code works, only the time a real failure takes to
 * be reported. {@code -Drainbowd.test.slack=N} for a slower machine (an emulator, say).
 */
public final class Slack {
    public static final int FACTOR = Math.max(1, Integer.getInteger("rainbowd.test.slack", 3));

    private Slack() {}

    public static Duration of(Duration quiet) {
        return quiet.multipliedBy(FACTOR);
    }

    /** "30s (10s x slack 3)", for a failure message. */
    public static String describe(Duration quiet) {
        return of(quiet).toSeconds() + " s (" + quiet.toMillis() / 1000.0 + " s x slack " + FACTOR + ")";
    }
}
