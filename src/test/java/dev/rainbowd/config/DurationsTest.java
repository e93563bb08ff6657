package dev.rainbowd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "250ms | 250",
        "2s | 2000",
        "1.5s | 1500",
        "1m | 60000",
        "1h | 3600000",
        "'2 s' | 2000",
        "' 30s ' | 30000",
        "5000 | 5000",
        "0 | 0",
        "-0 | 0",
        "0.25s | 250",
        "1.0ms | 1",
        "8760h | 31536000000",
    })
    void parsesStrings(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    }

    @Test
    void parsesNumbersAsMilliseconds() {
        assertEquals(Duration.ofMillis(5000), Durations.parse(5000));
        assertEquals(Duration.ofMillis(5000), Durations.parse(5000L));
        assertEquals(Duration.ofMillis(5000), Durations.parse(BigInteger.valueOf(5000)));
        assertEquals(Duration.ofMillis(5000), Durations.parse(5000.0));
        assertEquals(Duration.ofMillis(1000), Durations.parse(1e3));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2 parsecs", "2S", "1d", "s", "", "  ", "1..5s", ".5s", "1.s", "2s3", "1m30s", "abc", "0x10", "5 000"})
    void rejectsMalformedText(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertEquals(Durations.HINT, e.getMessage());
    }

    @Test
    void rejectsNegativeNonFiniteOverflowAndOtherTypes() {
        assertReason("is negative", -1);
        assertReason("is negative", -1.5);
        assertReason("is negative", "-2s");
        assertReason("is not a finite number of milliseconds", Double.NaN);
        assertReason("is not a finite number of milliseconds", Double.POSITIVE_INFINITY);
        assertReason("is too long", 1e30);
        assertReason("is too long", new BigInteger("99999999999999999999"));
        assertReason("is too long", "99999999999999999999h");
        assertReason("is too long", "8761h");
        assertReason("is too long", Long.MAX_VALUE);
        assertReason("has too many digits", "9".repeat(1_000_000) + "ms"); // before a quadratic BigDecimal parse
        assertReason("is not a whole number of milliseconds", 1.5);
        assertReason("is not a whole number of milliseconds", "0.5ms");
        assertReason("is not a whole number of milliseconds", "1.0005s");
        assertReason("is not a duration", true);
        assertReason("is not a duration", null);
        assertReason("is not a duration", List.of(1));
    }

    private static void assertReason(String reason, Object value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(value));
        assertTrue(e.getMessage().startsWith(reason), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0 | 0s",
        "1 | 1ms",
        "250 | 250ms",
        "1500 | 1500ms",
        "2000 | 2s",
        "90000 | 90s",
        "60000 | 1m",
        "120000 | 2m",
        "3600000 | 1h",
        "5400000 | 90m",
        "31536000000 | 8760h",
    })
    void formatsWithTheLargestExactUnit(long millis, String text) {
        assertEquals(text, Durations.format(Duration.ofMillis(millis)));
        assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    }

    @Test
    void formatNeverThrowsOnDurationsParseCannotProduce() {
        assertEquals("0.5ms", Durations.format(Duration.ofNanos(500_000)));
        assertEquals("-2s", Durations.format(Duration.ofSeconds(-2)));
        assertEquals("2562047788015215h", Durations.format(Duration.ofSeconds(Long.MAX_VALUE / 3600 * 3600)));
    }

    @Test
    void formatAndParseRoundTrip() {
        Random random = new Random(42);
        for (int i = 0; i < 10_000; i++) {
            long millis = switch (i % 4) {
                case 0 -> random.nextInt(10_000);
                case 1 -> random.nextInt(10_000) * 1000L;
                case 2 -> random.nextInt(10_000) * 60_000L;
                default -> (long) (random.nextDouble() * Durations.MAX.toMillis());
            };
            Duration d = Duration.ofMillis(millis);
            assertEquals(d, Durations.parse(Durations.format(d)), Durations.format(d));
        }
    }
}
