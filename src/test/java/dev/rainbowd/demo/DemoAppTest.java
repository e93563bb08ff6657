package dev.rainbowd.demo;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.Loopback;
import dev.rainbowd.testing.Poll;
import dev.rainbowd.testing.Ports;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the real demo app as a process, the way rainbowd does. */
class DemoAppTest {
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir Path dir;
    private final List<Process> processes = new ArrayList<>();
    private int port;
    private Path pidFile;

    @BeforeEach
    void release() throws IOException {
        Files.writeString(dir.resolve("VERSION"), "v2\n");
    }

    @AfterEach
    void stopProcesses() throws InterruptedException {
        for (Process p : processes) {
            if (p.isAlive()) p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void servesItsGenerationAndRelease() throws Exception {
        Process app = startReady(Map.of());
        assertEquals(app.pid(), Long.parseLong(Files.readString(pidFile).trim()));

        HttpResponse<String> hello = get("/");
        assertEquals(200, hello.statusCode());
        assertEquals("Hello from generation 7 (pid " + app.pid() + ", release v2)\n", hello.body());
        assertEquals("7", hello.headers().firstValue("X-Generation").orElseThrow());
        assertEquals("v2", hello.headers().firstValue("X-Release").orElseThrow());
        assertEquals(Long.toString(app.pid()), hello.headers().firstValue("X-Pid").orElseThrow());

        HttpResponse<String> health = get("/health");
        assertEquals(200, health.statusCode());
        assertEquals("ok\n", health.body());

        HttpResponse<String> missing = get("/nope");
        assertEquals(404, missing.statusCode());
        assertEquals("7", missing.headers().firstValue("X-Generation").orElseThrow());

        assertEquals("slept 10 ms\n", get("/slow?ms=10").body());
        String log = Files.readString(dir.resolve("out.log"));
        assertTrue(log.matches("(?s)\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z demo generation 7 pid " + app.pid()
                + " release v2 listening on 127\\.0\\.0\\.1:" + port + "\n.*"), log);
    }

    @Test
    void healthStatusFromEnv() throws Exception {
        startReady(Map.of("DEMO_HEALTH_STATUS", "503"));
        assertEquals(503, get("/health").statusCode());
        assertEquals(200, get("/").statusCode());
    }

    @Test
    void echoesHeadersAndBody() throws Exception {
        startReady(Map.of());
        HttpResponse<String> headers = HTTP.send(request("/headers").header("X-Custom", "rainbow 42").build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(headers.body().toLowerCase().contains("x-custom: rainbow 42\n"), headers.body());

        HttpResponse<String> echo = HTTP.send(request("/echo").POST(HttpRequest.BodyPublishers.ofString("hello, demo"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, echo.statusCode());
        assertEquals("hello, demo", echo.body());
    }

    @Test
    void streamsEachEventAtOnce() throws Exception {
        startReady(Map.of());
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write("GET /stream?chunks=3&ms=1000 HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n".getBytes(UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), UTF_8));
            assertEquals("HTTP/1.1 200 OK", in.readLine());
            StringBuilder seen = new StringBuilder();
            String line;
            while ((line = in.readLine()) != null && !line.equals("data: 0")) seen.append(line).append('\n');
            if (line == null) fail("stream ended before its first event: " + seen);
            long first = System.nanoTime();
            while ((line = in.readLine()) != null) seen.append(line).append('\n');
            long restMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - first);
            // Two more events 1s apart follow: the first one was not held back until the end.
            assertTrue(restMs >= 1_000, "rest of the stream came " + restMs + "ms after the first event");
            String headers = seen.toString().toLowerCase();
            assertTrue(headers.contains("content-type: text/event-stream"), headers);
            assertTrue(headers.contains("transfer-encoding: chunked"), headers);
            assertTrue(seen.toString().contains("data: 2"), seen.toString());
        }
    }

    /**
     * The request in flight is a POST whose body the test sends in two parts: once the app has
     * read the first part, its handler runs (the kernel's queue for it is empty), and it stays in
     * flight until the test sends the rest, after it has seen the app stop accepting.
     */
    @Test
    void sigtermFinishesTheRequestInFlightThenExits() throws Exception {
        Process app = startReady(Map.of());
        try (Socket inFlight = new Socket(InetAddress.getLoopbackAddress(), port)) {
            inFlight.setSoTimeout((int) Slack.of(Duration.ofSeconds(20)).toMillis());
            OutputStream out = inFlight.getOutputStream();
            out.write("POST /echo HTTP/1.1\r\nHost: demo\r\nContent-Length: 6\r\nConnection: close\r\n\r\n".getBytes(UTF_8));
            out.flush();
            TestDaemon.await("the app to read the request's head", () -> Loopback.readByPeer(inFlight), Duration.ofSeconds(10));
            out.write("hel".getBytes(UTF_8));
            out.flush();
            TestDaemon.await("the handler to read half the body", () -> Loopback.readByPeer(inFlight), Duration.ofSeconds(10));

            app.destroy(); // SIGTERM

            TestDaemon.await("the app to say it drains the request", () -> log().contains("SIGTERM: draining 1 in-flight request(s)"),
                    Duration.ofSeconds(10));
            assertTrue(Poll.until(() -> Loopback.refuses(port), Duration.ofSeconds(5)), "still accepting after SIGTERM");
            assertTrue(app.isAlive(), "exited with the request in flight");
            out.write("lo!".getBytes(UTF_8));
            out.flush();
            String response = new String(inFlight.getInputStream().readAllBytes(), UTF_8);
            assertTrue(response.startsWith("HTTP/1.1 200 "), response);
            assertTrue(response.endsWith("\r\n\r\nhello!"), response);
        }
        assertTrue(app.waitFor(Slack.of(Duration.ofSeconds(20)).toSeconds(), TimeUnit.SECONDS), "still running");
        assertEquals(143, app.exitValue());
        assertFalse(Files.exists(pidFile), "pidfile left behind");
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("out.log"));
        } catch (IOException e) {
            return "";
        }
    }

    @Test
    void sigtermWhenIdleExitsAtOnceAndReleaseDefaultsToDirectoryName() throws Exception {
        Files.delete(dir.resolve("VERSION"));
        Process app = startReady(Map.of());
        assertEquals(dir.getFileName().toString(), get("/").headers().firstValue("X-Release").orElseThrow());

        long start = System.nanoTime();
        app.destroy();
        assertTrue(app.waitFor(20, TimeUnit.SECONDS), "still running");
        // Not the 30s drain limit: with nothing in flight there is nothing to wait for.
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(ms < 10_000, "took " + ms + "ms to exit");
        assertFalse(Files.exists(pidFile));
    }

    @Test
    void exitCodeKnobExitsBeforeBinding() throws Exception {
        Process app = start(Map.of("DEMO_EXIT_CODE", "3"));
        assertTrue(app.waitFor(20, TimeUnit.SECONDS), "still running");
        assertEquals(3, app.exitValue());
        assertFalse(Files.exists(pidFile));
    }

    private Process start(Map<String, String> env) throws IOException {
        port = Ports.free();
        pidFile = dir.resolve("app.pid");
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", Demo.run(), "sh", Integer.toString(port), pidFile.toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.log").toFile());
        pb.environment().put("RAINBOW_GENERATION", "7");
        pb.environment().putAll(env);
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private Process startReady(Map<String, String> env) throws Exception {
        Process p = start(env);
        Poll.until(() -> Files.exists(pidFile) || !p.isAlive(), Duration.ofSeconds(30));
        if (Files.exists(pidFile)) return p;
        if (!p.isAlive()) fail("demo exited with " + p.exitValue() + ": " + Files.readString(dir.resolve("out.log")));
        fail("no pidfile after " + Slack.describe(Duration.ofSeconds(30)));
        return p;
    }


    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10));
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(request(path).build(), HttpResponse.BodyHandlers.ofString());
    }
}
