package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A redeploy end to end: real daemon, real demo app processes, real sockets. */
class RedeployTest {
    @TempDir
    Path dir;

    @Test
    void redeployCutsOverToANewProcessAndStopsTheOldOne() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            HttpResponse<String> first = d.get("/");
            assertEquals(200, first.statusCode());
            assertEquals("1", first.headers().firstValue("X-Generation").orElseThrow());
            long oldPid = Long.parseLong(first.headers().firstValue("X-Pid").orElseThrow());

            HttpResponse<String> deploy = d.controlPost("/redeploy?wait=true");
            assertEquals(200, deploy.statusCode(), deploy.body());
            Map<String, Object> outcome = JsonParse.object(deploy.body());
            assertEquals("live", outcome.get("state"));
            assertEquals(2, outcome.get("generation"));
            assertEquals(2, outcome.get("deploy"));

            HttpResponse<String> second = d.get("/");
            assertEquals("2", second.headers().firstValue("X-Generation").orElseThrow());
            long newPid = Long.parseLong(second.headers().firstValue("X-Pid").orElseThrow());
            assertNotEquals(oldPid, newPid);

            TestDaemon.await("the old generation's process to exit",
                    () -> ProcessHandle.of(oldPid).map(p -> !p.isAlive()).orElse(true), Duration.ofSeconds(15));
            TestDaemon.await("draining to end", () -> d.status().draining().isEmpty(), Duration.ofSeconds(5));

            Map<String, Object> status = JsonParse.object(d.controlGet("/status").body());
            Map<String, Object> live = JsonParse.map(status.get("live"));
            assertEquals(2, live.get("generation"));
            assertEquals("orange", live.get("color"));
            assertEquals(outcome.get("port"), live.get("port"));
            assertEquals(newPid, ((Number) live.get("pid")).longValue());
            assertEquals(dir.toString(), live.get("release"));
            assertEquals(List.of(), status.get("draining"));
            assertNull(status.get("deploying"));
            Map<String, Object> last = JsonParse.map(status.get("lastDeploy"));
            assertEquals(2, last.get("id"));
            assertEquals("live", last.get("state"));
            assertEquals("control", last.get("trigger"));
            assertTrue(((Number) status.get("uptimeMs")).longValue() > 0);
        }
    }

    @Test
    void redeployWithoutWaitIsQueuedAtOnce() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            HttpResponse<String> r = d.controlPost("/redeploy/"); // trailing slash, as the original
            assertEquals(202, r.statusCode());
            assertEquals(Map.of("deploy", 2, "state", "queued"), JsonParse.object(r.body()));
            d.awaitStatus("generation 2 live",
                    st -> st.live() != null && st.live().generation() == 2, Duration.ofSeconds(20));
        }
    }

    @Test
    void fiftySimultaneousTriggersMakeAtMostTwoDeploys() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            List<Thread> threads = new ArrayList<>();
            Set<Object> ids = ConcurrentHashMap.newKeySet();
            CountDownLatch go = new CountDownLatch(1);
            for (int i = 0; i < 50; i++) {
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                        HttpResponse<String> r = d.controlPost("/redeploy");
                        assertEquals(202, r.statusCode());
                        ids.add(JsonParse.object(r.body()).get("deploy"));
                    } catch (Exception e) {
                        ids.add(e.toString());
                    }
                });
                t.start();
                threads.add(t);
            }
            go.countDown();
            for (Thread t : threads) t.join();
            assertTrue(ids.size() <= 2, "deploy ids: " + ids);
            TestDaemon.await("the deploys to end",
                    () -> d.status().deploying() == null && !d.status().pending(), Duration.ofSeconds(30));
            Status s = d.status();
            assertTrue(s.lastDeploy().id() <= 3, "deploys made: " + s.lastDeploy().id());
            assertTrue(s.live().generation() <= 3, "generations: " + s.live().generation());
            assertEquals(200, d.get("/").statusCode());
        }
    }
}
