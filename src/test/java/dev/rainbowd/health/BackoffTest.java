package dev.rainbowd.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration INITIAL = Duration.ofMillis(20);
    private static final Duration MAX = Duration.ofSeconds(1);

    @Test
    void nominalDoublesUpToMaxAndEachDelayIsEqualJitter() {
        Backoff backoff = new Backoff(INITIAL, MAX, new SplittableRandom(42));
        Duration nominal = INITIAL;
        for (int i = 0; i < 20; i++) {
            assertWithin(backoff.next(), nominal);
            nominal = min(nominal.multipliedBy(2), MAX);
        }
    }

    @Test
    void reachesMaxAfterLog2Steps() {
        // 20, 40, 80, 160, 320, 640, then capped at 1000: the 7th delay onwards can exceed 640ms.
        Backoff backoff = new Backoff(INITIAL, MAX, new SplittableRandom(7));
        long largest = 0;
        for (int i = 0; i < 200; i++) largest = Math.max(largest, backoff.next().toMillis());
        assertTrue(largest > 900 && largest <= 1000, "largest " + largest);
    }

    @Test
    void sameSeedSameDelays() {
        Backoff a = new Backoff(INITIAL, MAX, new SplittableRandom(5));
        Backoff b = new Backoff(INITIAL, MAX, new SplittableRandom(5));
        for (int i = 0; i < 10; i++) assertEquals(a.next(), b.next());
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, MAX, new SplittableRandom()));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(MAX, INITIAL, new SplittableRandom()));
    }

    private static void assertWithin(Duration actual, Duration nominal) {
        assertTrue(actual.compareTo(nominal.dividedBy(2)) >= 0 && actual.compareTo(nominal) <= 0,
                actual + " not in [" + nominal.dividedBy(2) + ", " + nominal + "]");
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
