package dev.rainbowd.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Config durations: a number of milliseconds, or a string with a unit
 * ({@code 250ms}, {@code 2s}, {@code 1.5s}, {@code 1m}, {@code 1h}).
 */
public final class Durations {

    /**
     * Longest accepted duration. Far beyond any sensible timeout, and small enough that
     * {@code toNanos()} and {@code System.nanoTime() + d.toNanos()} never overflow.
     */
    static final Duration MAX = Duration.ofDays(365);

    static final String HINT = "is not a duration (use a number of ms or 250ms, 2s, 1m, 1h)";

    // Units are lower case only: "M" could as well mean months and "S" is not SI.
    private static final Pattern TEXT = Pattern.compile("(-?)(\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]*)");

    private static final int MAX_DIGITS = 30;

    private static final long[] UNIT_MILLIS = {3_600_000, 60_000, 1_000};
    private static final String[] UNIT_NAMES = {"h", "m", "s"};

    private Durations() {}

    /**
     * Parses a config value. Every result is a whole number of milliseconds between 0 and
     * one year.
     *
     * @throws IllegalArgumentException whose message is a short predicate about the value
     *     ("is negative", "is not a duration (...)"), meant to follow the value in an error
     */
    public static Duration parse(Object value) {
        BigDecimal millis;
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            millis = BigDecimal.valueOf(((Number) value).longValue());
        } else if (value instanceof BigInteger big) {
            millis = new BigDecimal(big);
        } else if (value instanceof BigDecimal dec) {
            millis = dec;
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException("is not a finite number of milliseconds");
            }
            millis = BigDecimal.valueOf(d);
        } else if (value instanceof String s) {
            millis = parseText(s.strip());
        } else {
            throw new IllegalArgumentException(HINT);
        }
        return check(millis);
    }

    private static BigDecimal parseText(String s) {
        Matcher m = TEXT.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException(HINT);
        }
        // new BigDecimal is quadratic in the digits; no duration needs more than a handful.
        if (m.group(2).length() > MAX_DIGITS) {
            throw new IllegalArgumentException("has too many digits to be a duration");
        }
        BigDecimal number = new BigDecimal(m.group(2));
        if (!m.group(1).isEmpty() && number.signum() != 0) {
            throw new IllegalArgumentException("is negative");
        }
        long factor = switch (m.group(3)) {
            case "", "ms" -> 1;
            case "s" -> 1_000;
            case "m" -> 60_000;
            case "h" -> 3_600_000;
            default -> throw new IllegalArgumentException(HINT);
        };
        return number.multiply(BigDecimal.valueOf(factor));
    }

    private static Duration check(BigDecimal millis) {
        if (millis.signum() < 0) {
            throw new IllegalArgumentException("is negative");
        }
        if (millis.compareTo(BigDecimal.valueOf(MAX.toMillis())) > 0) {
            throw new IllegalArgumentException("is too long (at most " + format(MAX) + ")");
        }
        if (millis.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException("is not a whole number of milliseconds");
        }
        return Duration.ofMillis(millis.longValueExact());
    }

    /**
     * The shortest exact form as one integer and the largest unit that divides it
     * ({@code 250ms}, {@code 1500ms}, {@code 90s}, {@code 2m}, {@code 1h}, {@code 0s});
     * {@link #parse} reads it back to the same duration.
     */
    public static String format(Duration d) {
        if (d.isNegative()) {
            return "-" + format(d.negated());
        }
        if (d.isZero()) {
            return "0s";
        }
        BigDecimal millis = new BigDecimal(BigInteger.valueOf(d.getSeconds()).multiply(BigInteger.valueOf(1_000_000_000))
                .add(BigInteger.valueOf(d.getNano())), 6);
        if (millis.stripTrailingZeros().scale() > 0) {
            return millis.stripTrailingZeros().toPlainString() + "ms"; // never produced by parse()
        }
        BigInteger ms = millis.toBigIntegerExact();
        for (int i = 0; i < UNIT_MILLIS.length; i++) {
            BigInteger[] qr = ms.divideAndRemainder(BigInteger.valueOf(UNIT_MILLIS[i]));
            if (qr[1].signum() == 0) {
                return qr[0] + UNIT_NAMES[i];
            }
        }
        return ms + "ms";
    }
}
