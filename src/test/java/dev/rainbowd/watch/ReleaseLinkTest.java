package dev.rainbowd.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.deploy.Status;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.Procs;
import dev.rainbowd.testing.TestDaemon;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capistrano-style deploys: CI unpacks a release and swaps the `current` link atomically. */
class ReleaseLinkTest {
    @TempDir
    Path dir;

    @BeforeEach
    void releases() throws IOException {
        for (String v : new String[] {"v1", "v2", "v3"}) {
            Path r = Files.createDirectories(dir.resolve("releases").resolve(v));
            Files.writeString(r.resolve("VERSION"), v + "\n");
        }
        Files.writeString(dir.resolve("releases/not-a-dir"), "");
        Files.createSymbolicLink(dir.resolve("current"), Path.of("releases/v1"));
    }

    private TestDaemon start() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", Demo.run());
        s.put("releaseLink", dir.resolve("current").toString());
        return TestDaemon.start(dir, s).awaitLive();
    }

    /** The swap CI runs: a new link, renamed over the old one. */
    private void swap(String target) throws Exception {
        sh("ln -sfn releases/" + target + " current.tmp && mv -T current.tmp current");
    }

    private void sh(String script) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", script).directory(dir.toFile()).inheritIO().start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), script);
    }

    private static String release(TestDaemon d) throws Exception {
        HttpResponse<String> r = d.get("/");
        assertEquals(200, r.statusCode());
        return r.headers().firstValue("X-Release").orElseThrow();
    }

    private static void awaitLive(TestDaemon d, int generation) {
        TestDaemon.await("generation " + generation + " live", () -> {
            Status s = d.status();
            return s.live() != null && s.live().generation() == generation && s.deploying() == null && !s.pending();
        }, Duration.ofSeconds(30));
    }

    private static DeployResult awaitDeploy(TestDaemon d, long id) {
        TestDaemon.await("deploy #" + id + " to end", () -> {
            Status s = d.status();
            return s.lastDeploy() != null && s.lastDeploy().id() >= id && s.deploying() == null && !s.pending();
        }, Duration.ofSeconds(30));
        return d.status().lastDeploy();
    }

    @Test
    void aSwapDeploysTheNewReleaseAndTheOldGenerationKeepsItsOwnUntilItStops() throws Exception {
        try (TestDaemon d = start()) {
            assertEquals("v1", release(d));
            assertEquals(dir.resolve("releases/v1").toRealPath().toString(), d.status().live().release());
            long v1Pid = d.status().live().pid();

            swap("v2");
            awaitLive(d, 2);
            assertEquals("v2", release(d));
            assertEquals("release-link", d.status().lastDeploy().trigger().toString());
            Map<String, Object> live = JsonParse.map(JsonParse.object(d.controlGet("/status").body()).get("live"));
            assertEquals(dir.resolve("releases/v2").toRealPath().toString(), live.get("release"));
            TestDaemon.await("the v1 generation gone after draining", () -> !Procs.running(v1Pid), Duration.ofSeconds(15));

            swap("v1"); // and back
            awaitLive(d, 3);
            assertEquals("v1", release(d));
        }
    }

    @Test
    void aSwapToAMissingOrNonDirectoryTargetFailsAndTheLiveGenerationKeepsServing() throws Exception {
        try (TestDaemon d = start()) {
            swap("nope");
            DeployResult missing = awaitDeploy(d, 2);
            assertEquals("failed", missing.state());
            assertTrue(missing.reason().contains("current") && missing.reason().contains("missing"), missing.reason());
            assertEquals("v1", release(d));

            swap("not-a-dir");
            DeployResult file = awaitDeploy(d, 3);
            assertEquals("failed", file.state());
            assertTrue(file.reason().contains("not a directory"), file.reason());
            assertEquals("v1", release(d));
            assertEquals(1, d.status().live().generation());
        }
    }

    @Test
    void threeQuickSwapsEndWithTheLastReleaseLive() throws Exception {
        try (TestDaemon d = start()) {
            swap("v2");
            swap("v3");
            swap("v2");
            swap("v3");
            TestDaemon.await("v3 live and nothing left to do", () -> {
                Status s = d.status();
                return s.live() != null && s.live().release().endsWith("v3") && s.deploying() == null && !s.pending();
            }, Duration.ofSeconds(30));
            assertEquals("v3", release(d));
            assertTrue(d.status().lastDeploy().id() <= 3, "at most two deploys: " + d.status().lastDeploy());
        }
    }

    @Test
    void aPlainLnSfnAlsoDeploysAndASwapToTheLiveReleaseDoesNot() throws Exception {
        try (TestDaemon d = start()) {
            sh("ln -sfn releases/v2 current");
            awaitLive(d, 2);
            assertEquals("v2", release(d));

            swap("v2"); // points where it already pointed: no deploy
            Thread.sleep(1_000); // bounded: nothing must happen within it
            assertEquals(2, d.status().lastDeploy().id());
            assertEquals(2, d.status().live().generation());
        }
    }

    @Test
    void rollbackRunsThePreviousGenerationsRelease() throws Exception {
        try (TestDaemon d = start()) {
            assertEquals(409, d.controlPost("/rollback?wait=true").statusCode(), "nothing to roll back to yet");
            swap("v2");
            awaitLive(d, 2);

            HttpResponse<String> r = d.controlPost("/rollback?wait=true");

            assertEquals(200, r.statusCode(), r.body());
            assertEquals(3, JsonParse.object(r.body()).get("generation"));
            assertEquals("v1", release(d), "v1 again, although the link still points to v2");
            assertEquals("rollback", d.status().lastDeploy().trigger().toString());
        }
    }

    @Test
    void rollbackToAReleaseThatWasDeletedFailsClearly() throws Exception {
        try (TestDaemon d = start()) {
            swap("v2");
            awaitLive(d, 2);
            TestDaemon.await("v1 stopped", () -> d.status().draining().isEmpty(), Duration.ofSeconds(15));
            sh("rm -r releases/v1");

            HttpResponse<String> r = d.controlPost("/rollback?wait=true");

            assertEquals(500, r.statusCode());
            String reason = (String) JsonParse.object(r.body()).get("reason");
            assertTrue(reason.contains("releases/v1") && reason.contains("gone"), reason);
            assertEquals("v2", release(d));
        }
    }
}
