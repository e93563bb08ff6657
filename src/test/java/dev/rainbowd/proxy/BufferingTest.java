package dev.rainbowd.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.OpenSpools;
import dev.rainbowd.testing.TestDaemon;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow clients against an app with one sync worker (gunicorn -w 1, as a single-threaded app or
 * gunicorn's sync workers are): request bodies are read whole before the app sees them, and
 * responses run ahead of slow readers, so neither holds the worker (issue 14: 3 slow uploads
 * starved the app, 5/5 GETs timed out; 2 clients not reading a 50 MB response served 0/4).
 */
class BufferingTest {
    /** A GET that waits this long was held behind a slow client: long enough for a loaded machine. */
    private static final Duration GET_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void slowUploadsDoNotHoldTheAppsOnlyWorker() throws Exception {
        try (TestDaemon d = gunicorn(Map.of()); Slow a = new Slow(d); Slow b = new Slow(d); Slow c = new Slow(d)) {
            List<Slow> uploads = List.of(a, b, c);
            for (Slow s : uploads) s.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n" + "a".repeat(10));
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = get(d, "/");
                assertEquals(200, r.statusCode(), r.body());
            }
            for (Slow s : uploads) s.send("b".repeat(990));
            for (Slow s : uploads) {
                String response = s.readAll();
                assertTrue(response.startsWith("HTTP/1.1 200"), response);
                assertTrue(response.endsWith("a".repeat(10) + "b".repeat(990)), response);
            }
        }
    }

    @Test
    void aChunkedBodyReachesAWsgiAppWithItsLength() throws Exception {
        try (TestDaemon d = gunicorn(Map.of()); Slow s = new Slow(d)) {
            s.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            String response = s.readAll();
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            assertTrue(response.endsWith("\r\n\r\nhello world"), response); // the app read CONTENT_LENGTH bytes
        }
    }

    @Test
    void aBodyOfMegabytesGoesThroughTheSpoolIntactAndLeavesNoFileOpen() throws Exception {
        try (TestDaemon d = gunicorn(Map.of())) {
            byte[] body = new byte[5 << 20];
            new Random(7).nextBytes(body);
            HttpResponse<byte[]> r = TestDaemon.HTTP.send(HttpRequest.newBuilder(d.proxy("/echo")).timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            assertArrayEquals(body, r.body());
            TestDaemon.await("the body's spool closed", () -> OpenSpools.count() == 0, GET_TIMEOUT);
        }
    }

    @Test
    void aBodyOverMaxRequestBodyIs413AndNeverReachesTheApp() throws Exception {
        try (TestDaemon d = gunicorn(Map.of("maxRequestBody", "1k"))) {
            String mark = dir.resolve("reached").toString();
            // By its length, before a byte of it: no 100 Continue first.
            try (Slow s = new Slow(d)) {
                s.send("POST /slow?ms=0&mark=" + mark + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\nExpect: 100-continue\r\n\r\n");
                String response = s.readAll();
                assertTrue(response.startsWith("HTTP/1.1 413"), response);
                assertTrue(response.toLowerCase().contains("connection: close"), response);
            }
            // Chunked: when the count goes over.
            try (Slow s = new Slow(d)) {
                s.send("POST /slow?ms=0&mark=" + mark + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "400\r\n" + "x".repeat(1024) + "\r\n1\r\ny\r\n0\r\n\r\n");
                String response = s.readAll();
                assertTrue(response.startsWith("HTTP/1.1 413"), response);
            }
            // At the limit: served.
            HttpResponse<String> r = TestDaemon.HTTP.send(HttpRequest.newBuilder(d.proxy("/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString("z".repeat(1024))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(1024, r.body().length());
            assertFalse(Files.exists(Path.of(mark)), "a refused request reached the app");
            String metrics = d.controlGet("/metrics").body();
            assertTrue(metrics.contains("\nrainbowd_request_body_too_large_total 2.0\n"), metrics);
        }
    }

    /**
     * A client still sending a body rainbowd refused reads the 413: the connection is not closed
     * under it with its bytes unread (a reset the client sees instead of the answer).
     */
    @Test
    void aClientStillUploadingReadsThe413() throws Exception {
        try (TestDaemon d = gunicorn(Map.of("maxRequestBody", "1m")); Slow s = new Slow(d)) {
            s.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + (64 << 20) + "\r\n\r\n");
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                byte[] block = new byte[64 << 10];
                try {
                    for (int i = 0; i < 1024; i++) s.out.write(block);
                } catch (IOException e) { // the server closed: expected, once it has answered
                }
            });
            String response = s.readAll();
            assertTrue(response.startsWith("HTTP/1.1 413"), response);
            s.socket.close();
            upload.get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void withRequestBufferingOffTheAppGetsTheRequestBeforeItsBody() throws Exception {
        try (TestDaemon d = gunicorn(Map.of("requestBuffering", "false")); Slow s = new Slow(d)) {
            Path mark = dir.resolve("arrived");
            s.send("POST /slow?ms=0&mark=" + mark + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n" + "a".repeat(10));
            TestDaemon.await("the app to get the request while its body is still coming", () -> Files.exists(mark), GET_TIMEOUT);
            s.send("a".repeat(90));
            String response = s.readAll();
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
        }
    }

    @Test
    void clientsThatDoNotReadADownloadDoNotHoldTheAppsOnlyWorker() throws Exception {
        try (TestDaemon d = gunicorn(Map.of()); Slow a = new Slow(d); Slow b = new Slow(d)) {
            List<Slow> readers = List.of(a, b);
            for (Slow s : readers) s.send("GET /big?mb=20 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> r = get(d, "/");
                assertEquals(200, r.statusCode(), r.body());
            }
            for (Slow s : readers) assertBig(s.readBytes(), 20);
            TestDaemon.await("the spools closed", () -> OpenSpools.count() == 0, GET_TIMEOUT);
        }
    }

    /** Past maxResponseBuffer the app waits for the client again; what the client reads is whole and in order. */
    @Test
    void aResponseLargerThanItsBufferArrivesWholeThroughASlowReader() throws Exception {
        try (TestDaemon d = gunicorn(Map.of("maxResponseBuffer", "256k")); Slow s = new Slow(d)) {
            s.send("GET /big?mb=8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertBig(s.readBytes(), 8);
        }
    }

    private static void assertBig(byte[] response, int mb) {
        String text = new String(response, StandardCharsets.ISO_8859_1);
        int start = text.indexOf("\r\n\r\n") + 4;
        assertTrue(text.startsWith("HTTP/1.1 200"), text.substring(0, Math.min(200, text.length())));
        assertEquals(mb << 20, response.length - start, "body length");
        for (int i = start; i < response.length; i++) {
            int block = (i - start) >> 16;
            if (response[i] != (byte) block) throw new AssertionError("byte " + (i - start) + " is " + response[i] + ", not " + (byte) block);
        }
    }

    private TestDaemon gunicorn(Map<String, String> extra) throws Exception {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/gunicorn")), "gunicorn is not installed (CI installs it: .ci/run)");
        Map<String, String> settings = TestDaemon.defaults();
        // One sync worker: whatever holds it holds the app.
        settings.put("run", "exec gunicorn -w 1 --bind 127.0.0.1:$1 --log-level warning app:app");
        settings.put("workingDir", wsgiApp().toString());
        settings.putAll(extra);
        return TestDaemon.start(dir, settings).awaitLive();
    }

    private static HttpResponse<String> get(TestDaemon d, String path) throws Exception {
        return TestDaemon.HTTP.send(HttpRequest.newBuilder(d.proxy(path)).timeout(GET_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Path wsgiApp() throws URISyntaxException {
        return Path.of(BufferingTest.class.getResource("/apps/wsgi/app.py").toURI()).getParent();
    }

    /** A raw client that sends when told and reads nothing until asked: a small receive buffer, as a slow phone's. */
    private static final class Slow implements AutoCloseable {
        final Socket socket;
        final OutputStream out;

        Slow(TestDaemon d) throws IOException {
            socket = new Socket();
            socket.setReceiveBufferSize(4096);
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), d.proxy("/").getPort()));
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(60));
            out = socket.getOutputStream();
        }

        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        byte[] readBytes() throws IOException {
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) >= 0; ) all.write(buf, 0, n);
            return all.toByteArray();
        }

        /** Everything until the server closes (the requests here end with the connection). */
        String readAll() throws IOException {
            return new String(readBytes(), StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
