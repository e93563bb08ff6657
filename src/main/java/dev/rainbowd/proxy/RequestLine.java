package dev.rainbowd.proxy;

import java.nio.ByteBuffer;

/**
 * A request line's method and version, held to nginx's rules where Jetty's parser is looser: nginx
 * takes a method of capitals, '_' and '-' only, and the version as "HTTP/" exactly; Jetty matches the
 * version ignoring case and takes any token for a method, and its client then upper-cases the
 * method, so {@code get / http/1.1} reached the app as {@code GET / HTTP/1.1}. A request nginx
 * refuses must not be one rainbowd turns into another. Fed each read's bytes before Jetty's parser
 * reads them; it reads nothing past the line's end.
 */
final class RequestLine {
    private static final byte[] HTTP = {'H', 'T', 'T', 'P', '/'};

    private enum Part { BEFORE, METHOD, REST, DONE }

    private Part part = Part.BEFORE;
    /** Bytes of the line's last space-separated token so far, and whether they began as "HTTP/". */
    private int token;
    private boolean http;

    /** A new request line starts (the parser is between messages). */
    void restart() {
        part = Part.BEFORE;
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
                    if (!method(b)) return "method not in capitals";
                }
                case METHOD -> {
                    if (b == ' ') {
                        part = Part.REST;
                        token = 0;
                        http = true;
                    } else if (!method(b)) {
                        return "method not in capitals";
                    }
                }
                case REST -> {
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

    /** nginx's method bytes; every registered method (GET, M-SEARCH, VERSION-CONTROL ...) is made of them. */
    private static boolean method(byte b) {
        return (b >= 'A' && b <= 'Z') || b == '_' || b == '-';
    }
}
