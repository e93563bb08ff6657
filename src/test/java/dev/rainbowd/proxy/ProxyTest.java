package dev.rainbowd.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.TestDaemon;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the proxy does to requests, against the real demo app. */
class ProxyTest {
    @TempDir
    Path dir;

    @Test
    void forwardedHeadersAreAddedAndBodiesPassThrough() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            HttpResponse<String> r = TestDaemon.HTTP.send(HttpRequest.newBuilder(d.proxy("/headers"))
                    .header("X-Forwarded-For", "203.0.113.7").header("X-Custom", "kept").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            String headers = r.body().toLowerCase();
            assertTrue(headers.contains("x-forwarded-for: 203.0.113.7, 127.0.0.1"), headers);
            assertTrue(headers.contains("x-forwarded-proto: http"), headers);
            assertTrue(headers.contains("x-forwarded-host: 127.0.0.1:" + d.daemon().proxyPort()), headers);
            assertTrue(headers.contains("x-custom: kept"), headers);
            assertEquals(1, r.body().toLowerCase().split("user-agent:", -1).length - 1, "one User-Agent: " + headers);

            String body = "x".repeat(200_000);
            HttpResponse<String> echo = TestDaemon.HTTP.send(HttpRequest.newBuilder(d.proxy("/echo"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, echo.statusCode());
            assertEquals(body, echo.body());
        }
    }

    /**
     * Through the daemon's own connector, an encoded slash in a path is the app's to judge: the
     * demo app's 404, where the proxy answered 400 (ProxyHostileInputTest has the other targets;
     * the demo app, on the JDK's HttpServer, refuses a "|" itself).
     */
    @Test
    void anEncodedSlashReachesTheApp() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive(); Socket s = proxySocket(d)) {
            BufferedReader in = reader(s);
            send(s, "GET /projects/group%2Fapp HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals("not found\n", headAndBody(in), "the app's 404, not the proxy's 400");
        }
    }

    /** Jetty's header cache once turned the second value into the first on a kept-alive connection. */
    @Test
    void headerValuesThatDifferOnlyInCaseReachTheAppAsSent() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive(); Socket s = proxySocket(d)) {
            BufferedReader in = reader(s);
            for (String token : new String[] {"Bearer abcDEF", "Bearer ABCdef"}) {
                send(s, "GET /headers HTTP/1.1\r\nHost: x\r\nAuthorization: " + token + "\r\n\r\n");
                String body = headAndBody(in);
                assertTrue(body.contains("authorization: " + token), body);
            }
        }
    }

    /** Pipelined requests are answered in order (each resumes the connection on the thread that completed the one before). */
    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive(); Socket s = proxySocket(d)) {
            send(s, "GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n" + "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /slow?ms=10 HTTP/1.1\r\nHost: x\r\n\r\n");
            BufferedReader in = reader(s);
            for (String expected : new String[] {"slept 200 ms", "Hello from generation 1", "slept 10 ms"}) {
                assertEquals("HTTP/1.1 200 OK", in.readLine());
                String body = headAndBody(in);
                assertTrue(body.startsWith(expected), body);
            }
        }
    }

    @Test
    void streamingResponsesArePassedOnAsTheyArrive() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive();
             Socket s = new Socket(InetAddress.getLoopbackAddress(), d.daemon().proxyPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /stream?chunks=3&ms=1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            long firstEvent = 0;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("data: ") && firstEvent == 0) firstEvent = System.nanoTime();
            }
            long end = System.nanoTime();
            assertTrue(firstEvent > 0, "no event arrived");
            // The first event came through while the backend was still producing the other two: they
            // come 1 s and 2 s after it, so more than 1 s later even if this thread was not scheduled
            // for a whole second (a bound a busy machine cannot break; a buffered stream arrives at once).
            assertTrue(TimeUnit.NANOSECONDS.toMillis(end - firstEvent) >= 1000,
                    "first event only " + TimeUnit.NANOSECONDS.toMillis(end - firstEvent) + " ms before the end: buffered?");
        }
    }

    @Test
    void requestsWaitForTheFirstGenerationInsteadOfFailing() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "DEMO_START_DELAY_MS=1500 " + Demo.run());
        try (TestDaemon d = TestDaemon.start(dir, s)) {
            assertEquals(null, d.status().live());
            HttpResponse<String> r = d.get("/");
            assertEquals(200, r.statusCode());
            assertEquals("1", r.headers().firstValue("X-Generation").orElseThrow());
        }
    }

    @Test
    void withNoLiveGenerationRequestsGet503WithRetryAfterAtQueueTimeout() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "DEMO_HEALTH_STATUS=500 " + Demo.run());
        s.put("queueTimeout", "300ms");
        try (TestDaemon d = TestDaemon.start(dir, s)) {
            HttpResponse<String> r = d.get("/");
            assertEquals(503, r.statusCode());
            assertNotNull(r.headers().firstValue("Retry-After").orElse(null));
        }
    }

    @Test
    void inFlightCountIsExactWhenTheClientDisconnectsMidRequest() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            Path answer = dir.resolve("answer");
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), d.daemon().proxyPort())) {
                s.getOutputStream().write(("GET /slow?until=" + answer + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                TestDaemon.await("the request in flight", () -> d.status().live().inFlight() == 1, Duration.ofSeconds(10));
            } // the client goes away before the answer
            Files.createFile(answer);
            TestDaemon.await("the count back to zero", () -> d.status().live().inFlight() == 0, Duration.ofSeconds(10));

            // Many clients that vanish at once, and the count still returns to exactly zero.
            for (int i = 0; i < 20; i++) {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), d.daemon().proxyPort())) {
                    s.getOutputStream().write("GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
            }
            TestDaemon.await("the count back to zero", () -> d.status().live().inFlight() == 0, Duration.ofSeconds(10));
            assertEquals(200, d.get("/").statusCode());
            // The client may read the response a moment before Jetty completes the exchange.
            TestDaemon.await("the count back to zero", () -> d.status().live().inFlight() == 0, Duration.ofSeconds(10));
        }
    }

    /** The request is held until the test lets it go (a file), not for a time a redeploy had to beat. */
    @Test
    void aRedeployDrainsTheOldGenerationsRequestThenStopsIt() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            long oldPid = d.status().live().pid();
            Path release = dir.resolve("release-the-request");
            CompletableFuture<HttpResponse<String>> held = TestDaemon.HTTP.sendAsync(
                    HttpRequest.newBuilder(d.proxy("/slow?until=" + release)).build(), HttpResponse.BodyHandlers.ofString());
            TestDaemon.await("the held request in flight", () -> d.status().live().inFlight() == 1, Duration.ofSeconds(10));
            assertEquals(200, d.controlPost("/redeploy?wait=true").statusCode());
            assertEquals(1, d.status().draining().size());
            assertEquals(1, d.status().draining().get(0).inFlight());
            assertTrue(ProcessHandle.of(oldPid).map(ProcessHandle::isAlive).orElse(false), "stopped with a request in flight");
            Files.createFile(release);
            assertEquals(200, held.get(20, TimeUnit.SECONDS).statusCode());
            TestDaemon.await("the old generation stopped after its last request",
                    () -> ProcessHandle.of(oldPid).map(p -> !p.isAlive()).orElse(true), Duration.ofSeconds(15));
        }
    }

    /** Reads the rest of a response head and its Content-Length body from a kept-alive connection; returns the body. */
    /** A raw connection to the daemon's proxy port, for bytes an HTTP client would not send or would rewrite. */
    private static Socket proxySocket(TestDaemon d) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), d.daemon().proxyPort());
        s.setSoTimeout(10_000);
        return s;
    }

    private static BufferedReader reader(Socket s) throws IOException {
        return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
    }

    private static void send(Socket s, String request) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String headAndBody(BufferedReader in) throws IOException {
        int length = -1;
        for (String line; !(line = in.readLine()).isEmpty(); ) {
            if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        char[] body = new char[length];
        for (int n = 0; n < length; ) n += in.read(body, n, length - n);
        return new String(body);
    }
}
