package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.LogWatch;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A generation whose process is dead is never left live. */
class CrashTest {
    @TempDir
    Path dir;

    @Test
    void aGenerationThatDiesAsItGoesLiveIsNotLeftLive() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        // Healthy once, then gone: whether it dies before or after the cutover, it must not stay live.
        s.put("run", Demo.runWhen("die", "export DEMO_DIE_AFTER_HEALTH=1"));
        s.put("restartOnCrash", "false");
        s.put("launchAttempts", "1");
        s.put("queueTimeout", "200ms");
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            Files.createFile(dir.resolve("die"));
            HttpResponse<String> deploy = d.controlPost("/redeploy?wait=true");
            if (deploy.statusCode() == 200) {
                // It went live, then died: once its process is gone, it must not be live any more.
                int port = ((Number) JsonParse.object(deploy.body()).get("port")).intValue();
                TestDaemon.await("generation 2's process to die", () -> ProcessHandle.current().descendants()
                        .noneMatch(p -> p.isAlive() && p.info().arguments().map(a -> List.of(a).contains(Integer.toString(port))).orElse(false)),
                        Duration.ofSeconds(10));
                TestDaemon.await("the dead generation taken out of service", () -> d.status().live() == null, Duration.ofSeconds(10));
                // Requests wait for a generation, then get 503 (not 502 from a dead port).
                HttpResponse<String> r = d.get("/");
                assertEquals(503, r.statusCode());
                assertTrue(r.headers().firstValue("Retry-After").isPresent());
            } else {
                // It died before the cutover: the deploy failed and generation 1 is still live, and serving.
                assertEquals(500, deploy.statusCode());
                assertEquals(1, d.status().live().generation());
                assertEquals(200, d.get("/").statusCode());
            }
        }
    }

    @Test
    void aCrashOfTheLiveGenerationStartsANewOneAndRequestsWaitForIt() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            long pid = d.status().live().pid();
            ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // kill -9 of the app
            HttpResponse<String> r = d.get("/"); // waits for the restart instead of failing
            assertEquals(200, r.statusCode());
            assertEquals("2", r.headers().firstValue("X-Generation").orElseThrow());
            assertEquals("crash-restart", d.status().lastDeploy().trigger().toString());
        }
    }

    @Test
    void aCrashLoopBacksOffAndShowsInStatusUntilTheAppIsFixed() throws Exception {
        Path launches = dir.resolve("launches");
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "echo $$ >> launches; if [ -e broken ]; then exit 1; fi; " + Demo.run());
        s.put("launchAttempts", "1");
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            Files.createFile(dir.resolve("broken"));
            ProcessHandle.of(d.status().live().pid()).orElseThrow().destroyForcibly();

            // Restart 1 at once (fails), 2 after 1 s (fails), 3 is then due 2 s later.
            // One status read per look: between two, the restart may run and `restarting` be null (failed in CI).
            d.awaitStatus("the third restart scheduled", st -> st.restarting() != null && st.restarting().attempt() >= 3, Duration.ofSeconds(15));
            // No spinning: generation 1 and one launch per restart so far. The launches are read
            // first: a restart that runs meanwhile is in the attempt number read after them.
            long launched = Files.readAllLines(launches).size();
            AtomicReference<Status.Restart> next = new AtomicReference<>();
            TestDaemon.await("the next restart scheduled", () -> {
                next.set(d.status().restarting());
                return next.get() != null;
            }, Duration.ofSeconds(15));
            assertTrue(launched <= 1 + next.get().attempt(), "launches so far: " + launched + " by restart " + next.get().attempt());
            Map<String, Object> restarting = JsonParse.map(JsonParse.object(d.controlGet("/status").body()).get("restarting"));
            assertTrue(((Number) restarting.get("attempt")).intValue() >= 3, restarting.toString());
            assertEquals("failed", d.status().lastDeploy().state());

            Files.delete(dir.resolve("broken"));
            HttpResponse<String> r = d.get("/"); // waits for the next restart instead of failing
            assertEquals(200, r.statusCode());
            TestDaemon.await("the loop over", () -> d.status().restarting() == null, Duration.ofSeconds(5));
        }
    }

    @Test
    void aFirstStartThatFailsIsRetriedWithBackoffUntilTheAppComesUp() throws Exception {
        Files.createFile(dir.resolve("broken"));
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", Demo.runWhen("broken", "exit 1"));
        s.put("launchAttempts", "1");
        try (LogWatch log = new LogWatch(); TestDaemon d = TestDaemon.start(dir, s)) {
            AtomicReference<Status.Restart> retry = new AtomicReference<>();
            TestDaemon.await("a retry scheduled", () -> {
                retry.set(d.status().restarting());
                return retry.get() != null && retry.get().attempt() >= 2;
            }, Duration.ofSeconds(15));
            // Nothing ever ran: a start that fails is not a crash, in status nor in the log.
            assertEquals(Trigger.START_RETRY, retry.get().trigger());
            log.await(Duration.ofSeconds(5), "start failed: retry 2 in 1000 ms");
            assertEquals(List.of(), log.matching("crash"));
            Files.delete(dir.resolve("broken")); // the database came up, say
            HttpResponse<String> r = d.get("/");
            assertEquals(200, r.statusCode());
            assertTrue(d.status().live() != null);
            assertEquals("start-retry", d.status().lastDeploy().trigger().toString());
        }
    }

    @Test
    void aCrashRestartQueuedBehindADeployThatGoesLiveIsSkipped() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        // Generation 2 starts once the test has seen the crash restart queued behind its deploy.
        s.put("run", Demo.runWhen("slow", "while [ ! -e go ]; do sleep 0.05; done"));
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            Files.createFile(dir.resolve("slow"));
            CompletableFuture<HttpResponse<String>> deploy = TestDaemon.HTTP.sendAsync(
                    HttpRequest.newBuilder(d.control("/redeploy?wait=true"))
                            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            TestDaemon.await("deploy #2 under way", () -> d.status().deploying() != null, Duration.ofSeconds(10));
            ProcessHandle.of(d.status().live().pid()).orElseThrow().destroyForcibly(); // a crash meanwhile
            TestDaemon.await("the crash restart queued", () -> d.status().pending(), Duration.ofSeconds(10));
            Files.createFile(dir.resolve("go"));

            assertEquals(200, deploy.get(Slack.of(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS).statusCode());
            TestDaemon.await("the queued restart handled", () -> d.status().lastDeploy().id() == 3, Duration.ofSeconds(10));
            assertEquals(2, d.status().live().generation(), "no third generation for a crash that is healed");
            assertTrue(d.status().lastDeploy().reason().contains("is live already"), d.status().lastDeploy().toString());
        }
    }
}
