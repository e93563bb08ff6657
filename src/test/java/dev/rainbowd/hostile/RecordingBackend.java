package dev.rainbowd.hostile;

import dev.rainbowd.testing.Loopback;
import dev.rainbowd.testing.Poll;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * "The app", on a raw socket: records every request exactly as it arrives (request line, header
 * lines, body), then answers by path. Some paths misbehave on purpose:
 * <ul>
 * <li>{@code /reset}: headers with Content-Length 100000, 1000 bytes of body, then a TCP RST;
 * <li>{@code /chunk-cut}: a chunked response, one chunk, then the connection closes (FIN), no last chunk;
 * <li>{@code /hop-response}: answers with hop-by-hop response headers the proxy must not pass on.
 * </ul>
 */
final class RecordingBackend implements AutoCloseable {
    record Req(String requestLine, List<String> headerLines, Map<String, List<String>> headers, byte[] body) {
        String target() {
            String[] p = requestLine.split(" ");
            return p.length > 1 ? p[1] : "";
        }

        boolean has(String name) {
            return headers.containsKey(name.toLowerCase(Locale.ROOT));
        }

        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : String.join(", ", v);
        }

        @Override
        public String toString() {
            return requestLine + " " + headerLines + " body=" + new String(body, StandardCharsets.ISO_8859_1);
        }
    }

    /** Complete requests (head and body), in arrival order. */
    final Queue<Req> received = new ConcurrentLinkedQueue<>();
    /** True once the proxy closed the connection it got an unsolicited 101 on (false: it sent more on it). */
    final CompletableFuture<Boolean> bare101Closed = new CompletableFuture<>();
    /** Completed to let /tunnel-stalled close its connection. */
    final CompletableFuture<Void> stalledRelease = new CompletableFuture<>();
    /** The request line of every request whose head arrived, complete or not. */
    final Queue<String> heads = new ConcurrentLinkedQueue<>();
    final AtomicInteger connections = new AtomicInteger();
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    RecordingBackend() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::serve, "recording-backend");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    List<Req> requests() {
        return new ArrayList<>(received);
    }

    private void serve() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.incrementAndGet();
                open.add(s);
                Thread t = new Thread(() -> connection(s), "recording-backend-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void connection(Socket s) {
        try (s) {
            s.setSoTimeout(30_000);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (int n = 0; n < 10_000; n++) {
                String line = Raw.line(in);
                if (line == null) return;
                List<String> lines = new ArrayList<>();
                Map<String, List<String>> headers = Raw.headers(in, lines);
                heads.add(line);
                byte[] body = body(in, headers);
                Req r = new Req(line, lines, headers, body);
                received.add(r);
                if (!answer(s, out, r)) return;
            }
        } catch (IOException e) {
            // the proxy went away, or we reset on purpose
        } finally {
            open.remove(s);
        }
    }

    private static byte[] body(InputStream in, Map<String, List<String>> headers) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        if (te != null && String.join(",", te).toLowerCase(Locale.ROOT).contains("chunked")) {
            for (int i = 0; i < 1_000_000; i++) {
                String size = Raw.line(in);
                if (size == null) throw new IOException("EOF in chunked request body");
                int semi = size.indexOf(';');
                int n;
                try {
                    n = Integer.parseInt((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size from the proxy: " + size);
                }
                if (n == 0) {
                    Raw.headers(in, null);
                    break;
                }
                b.write(in.readNBytes(n));
                Raw.line(in);
            }
        } else if (cl != null) {
            b.write(in.readNBytes(Integer.parseInt(cl.get(0).trim())));
        }
        return b.toByteArray();
    }

    /** False when the connection is to end (on purpose). */
    private boolean answer(Socket s, OutputStream out, Req r) throws IOException {
        String path = r.target();
        switch (path) {
            case "/reset" -> {
                out.write(Raw.ascii("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Length: 100000\r\n\r\n"));
                out.write(new byte[1000]);
                out.flush();
                awaitReadByProxy(s); // so the RST cuts the body, not the headers
                s.setSoLinger(true, 0);
                s.close(); // RST
                return false;
            }
            case "/chunk-cut" -> {
                out.write(Raw.ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n"));
                out.flush();
                awaitReadByProxy(s);
                return false; // FIN without the last chunk
            }
            case "/hop-response" -> {
                String body = "hop";
                out.write(Raw.ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                        + "Connection: X-Backend-Hop\r\n"
                        + "X-Backend-Hop: internal\r\n"
                        + "Keep-Alive: timeout=5, max=100\r\n"
                        + "Proxy-Authenticate: Basic realm=\"inner\"\r\n"
                        + "X-Backend-E2E: yes\r\n"
                        + "Content-Length: " + body.length() + "\r\n\r\n" + body));
                out.flush();
                return true;
            }
            case "/value-abcDEF", "/value-ABCdef" -> { // one value in two casings, as two users' tokens might be
                String v = path.substring("/value-".length());
                out.write(Raw.ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: private, " + v
                        + "\r\nX-Token: " + v + "\r\nContent-Length: 2\r\n\r\nok"));
                out.flush();
                return true;
            }
            case "/work-then-die" -> { // a worker that works, then is killed (gunicorn's timeout) before answering
                sleep(1_500);
                return false;
            }
            case "/big-headers" -> { // 12 KB of response headers, in 3 KB cookies
                StringBuilder h = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
                for (int i = 0; i < 4; i++) h.append("Set-Cookie: c").append(i).append('=').append("v".repeat(3000)).append("\r\n");
                out.write(Raw.ascii(h.append("\r\nok").toString()));
                out.flush();
                return true;
            }
            case "/tunnel-until-eof" -> { // a switched protocol that reads to the client's EOF, then answers and closes
                out.write(Raw.ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"));
                out.flush();
                long n = 0;
                byte[] buf = new byte[8192];
                for (int k; (k = s.getInputStream().read(buf)) >= 0; ) n += k;
                out.write(Raw.ascii("read " + n + " bytes, bye"));
                out.flush();
                return false;
            }
            case "/tunnel-stalled" -> { // switches, then reads nothing: what a slow reader looks like
                out.write(Raw.ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n"));
                out.flush();
                try {
                    stalledRelease.get();
                } catch (Exception e) {
                    // released or interrupted: close
                }
                return false;
            }
            case "/bare-101" -> { // a 101 nobody asked for, then bytes a front proxy would take for a new request
                out.write(Raw.ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                        + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"));
                out.flush();
                // What the proxy does with this connection now: it must close it, not send the next request on it.
                try {
                    s.setSoTimeout(20_000);
                    bare101Closed.complete(s.getInputStream().read() < 0);
                } catch (IOException e) {
                    bare101Closed.complete(true);
                }
                return false;
            }
            case "/headers-then-close" -> { // a worker killed between its response head and its body
                out.write(Raw.ascii("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: session=s3cret; Path=/\r\n"
                        + "Cache-Control: public, max-age=3600\r\nContent-Length: 10\r\n\r\n"));
                out.flush();
                awaitReadByProxy(s);
                return false;
            }
            case "/head-chunked" -> { // a HEAD answered as its GET would be, chunked, without the body
                out.write(Raw.ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"));
                out.flush();
                return true;
            }
            case "/head-length" -> { // a HEAD answered with its GET's length, without the body
                out.write(Raw.ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n"));
                out.flush();
                return true;
            }
            case "/not-modified" -> { // a 304 without a length, as most servers send it
                out.write(Raw.ascii("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"));
                out.flush();
                return true;
            }
            default -> {
                String body = "ok " + path;
                out.write(Raw.ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body));
                out.flush();
                return true;
            }
        }
    }

    /** Until the proxy has read all this side sent (bounded: a check that never holds only ends sooner). */
    private static void awaitReadByProxy(Socket s) {
        Poll.until(() -> Loopback.readByPeer(s), Duration.ofSeconds(10));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        stalledRelease.complete(null);
        server.close();
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
