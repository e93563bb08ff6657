package dev.rainbowd.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The suite's one wait: look every 10 ms until what is seen is what the test waits for, bounded by
 * a timeout with {@link Slack} (which only turns a hang into a failure). Callers decide what a
 * timeout means and say what they saw, so each failure names its own event.
 */
public final class Poll {
    private static final long EVERY_MS = 10;

    private Poll() {}

    /** The last look: one {@code done} accepts, or what was seen when the time was up (or the thread interrupted). */
    public static <T> T until(Supplier<T> look, Predicate<? super T> done, Duration timeout) {
        long deadline = System.nanoTime() + Slack.of(timeout).toNanos();
        T seen = look.get();
        while (!done.test(seen) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(EVERY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return seen;
            }
            seen = look.get();
        }
        return seen;
    }

    /** True once {@code condition} holds, false if it did not within the timeout. */
    public static boolean until(BooleanSupplier condition, Duration timeout) {
        return until(condition::getAsBoolean, Boolean::booleanValue, timeout);
    }
}
