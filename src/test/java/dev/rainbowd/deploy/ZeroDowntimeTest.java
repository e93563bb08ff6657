package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The promise: under steady load, redeploys of a healthy app lose no request. */
class ZeroDowntimeTest {
    private static final int CLIENTS = 16;
    private static final int REDEPLOYS = 10;

    @TempDir
    Path dir;

    @Test
    void noRequestIsLostWhileTenRedeploysRunBackToBack() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong ok = new AtomicLong();
            Queue<String> failures = new ConcurrentLinkedQueue<>();
            long hardStop = System.nanoTime() + TimeUnit.SECONDS.toNanos(120); // bounded even if deploys hang
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Thread t = new Thread(() -> {
                    HttpRequest get = HttpRequest.newBuilder(d.proxy("/")).timeout(Duration.ofSeconds(20)).build();
                    while (!stop.get() && System.nanoTime() < hardStop) {
                        try {
                            HttpResponse<String> r = TestDaemon.HTTP.send(get, HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) ok.incrementAndGet();
                            else failures.add("HTTP " + r.statusCode() + ": " + r.body());
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                }, "client-" + i);
                t.start();
                clients.add(t);
            }

            // A long request in flight at the first cutover must finish, with 200, on the old
            // generation. It runs until the test creates a file after that cutover, however long
            // a busy machine takes to start generation 2.
            Path release = dir.resolve("release-the-slow-request");
            CompletableFuture<HttpResponse<String>> slow = TestDaemon.HTTP.sendAsync(
                    HttpRequest.newBuilder(d.proxy("/slow?until=" + release)).build(), HttpResponse.BodyHandlers.ofString());
            TestDaemon.await("the slow request in flight", () -> d.status().live().inFlight() > 0, Duration.ofSeconds(10));

            for (int i = 0; i < REDEPLOYS; i++) {
                HttpResponse<String> deploy = d.controlPost("/redeploy?wait=true");
                assertEquals(200, deploy.statusCode(), deploy.body());
                if (i == 0) {
                    assertFalse(slow.isDone(), "the slow request should still be in flight at cutover");
                    Files.createFile(release);
                }
            }
            HttpResponse<String> slowDone = slow.get(Slack.of(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS);
            stop.set(true);
            for (Thread t : clients) t.join();

            assertEquals(200, slowDone.statusCode());
            assertEquals("1", slowDone.headers().firstValue("X-Generation").orElseThrow(),
                    "the slow request finished on the generation it started on");
            assertEquals(List.of(), List.copyOf(failures), "failed requests (of " + (ok.get() + failures.size()) + ")");
            assertTrue(ok.get() > CLIENTS * REDEPLOYS, "too little load to prove anything: " + ok.get());
            assertEquals(1 + REDEPLOYS, d.status().live().generation());
        }
    }
}
