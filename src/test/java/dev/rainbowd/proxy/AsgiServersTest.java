package dev.rainbowd.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.TestDaemon;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Python app servers behind a real rainbowd, under keep-alive GETs and POSTs, across
 * redeploys. hypercorn closes a kept-alive connection (without Connection: close) after a response
 * the app sent before hypercorn had processed the request's end; uvicorn does too under an
 * {@code async def} Starlette endpoint. rainbowd sent the next request on such a connection: a GET
 * was replayed through the pool onto another stale one (502), a POST was never replayed (502).
 * Needs Debian's python3-hypercorn, python3-uvicorn and python3-starlette under /usr/bin/python3.
 */
class AsgiServersTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final int CLIENTS = 4;
    /** Per client, in this order: two GETs, one POST. */
    private static final int ROUNDS = 250;
    private static final String BODY = "x".repeat(4096);

    @TempDir
    Path dir;

    @Test
    void hypercornServesKeepAliveGetsAndPostsAcrossRedeploys() throws Exception {
        serves("exec " + PYTHON + " -m hypercorn hypercorn_plain:app --bind 127.0.0.1:$1");
    }

    @Test
    void uvicornWithStarletteServesKeepAliveGetsAndPostsAcrossRedeploys() throws Exception {
        serves("exec " + PYTHON + " -m uvicorn uvicorn_starlette:app --port $1 --log-level warning");
    }

    private void serves(String run) throws Exception {
        // A missing server fails the test (CI installs them: .ci/run), it is never skipped.
        assertTrue(pythonHas("hypercorn", "uvicorn", "starlette"), "Debian's hypercorn, uvicorn and starlette are not installed");
        Map<String, String> settings = TestDaemon.defaults();
        settings.put("run", run);
        settings.put("workingDir", apps().toString());
        try (TestDaemon d = TestDaemon.start(dir, settings).awaitLive()) {
            Queue<String> failures = new ConcurrentLinkedQueue<>();
            int total = CLIENTS * ROUNDS * 3;
            CountDownLatch oneThird = new CountDownLatch(total / 3);
            CountDownLatch twoThirds = new CountDownLatch(2 * total / 3);
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Thread t = new Thread(() -> {
                    // A client of its own: one keep-alive connection per thread.
                    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    HttpRequest get = HttpRequest.newBuilder(d.proxy("/")).timeout(Duration.ofSeconds(30)).build();
                    HttpRequest post = HttpRequest.newBuilder(d.proxy("/")).timeout(Duration.ofSeconds(30))
                            .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
                    for (int n = 0; n < ROUNDS * 3; n++) {
                        boolean isPost = n % 3 == 2;
                        String expected = isPost ? "read 4096" : "ok";
                        try {
                            HttpResponse<String> r = http.send(isPost ? post : get, HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() != 200 || !expected.equals(r.body())) {
                                failures.add((isPost ? "POST" : "GET") + " HTTP " + r.statusCode() + ": " + r.body());
                            }
                        } catch (Exception e) {
                            failures.add((isPost ? "POST " : "GET ") + e);
                        }
                        oneThird.countDown();
                        twoThirds.countDown();
                    }
                }, "client-" + i);
                t.start();
                clients.add(t);
            }
            for (CountDownLatch at : List.of(oneThird, twoThirds)) {
                assertTrue(at.await(120, TimeUnit.SECONDS), "the load stalled: " + failures);
                HttpResponse<String> deploy = d.controlPost("/redeploy?wait=true");
                assertEquals(200, deploy.statusCode(), deploy.body());
            }
            for (Thread t : clients) t.join(TimeUnit.SECONDS.toMillis(120));
            assertEquals(List.of(), List.copyOf(failures), "failed requests (of " + total + ")");
            assertEquals(3, d.status().live().generation());
        }
    }

    private static Path apps() throws URISyntaxException {
        return Path.of(AsgiServersTest.class.getResource("/apps/asgi/hypercorn_plain.py").toURI()).getParent();
    }

    private static boolean pythonHas(String... modules) throws Exception {
        if (!Files.isExecutable(Path.of(PYTHON))) return false;
        Process p = new ProcessBuilder(PYTHON, "-c", "import " + String.join(", ", modules))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
