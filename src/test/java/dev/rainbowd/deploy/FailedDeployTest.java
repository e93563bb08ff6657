package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A deploy that fails never cuts over, keeps the live generation serving, and leaves no process. */
class FailedDeployTest {
    @TempDir
    Path dir;

    /** The app fails when a marker file exists in its directory: the same config deploys well, then badly. */
    private TestDaemon start() throws Exception {
        return TestDaemon.start(dir, settings()).awaitLive();
    }

    private static Map<String, String> settings() {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "if [ -e fail-exit ]; then echo 'cannot start: on purpose' >&2; exit 1; fi; "
                + Demo.runWhen("unhealthy", "export DEMO_HEALTH_STATUS=500"));
        return s;
    }

    @Test
    void commandThatExitsFailsTheDeployAndTheLiveGenerationKeepsServing() throws Exception {
        try (TestDaemon d = start()) {
            long livePid = d.status().live().pid();
            Files.createFile(dir.resolve("fail-exit"));

            HttpResponse<String> r = d.controlPost("/redeploy?wait=true");

            assertEquals(500, r.statusCode());
            Map<String, Object> body = JsonParse.object(r.body());
            assertEquals("failed", body.get("state"));
            assertEquals(2, body.get("deploy"));
            String reason = (String) body.get("reason");
            assertTrue(reason.contains("exited with status 1"), reason);
            assertTrue(reason.contains("attempt 3 of 3"), reason);
            assertEquals(List.of("cannot start: on purpose"), body.get("output"), "the app's own words come with the reason");
            assertLiveUntouched(d, livePid);
            Map<String, Object> last = JsonParse.map(JsonParse.object(d.controlGet("/status").body()).get("lastDeploy"));
            assertEquals("failed", last.get("state"));
            assertEquals(List.of("cannot start: on purpose"), last.get("output"));
        }
    }

    @Test
    void appThatNeverGetsHealthyFailsAtTheDeadline() throws Exception {
        try (TestDaemon d = start()) {
            long livePid = d.status().live().pid();
            // Long enough for a busy machine to start the app, so that it answers its 500 in time.
            Map<String, String> s = settings();
            s.put("healthDeadline", "10s");
            d.reconfigure(s);
            Files.createFile(dir.resolve("unhealthy"));

            HttpResponse<String> r = d.controlPost("/redeploy?wait=true");

            assertEquals(500, r.statusCode());
            String reason = (String) JsonParse.object(r.body()).get("reason");
            assertTrue(reason.contains("not healthy after") && reason.contains("/health: HTTP 500 ("), reason);
            assertFalse(reason.contains("healthDeadline"), "it answered: more time would not help: " + reason);
            assertLiveUntouched(d, livePid);

            // And once the app is fixed, the next deploy goes live.
            Files.delete(dir.resolve("unhealthy"));
            assertEquals(200, d.controlPost("/redeploy?wait=true").statusCode());
        }
    }

    private static void assertLiveUntouched(TestDaemon d, long livePid) throws Exception {
        HttpResponse<String> still = d.get("/");
        assertEquals(200, still.statusCode());
        assertEquals(Long.toString(livePid), still.headers().firstValue("X-Pid").orElseThrow());
        assertEquals(1, d.status().live().generation());
        // Nothing but the live generation is left running.
        List<Long> running = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList();
        assertEquals(List.of(livePid), running);
    }
}
