package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.daemon.Daemon;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.Procs;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Faults around a deploy: the live generation keeps serving through all of them. */
class FaultTest {
    @TempDir
    Path dir;

    @Test
    void anotherProcessTakingThePortFirstMakesTheLaunchRetryOnAFreshPort() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        // The app binds only once the test has taken its port: the race the launcher must survive.
        s.put("run", Demo.runWhen("slow-bind", "while [ ! -e port-taken ]; do sleep 0.05; done"));
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            Files.createFile(dir.resolve("slow-bind"));
            CompletableFuture<HttpResponse<String>> deploy = CompletableFuture.supplyAsync(() -> {
                try {
                    return d.controlPost("/redeploy?wait=true");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            d.awaitStatus("generation 2 launched", st -> st.deploying() != null && st.deploying().generation() == 2, Duration.ofSeconds(10));
            int raced = d.status().deploying().port();
            try (ServerSocket squatter = new ServerSocket(raced, 50, InetAddress.getLoopbackAddress())) {
                Files.createFile(dir.resolve("port-taken"));
                HttpResponse<String> r = deploy.get(Slack.of(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
                Map<String, Object> outcome = JsonParse.object(r.body());
                assertEquals(3, outcome.get("generation"), "generation 2 lost the race, 3 won");
                assertNotEquals(raced, outcome.get("port"));
                assertEquals(200, d.get("/").statusCode());
            }
        }
    }

    @Test
    void anAppThatNeverAnswersItsHealthCheckFailsAtTheDeadlineAndLiveKeepsServing() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", Demo.runWhen("hang", "export DEMO_HANG_ON_HEALTH=1"));
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            // For generation 2 only: short probes, and a deadline a busy machine starts the app
            // well within, so that probes reach it (and time out) rather than find nothing listening.
            s.put("healthTimeout", "300ms");
            s.put("healthDeadline", "10s");
            s.put("stopTimeout", "1s");
            d.reconfigure(s);
            Files.createFile(dir.resolve("hang"));
            HttpResponse<String> r = d.controlPost("/redeploy?wait=true");
            assertEquals(500, r.statusCode());
            String reason = (String) JsonParse.object(r.body()).get("reason");
            assertTrue(reason.contains("not healthy after") && reason.contains("timed out"), reason);
            assertEquals(200, d.get("/").statusCode());
            assertEquals(1, d.status().live().generation());
            assertEquals(List.of(d.status().live().pid()),
                    ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList());
        }
    }

    @Test
    void aStateDirThatCannotBeWrittenIsAClearErrorAtStart() throws Exception {
        Files.writeString(dir.resolve("a-file"), "");
        Map<String, String> s = TestDaemon.defaults();
        s.put("stateDir", dir.resolve("a-file/state").toString());
        Path file = TestDaemon.writeConfig(dir, s);
        Daemon.StartupException e = assertThrows(Daemon.StartupException.class,
                () -> Daemon.start(ConfigLoader.load(file)));
        assertTrue(e.getMessage().startsWith("stateDir " + dir.resolve("a-file/state") + " is not writable"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
        TestDaemon.assertNoBackendsLeft();
    }

    @Test
    void aSecondDaemonOnTheSameStateDirRefusesToStartAndLeavesTheFirstAlone() throws Exception {
        try (TestDaemon first = TestDaemon.start(dir).awaitLive()) {
            long livePid = first.status().live().pid();
            Path other = Files.createDirectories(dir.resolve("second"));
            Map<String, String> s = TestDaemon.defaults();
            s.put("stateDir", dir.resolve("state").toString()); // what a second `rainbowd run` of the same config shares
            Path file = TestDaemon.writeConfig(other, s);

            Daemon.StartupException e = assertThrows(Daemon.StartupException.class,
                    () -> Daemon.start(ConfigLoader.load(file)));

            assertTrue(e.getMessage().contains("another rainbowd is running with stateDir"), e.getMessage());
            assertTrue(Procs.running(livePid), "the first daemon's app was stopped");
            assertEquals(200, first.get("/").statusCode());
        }
    }
}
