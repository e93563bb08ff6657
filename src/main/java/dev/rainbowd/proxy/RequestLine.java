package dev.rainbowd.proxy;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A request line's method and version, held to nginx's rules where Jetty's parser is looser: nginx
 * takes a method of capitals, '_' and '-' only, and the version as "HTTP/" exactly; Jetty matches the
 * version ignoring case and takes any token for a method, and its client then upper-cases the
 * method, so {@code get / http/1.1} reached the app as {@code GET / HTTP/1.1}. A request nginx
 * refuses must not be one rainbowd turns into another. Also keeps the target's bytes, which
 * Jetty's parser does not ({@link #rawTarget}). Fed each read's bytes before Jetty's parser reads
 * them; it reads nothing past the line's end.
 */
final class RequestLine {
    private static final byte[] HTTP = {'H', 'T', 'T', 'P', '/'};

    private enum Part { BEFORE, METHOD, REST, DONE }

    private Part part = Part.BEFORE;
    /** Bytes of the line's last space-separated token so far, and whether they began as "HTTP/". */
    private int token;
    private boolean http;
    /** The line after the method, as it came (Jetty's parser keeps only its UTF-8 decoding). */
    private byte[] rest = new byte[128];
    private int restLength;
    private int methodLength;
    private boolean nonAscii;

    /** A new request line starts (the parser is between messages). */
    void restart() {
        part = Part.BEFORE;
        restLength = 0;
        methodLength = 0;
        nonAscii = false;
    }

    /** The line's length in bytes as sent, without its CRLF (once it is whole). */
    int length() {
        return methodLength + 1 + restLength;
    }

    /**
     * The request-target's bytes when they are not UTF-8, else null. Jetty's parser decodes the
     * target as UTF-8 and puts U+FFFD for each byte that is not: nginx passes the bytes on as sent
     * (an old client's Latin-1, a scanner's probe), and so must we. Null for a target in UTF-8 or
     * ASCII (nearly all of them), whose decoding gives its bytes back.
     */
    byte[] rawTarget() {
        if (!nonAscii || part != Part.DONE || restLength > rest.length) return null;
        int start = 0;
        while (start < restLength && rest[start] == ' ') start++;
        int end = restLength;
        while (end > start && rest[end - 1] != ' ') end--; // the version follows the last space
        while (end > start && rest[end - 1] == ' ') end--;
        byte[] target = Arrays.copyOfRange(rest, start, end);
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(target));
            return null;
        } catch (CharacterCodingException notUtf8) {
            return target;
        }
    }

    /**
     * Reads the line's bytes from the buffer's position without consuming them, carrying on from
     * the bytes of earlier reads. The reason to refuse the line as soon as it is known, else null.
     */
    String scan(ByteBuffer buffer) {
        for (int i = buffer.position(), end = buffer.limit(); i < end && part != Part.DONE; i++) {
            byte b = buffer.get(i);
            switch (part) {
                case BEFORE -> {
                    if (b == '\r' || b == '\n') continue; // empty lines before a request are allowed (RFC 9112 2.2)
                    part = Part.METHOD;
                    methodLength = 1;
                    if (!method(b)) return "method not in capitals";
                }
                case METHOD -> {
                    if (b != ' ') methodLength++;
                    if (b == ' ') {
                        part = Part.REST;
                        token = 0;
                        http = true;
                    } else if (!method(b)) {
                        return "method not in capitals";
                    }
                }
                case REST -> {
                    if (b != '\r' && b != '\n') keep(b);
                    if (b == ' ') {
                        token = 0;
                        http = true;
                    } else if (b == '\r' || b == '\n') {
                        part = Part.DONE;
                        if (!http || token <= HTTP.length) return "version not HTTP/";
                    } else {
                        if (token < HTTP.length && b != HTTP[token]) http = false;
                        token++;
                    }
                }
                default -> throw new IllegalStateException(part.name());
            }
        }
        return null;
    }

    /** Counts every byte, keeps those of a line within the 8 KB limit: a longer one is refused, and must not make each connection hold it. */
    private void keep(byte b) {
        if (restLength == rest.length && rest.length < LineLimits.MAX_LINE) rest = Arrays.copyOf(rest, rest.length * 2);
        if (restLength < rest.length) rest[restLength] = b;
        restLength++;
        nonAscii |= b < 0;
    }

    /** nginx's method bytes; every registered method (GET, M-SEARCH, VERSION-CONTROL ...) is made of them. */
    private static boolean method(byte b) {
        return (b >= 'A' && b <= 'Z') || b == '_' || b == '-';
    }
}
