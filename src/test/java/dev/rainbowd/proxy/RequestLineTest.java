package dev.rainbowd.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The request line's method and version, fed as a client's bytes may arrive: split at every point
 * into two reads, or a byte a read. The answer must not depend on where the reads split.
 */
class RequestLineTest {
    private static final String METHOD = "method not in capitals";
    private static final String VERSION = "version not HTTP/";

    static Stream<Arguments> lines() {
        return Stream.of(
                Arguments.of("GET / HTTP/1.1", null),
                Arguments.of("GET /a?b=c HTTP/1.0", null),
                Arguments.of("M-SEARCH * HTTP/1.1", null),
                Arguments.of("X_Y / HTTP/1.1", null),
                Arguments.of("\r\n\r\nGET / HTTP/1.1", null),
                Arguments.of("get / HTTP/1.1", METHOD),
                Arguments.of("Get / HTTP/1.1", METHOD),
                Arguments.of("GEt / HTTP/1.1", METHOD),
                Arguments.of("G3T / HTTP/1.1", METHOD),
                Arguments.of("\r\nget / HTTP/1.1", METHOD),
                Arguments.of("GET / http/1.1", VERSION),
                Arguments.of("GET / HTTP/", VERSION),
                Arguments.of("GET / hTTP/1.1", VERSION),
                Arguments.of("GET / HTTp/1.1", VERSION),
                Arguments.of("GET /HTTP/1.1", VERSION)); // HTTP/0.9: no version at all (Jetty refuses it too)
    }

    @ParameterizedTest
    @MethodSource("lines")
    void theSameAnswerWhereverTheReadsSplit(String line, String expected) {
        byte[] bytes = (line + "\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        for (int split = 0; split <= bytes.length; split++) {
            RequestLine r = new RequestLine();
            String first = r.scan(ByteBuffer.wrap(bytes, 0, split));
            String answer = first != null ? first : r.scan(ByteBuffer.wrap(bytes, split, bytes.length - split));
            assertEquals(expected, answer, "split at " + split);
        }
        RequestLine r = new RequestLine();
        String answer = null;
        for (int i = 0; i < bytes.length && answer == null; i++) answer = r.scan(ByteBuffer.wrap(bytes, i, 1));
        assertEquals(expected, answer, "a byte a read");
    }

    /** It reads nothing past the line's end: a body or the next header is not its business. */
    @ParameterizedTest
    @ValueSource(strings = {"GET / HTTP/1.1\r\nget: http/1.1\r\n\r\n", "POST / HTTP/1.1\r\n\r\nget / http/1.1"})
    void bytesAfterTheLineAreNotRead(String bytes) {
        RequestLine r = new RequestLine();
        assertNull(r.scan(ByteBuffer.wrap(bytes.getBytes(StandardCharsets.ISO_8859_1))));
        assertNull(r.scan(ByteBuffer.wrap("lowercase body".getBytes(StandardCharsets.ISO_8859_1))));
        r.restart();
        assertEquals(METHOD, r.scan(ByteBuffer.wrap("lowercase".getBytes(StandardCharsets.ISO_8859_1))));
    }
}
