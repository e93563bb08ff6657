package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rainbowd.testing.Procs;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DrainTest {
    @TempDir
    Path dir;

    @Test
    void aRequestLongerThanDrainTimeoutIsEndedAtTheTimeoutAndBlocksNothing() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("drainTimeout", "1s");
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            long oldPid = d.status().live().pid();
            CompletableFuture<HttpResponse<String>> slow = TestDaemon.HTTP.sendAsync(
                    HttpRequest.newBuilder(d.proxy("/slow?ms=30000")).build(), HttpResponse.BodyHandlers.ofString());
            TestDaemon.await("the slow request in flight", () -> d.status().live().inFlight() == 1, Duration.ofSeconds(10));

            assertEquals(200, d.controlPost("/redeploy?wait=true").statusCode());
            // Draining generation 1 blocks neither the next deploy nor other requests.
            assertEquals(200, d.controlPost("/redeploy?wait=true").statusCode());
            assertEquals(200, d.get("/").statusCode());
            assertEquals(3, d.status().live().generation());

            // The app would answer 200 after 30 s: a 504 is rainbowd ending it at drainTimeout.
            HttpResponse<String> ended = slow.get(Slack.of(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS);
            assertEquals(504, ended.statusCode());
            TestDaemon.await("generation 1 stopped", () -> !Procs.running(oldPid), Duration.ofSeconds(15));
            TestDaemon.await("nothing draining", () -> d.status().draining().isEmpty(), Duration.ofSeconds(15));
        }
    }
}
