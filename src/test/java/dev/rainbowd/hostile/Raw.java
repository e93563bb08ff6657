package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** HTTP/1.1 on a raw socket: exact bytes out, a tolerant parser for what comes back. */
final class Raw {
    private Raw() {}

    /** Longest line we read before calling it garbage: every loop here is bounded. */
    private static final int MAX_LINE = 1 << 20;

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * One response. {@code status} is 0 when the connection ended (EOF or reset) before a status
     * line; {@code complete} is false when the body was cut short (EOF or reset within it).
     */
    record Resp(int status, String statusLine, Map<String, List<String>> headers, byte[] body, boolean complete,
            String ending) {
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : String.join(", ", v);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return statusLine + " " + headers + " body(" + body.length + ")="
                    + text().substring(0, Math.min(300, text().length())) + " complete=" + complete + " ending=" + ending;
        }
    }

    /** A line without its CRLF (or LF); null at EOF before any byte. */
    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < MAX_LINE; i++) {
            int c = in.read();
            if (c < 0) return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
            if (c == '\n') {
                byte[] a = b.toByteArray();
                int n = a.length > 0 && a[a.length - 1] == '\r' ? a.length - 1 : a.length;
                return new String(a, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        throw new IOException("line longer than " + MAX_LINE);
    }

    /** Header lines up to the empty line, as lower-case name to values. */
    static Map<String, List<String>> headers(InputStream in, List<String> rawLines) throws IOException {
        Map<String, List<String>> h = new LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) {
            String l = line(in);
            if (l == null) throw new IOException("EOF in headers");
            if (l.isEmpty()) return h;
            if (rawLines != null) rawLines.add(l);
            int colon = l.indexOf(':');
            if (colon <= 0) continue;
            h.computeIfAbsent(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(l.substring(colon + 1).trim());
        }
        throw new IOException("too many header lines");
    }

    /**
     * Reads one response. A socket timeout fails the test: the point of most tests here is that
     * nothing hangs.
     */
    static Resp read(InputStream in, boolean head) {
        String statusLine;
        Map<String, List<String>> headers;
        try {
            statusLine = line(in);
            if (statusLine == null) return new Resp(0, "(EOF)", Map.of(), new byte[0], false, "eof");
            headers = headers(in, null);
        } catch (SocketTimeoutException e) {
            fail("no response within the socket timeout (hang)");
            return null;
        } catch (IOException e) {
            return new Resp(0, "(" + e + ")", Map.of(), new byte[0], false, "reset: " + e.getMessage());
        }
        int status;
        try {
            status = Integer.parseInt(statusLine.split(" ", 3)[1]);
        } catch (RuntimeException e) {
            throw new AssertionError("not a status line: " + statusLine);
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        boolean complete = true;
        String ending = "framed";
        try {
            List<String> te = headers.get("transfer-encoding");
            List<String> cl = headers.get("content-length");
            if (head || status / 100 == 1 || status == 204 || status == 304) {
                // no body
            } else if (te != null && String.join(",", te).toLowerCase(Locale.ROOT).contains("chunked")) {
                for (int i = 0; ; i++) {
                    if (i > 1_000_000) throw new IOException("too many chunks");
                    String size = line(in);
                    if (size == null) {
                        complete = false;
                        ending = "eof in chunked body";
                        break;
                    }
                    int semi = size.indexOf(';');
                    int n = Integer.parseInt((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                    if (n == 0) {
                        headers(in, null); // trailers
                        break;
                    }
                    if (!copy(in, body, n)) {
                        complete = false;
                        ending = "eof in chunk";
                        break;
                    }
                    line(in);
                }
            } else if (cl != null) {
                long n = Long.parseLong(cl.get(0));
                if (!copy(in, body, n)) {
                    complete = false;
                    ending = "eof in content-length body";
                }
            } else {
                in.transferTo(body);
                ending = "close-delimited";
            }
        } catch (SocketTimeoutException e) {
            fail("response body stalled (hang) after " + body.size() + " bytes: " + statusLine);
        } catch (IOException e) {
            complete = false;
            ending = "reset in body: " + e.getMessage();
        }
        return new Resp(status, statusLine, headers, body.toByteArray(), complete, ending);
    }

    private static boolean copy(InputStream in, ByteArrayOutputStream out, long n) throws IOException {
        byte[] buf = new byte[8192];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) return false;
            out.write(buf, 0, r);
            n -= r;
        }
        return true;
    }

    /**
     * True if the peer closed (EOF or reset) within the socket's timeout; false if it stayed open.
     * A byte arriving instead is an answer nobody asked for: that fails the test.
     */
    static boolean closedAfter(Socket s) {
        try {
            int b = s.getInputStream().read();
            if (b >= 0) {
                byte[] more = new byte[4096];
                int n = Math.max(0, s.getInputStream().read(more));
                throw new AssertionError("unexpected bytes after the response: " + (char) b
                        + new String(more, 0, n, StandardCharsets.ISO_8859_1));
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    static Socket connect(int port, int timeoutMs) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(timeoutMs);
        return s;
    }

    /** Writes {@code request}; a write the server cut short (it answered and closed) is not an error. */
    static void write(Socket s, byte[] request) {
        try {
            OutputStream out = s.getOutputStream();
            out.write(request);
            out.flush();
        } catch (IOException e) {
            // the server refused early and closed: its answer (if any) is still to be read
        }
    }

    /** Sends {@code request} on a new connection and reads one response. */
    static Resp exchange(int port, byte[] request) throws IOException {
        return exchange(port, request, false);
    }

    static Resp exchange(int port, byte[] request, boolean head) throws IOException {
        try (Socket s = connect(port, 10_000)) {
            write(s, request);
            return read(s.getInputStream(), head);
        }
    }

    static Resp exchange(int port, String request) throws IOException {
        return exchange(port, ascii(request));
    }
}
