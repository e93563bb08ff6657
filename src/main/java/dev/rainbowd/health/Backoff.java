package dev.rainbowd.health;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with "equal jitter": the nominal delay doubles on every call up to {@code max},
 * and each returned delay is uniform in [nominal/2, nominal], so probes of several generations
 * never fall into lockstep yet never wait much less than intended. Not thread-safe.
 */
public final class Backoff {
    private final long maxNanos;
    private final RandomGenerator random;
    private long nominalNanos;

    public Backoff(Duration initial, Duration max, RandomGenerator random) {
        if (initial.isNegative() || initial.isZero()) throw new IllegalArgumentException("initial must be > 0: " + initial);
        if (max.compareTo(initial) < 0) throw new IllegalArgumentException("max " + max + " < initial " + initial);
        this.maxNanos = max.toNanos();
        this.random = random;
        this.nominalNanos = initial.toNanos();
    }

    public Duration next() {
        long nominal = nominalNanos;
        nominalNanos = nominal > maxNanos / 2 ? maxNanos : nominal * 2;
        long half = nominal / 2;
        return Duration.ofNanos(half + random.nextLong(nominal - half + 1));
    }
}
