package dev.rainbowd.cli;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * logback's JSON lines with {@code "timestamp"} as ISO-8601 with the zone
 * ({@code 2026-11-24T15:30:07.123+01:00}, as the text format writes it) where logback writes epoch
 * milliseconds: journald's and Loki's users read and query times as text. The rest of the object
 * is logback's, escaping and throwables included.
 */
final class IsoTimeJsonEncoder extends JsonEncoder {
    private static final DateTimeFormatter ISO =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneId.systemDefault());

    IsoTimeJsonEncoder() {
        setWithTimestamp(false);
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        byte[] rest = super.encode(event); // "{" then logback's members
        byte[] time = ("{\"timestamp\":\"" + ISO.format(Instant.ofEpochMilli(event.getTimeStamp())) + "\",")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] line = new byte[time.length + rest.length - 1];
        System.arraycopy(time, 0, line, 0, time.length);
        System.arraycopy(rest, 1, line, time.length, rest.length - 1);
        return line;
    }
}
