package dev.rainbowd.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.deploy.GenerationStatus;
import dev.rainbowd.testing.LogWatch;
import dev.rainbowd.testing.TestDaemon;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example config of conf/examples/, run for real: the app server as Debian packages it,
 * the compat suite's test app, a real rainbowd. Under load from a few kept-alive clients, three
 * redeploys, each with a slow request in flight at its cutover; then one more with a request
 * in flight at the old generation's own port when rainbowd sends it stopSignal (the app server's
 * graceful stop, which rainbowd's drain never exercises); then a stop of the daemon with a slow
 * request in flight. Not a request may fail, and no process may be left.
 */
class AppServerTest {
    private static final int REDEPLOYS = 3;
    private static final int CLIENTS = 3;
    private static final int MAX_PER_CLIENT = 20_000;
    /** Successful requests before each cutover and after the last. */
    private static final int PROGRESS = 50;

    @TempDir
    Path dir;

    private static final List<String> SERVERS = List.of("gunicorn-sync", "gunicorn-gthread", "gunicorn-gevent",
            "waitress", "uvicorn", "hypercorn", "puma", "unicorn", "thin", "node", "django");

    /** Every config of conf/examples/; {@code -Dcompat.only=puma,thin} runs those alone. */
    static Stream<String> servers() {
        String only = System.getProperty("compat.only", "");
        return only.isEmpty() ? SERVERS.stream() : SERVERS.stream().filter(List.of(only.split(","))::contains);
    }

    /** An example nobody runs would rot: each file of conf/examples/ is in {@link #SERVERS}. */
    @Test
    void everyExampleIsTested() throws IOException {
        try (Stream<Path> files = Files.list(ExampleConfig.DIR)) {
            List<String> examples = files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml")).map(n -> n.substring(0, n.length() - 5)).sorted().toList();
            assertEquals(examples, SERVERS.stream().sorted().toList());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("servers")
    void redeploysAndStopsWithoutALostRequest(String server) throws Exception {
        Installed.require(server);
        Map<String, String> settings = ExampleConfig.load(server);
        settings.put("healthDeadline", "30s");
        String signal = "SIG" + settings.getOrDefault("stopSignal", "TERM");
        long t0 = System.nanoTime();
        try (LogWatch log = new LogWatch()) {
            TestDaemon d = TestDaemon.start(dir, settings);
            boolean closed = false;
            try {
                d.awaitLive();
                int port = d.daemon().proxyPort();
                String host = settings.containsKey("healthCheckHost") ? settings.get("healthCheckHost") : "127.0.0.1:" + port;

                long ok;
                List<String> failures;
                long connections;
                try (Load load = new Load(port, host, CLIENTS, MAX_PER_CLIENT)) {
                    for (int i = 0; i < REDEPLOYS; i++) {
                        load.awaitProgress(PROGRESS);
                        HeldRequest slow = new HeldRequest(dir, port, host).awaitArrived();
                        redeploy(d);
                        assertFalse(slow.isDone(), "the slow request should still be in flight after the cutover");
                        slow.release();
                        assertHeldRequestServed(slow, "the slow request in flight at cutover " + (i + 1));
                    }
                    load.awaitProgress(PROGRESS);
                    load.close();
                    ok = load.ok();
                    failures = load.failures();
                    connections = load.connections();
                }

                // stopSignal with a request in flight: sent straight to the live generation's port,
                // so rainbowd does not wait for it and stops the generation while the app has it.
                GenerationStatus old = d.status().live();
                HeldRequest direct = new HeldRequest(dir, old.port(), host).awaitArrived();
                redeploy(d);
                // Logged just before the signal is sent; the app looks for the release file every
                // 10 ms, so the signal is there first but for a scheduling accident (which would make
                // this round prove less, never fail it).
                log.await(Duration.ofSeconds(30), "port " + old.port() + " pid " + old.pid() + ": " + signal);
                assertFalse(direct.isDone(), () -> "the request at the app ended at " + signal + ": " + direct.outcome());
                direct.release();
                assertHeldRequestServed(direct, "the request the app had when it got " + signal);
                TestDaemon.await("generation " + old.generation() + " stopped",
                        () -> d.status().draining().stream().noneMatch(g -> g.generation() == old.generation()),
                        Duration.ofSeconds(60));
                assertEquals(List.of(), log.matching("port " + old.port() + ":", "SIGKILL"),
                        "the app server should exit on " + signal + " by itself");

                // Stopping the daemon: a slow request in flight finishes first.
                HeldRequest last = new HeldRequest(dir, port, host).awaitArrived();
                CompletableFuture<Void> stopping = CompletableFuture.runAsync(d.daemon()::close);
                log.await(Duration.ofSeconds(10), "rainbowd stopping");
                last.release();
                assertHeldRequestServed(last, "the slow request in flight at shutdown");
                stopping.get(60, TimeUnit.SECONDS);
                closed = true;
                TestDaemon.assertNoBackendsLeft();

                System.out.printf("COMPAT %s: %d requests, %d failed, %d client connections, %d redeploys, %.1f s%n",
                        server, ok + failures.size(), failures.size(), connections, REDEPLOYS + 1,
                        (System.nanoTime() - t0) / 1e9);
                assertEquals(List.of(), failures, "failed requests (of " + (ok + failures.size()) + ")");
                assertTrue(ok >= (REDEPLOYS + 1) * PROGRESS, "too little load to prove anything: " + ok);
            } finally {
                if (!closed) d.close();
            }
        }
    }

    private static void redeploy(TestDaemon d) throws Exception {
        HttpResponse<String> deploy = d.controlPost("/redeploy?wait=true");
        assertEquals(200, deploy.statusCode(), deploy.body());
    }

    private static void assertHeldRequestServed(HeldRequest held, String what) throws Exception {
        RawHttp.Response r = held.response();
        assertEquals(200, r.status(), what + ": " + r.text());
        assertTrue(r.text().startsWith("slow done"), what + ": " + r.text());
    }
}
