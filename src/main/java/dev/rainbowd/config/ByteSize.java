package dev.rainbowd.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Config sizes, as nginx writes them: a number of bytes, or with a unit {@code k}, {@code m} or
 * {@code g} (binary multiples: 1k = 1024 bytes; {@code kb}, {@code mb}, {@code gb} too, any case).
 */
public final class ByteSize {
    /** Largest accepted size: far beyond any body or buffer a host would hold, and no overflow. */
    static final long MAX = 1L << 40;

    static final String HINT = "is not a size (use a number of bytes or 64k, 100m, 1g)";

    private static final Pattern TEXT = Pattern.compile("(\\d{1,13})\\s*([kmg]?)b?", Pattern.CASE_INSENSITIVE);

    private ByteSize() {}

    /**
     * Parses a config value: an integer or a string.
     *
     * @throws IllegalArgumentException whose message is a short predicate about the value
     */
    public static long parse(Object value) {
        long n;
        if (value instanceof Integer || value instanceof Long) {
            n = ((Number) value).longValue();
            if (n < 0) throw new IllegalArgumentException("is negative");
        } else if (value instanceof String s) {
            Matcher m = TEXT.matcher(s.strip());
            if (!m.matches()) throw new IllegalArgumentException(s.strip().startsWith("-") ? "is negative" : HINT);
            int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
                case "k" -> 10;
                case "m" -> 20;
                case "g" -> 30;
                default -> 0;
            };
            n = Long.parseLong(m.group(1));
            if (n > MAX >> shift) throw new IllegalArgumentException("is more than 1024g");
            n <<= shift;
        } else {
            throw new IllegalArgumentException(HINT);
        }
        if (n > MAX) throw new IllegalArgumentException("is more than 1024g");
        return n;
    }

    /** The shortest exact form: {@code 100m}, {@code 64k}, {@code 1000}. */
    public static String format(long bytes) {
        if (bytes == 0) return "0";
        for (int shift = 30; shift >= 10; shift -= 10) {
            if (bytes % (1L << shift) == 0) return (bytes >> shift) + "kmg".substring(shift / 10 - 1, shift / 10);
        }
        return Long.toString(bytes);
    }
}
