package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.daemon.Daemon;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.Ports;
import dev.rainbowd.testing.TestDaemon;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A user of rainbowd.js drops in their unchanged rainbow.conf.json and run.sh. */
class OriginalConfigTest {
    @TempDir
    Path dir;

    private Daemon start(String readiness) throws Exception {
        // As the original: run.sh gets port and pidfile as its two arguments.
        Files.writeString(dir.resolve("run.sh"), "#!/bin/sh\n" + Demo.command() + " \"$1\" \"$2\"\n");
        int port = Ports.freePair();
        Files.writeString(dir.resolve("rainbow.conf.json"), """
                {
                  "run": "sh run.sh",
                  %s,
                  "port": %d,
                  "controlPort": %d
                }
                """.formatted(readiness, port, port + 1));
        return Daemon.start(ConfigLoader.load(ConfigLoader.locate(null, dir)));
    }

    @Test
    void healthCheckPathConfigRunsAndRedeploys() throws Exception {
        Daemon d = start("\"healthCheckPath\": \"\\/health\"");
        try {
            assertEquals(dir.resolve("rainbow.conf.json"), d.config().file());
            HttpResponse<String> r = get(d.proxyPort(), "/");
            assertEquals(200, r.statusCode());
            assertTrue(r.body().startsWith("Hello from generation 1"), r.body());
            HttpResponse<String> deploy = TestDaemon.HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + d.controlPort() + "/redeploy/")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(202, deploy.statusCode());
            TestDaemon.await("generation 2", () -> d.deployer().status().live().generation() == 2, Duration.ofSeconds(20));
            assertEquals("2", get(d.proxyPort(), "/").headers().firstValue("X-Generation").orElseThrow());
        } finally {
            d.close();
            TestDaemon.assertNoBackendsLeft();
        }
    }

    @Test
    void warmupTimeConfigGoesLiveAfterTheWarmup() throws Exception {
        Daemon d = start("\"warmupTime\": 1500");
        try {
            HttpResponse<String> r = get(d.proxyPort(), "/"); // waits for the first generation
            assertEquals(200, r.statusCode());
            assertTrue(d.deployer().status().lastDeploy().duration().toMillis() >= 1500);
        } finally {
            d.close();
            TestDaemon.assertNoBackendsLeft();
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return TestDaemon.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
