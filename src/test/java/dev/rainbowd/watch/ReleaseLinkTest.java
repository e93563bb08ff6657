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
import java.util.List;
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
        return start("");
    }

    /** {@code before}: shell the app runs first. */
    private TestDaemon start(String before) throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        // A release with a BROKEN file in it fails at start, as a release with a syntax error would.
        s.put("run", before + Demo.runWhen("BROKEN", "echo broken release >&2; exit 3"));
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

    /**
     * The deploy the first swap starts is held (its app waits for a file) until the watcher has
     * seen the last swap and given its trailing trigger: however slowly a busy machine runs the
     * swaps, the rest join one pending deploy.
     */
    @Test
    void threeQuickSwapsEndWithTheLastReleaseLive() throws Exception {
        Path hold = dir.resolve("hold");
        try (TestDaemon d = start("while [ -e '" + hold + "' ]; do sleep 0.05; done; ")) {
            Files.createFile(hold);
            swap("v2");
            swap("v3");
            swap("v2");
            swap("v3");
            TestDaemon.await("deploy 2 under way (held)", () -> d.status().deploying() != null, Duration.ofSeconds(10));
            TestDaemon.await("the watcher's trailing trigger", WatcherThread::idle, Duration.ofSeconds(10));
            Files.delete(hold);
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

            TestDaemon.await("the watcher to wait for events", WatcherThread::idle, Duration.ofSeconds(10));
            long ran = WatcherThread.cpuNanos();
            swap("v2"); // points where it already pointed: no deploy
            // The watcher read the swap and waits for events again: what it would start, it has.
            TestDaemon.await("the watcher to read the swap", () -> WatcherThread.cpuNanos() > ran && WatcherThread.idle(),
                    Duration.ofSeconds(10));
            Status s = d.status();
            assertTrue(s.deploying() == null && !s.pending(), "a deploy started: " + s.deploying());
            assertEquals(2, s.lastDeploy().id());
            assertEquals(2, s.live().generation());
        }
    }

    @Test
    void rollbackRunsThePreviousReleaseAndMovesTheLinkThere() throws Exception {
        try (TestDaemon d = start()) {
            HttpResponse<String> none = d.controlPost("/rollback?wait=true");
            assertEquals(409, none.statusCode(), "nothing to roll back to yet");
            assertTrue(none.body().contains("every generation so far ran") && none.body().contains("v1"), none.body());
            swap("v2");
            awaitLive(d, 2);

            HttpResponse<String> r = d.controlPost("/rollback?wait=true");

            assertEquals(200, r.statusCode(), r.body());
            Map<String, Object> body = JsonParse.object(r.body());
            assertEquals(3, body.get("generation"));
            assertEquals(dir.resolve("releases/v1").toRealPath().toString(), body.get("release"));
            assertTrue(String.valueOf(body.get("note")).contains("now points to"), r.body());
            assertEquals("v1", release(d));
            assertEquals("rollback", d.status().lastDeploy().trigger().toString());
            // The next touch, SIGHUP or restart deploys v1, not the release rolled back from.
            assertEquals(Path.of("releases/v1"), Files.readSymbolicLink(dir.resolve("current")), "a relative link stays relative");
            // The watcher sees the link move: it is the rollback's own swap, not one more deploy.
            HttpResponse<String> again = d.controlPost("/redeploy?ifChanged=true&wait=true");
            assertEquals(body.get("deploy"), JsonParse.object(again.body()).get("deploy"), again.body());
            awaitLive(d, 3);
        }
    }

    /**
     * After two deploys of v2 (a swap, then a redeploy) rollback goes to v1, not to v2 again; a
     * second rollback goes one further back, not back to the release just rolled back from.
     */
    @Test
    void rollbackSkipsRedeploysOfTheSameReleaseAndASecondGoesFurtherBack() throws Exception {
        try (TestDaemon d = start()) {
            swap("v2");
            awaitLive(d, 2);
            swap("v3");
            awaitLive(d, 3);
            assertEquals(200, d.controlPost("/redeploy?wait=true").statusCode()); // v3 again, generation 4
            Map<String, Object> status = JsonParse.object(d.controlGet("/status").body());
            assertEquals(List.of("v3", "v2", "v1"), ((List<?>) status.get("releases")).stream()
                    .map(r -> Path.of(r.toString()).getFileName().toString()).toList(), "newest first");

            assertEquals(200, d.controlPost("/rollback?wait=true").statusCode());
            assertEquals("v2", release(d));
            assertEquals(200, d.controlPost("/rollback?wait=true").statusCode());
            assertEquals("v1", release(d));
            assertEquals(Path.of("releases/v1"), Files.readSymbolicLink(dir.resolve("current")));
            assertEquals(409, d.controlPost("/rollback?wait=true").statusCode(), "nothing before v1");
        }
    }

    /**
     * README's recipe: swap, then at once redeploy --if-changed. Whichever of the watcher and the
     * request is first, the swap is deployed once and the request gets that deploy's outcome. A
     * broken release: one failed deploy (3 launches), not two (6).
     */
    @Test
    void aSwapFollowedAtOnceByRedeployIfChangedIsOneDeployWithOneOutcome() throws Exception {
        try (TestDaemon d = start()) {
            Files.writeString(dir.resolve("releases/v2/BROKEN"), "");
            swap("v2");
            HttpResponse<String> broken = d.controlPost("/redeploy?ifChanged=true&wait=true");
            assertEquals(500, broken.statusCode(), broken.body());
            assertEquals(broken.body(), d.controlPost("/redeploy?ifChanged=true&wait=true").body(), "asked again: the same outcome");
            assertEquals("v1", release(d));

            swap("v3");
            HttpResponse<String> good = d.controlPost("/redeploy?ifChanged=true&wait=true");
            assertEquals(200, good.statusCode(), good.body());
            // Generations 2, 3, 4 were v2's three launches; a second deploy of the swap would have made 5, 6, 7.
            assertEquals(5, JsonParse.object(good.body()).get("generation"), good.body());
            awaitLive(d, 5);
            assertEquals("v3", release(d));
        }
    }

    /**
     * A swap whose deploy failed for the config's sake (a typo in `run`), then the config fixed:
     * `--if-changed` deploys the swap again with the fixed config, not the old failure. Asked
     * again with nothing changed, it stays the one outcome.
     */
    @Test
    void redeployIfChangedAfterAConfigFixDeploysTheSameSwapAgain() throws Exception {
        try (TestDaemon d = start()) {
            Map<String, String> s = TestDaemon.defaults();
            s.put("releaseLink", dir.resolve("current").toString());
            s.put("run", "demo-app-typo \"$1\"");
            d.reconfigure(s);
            swap("v2");
            HttpResponse<String> typo = d.controlPost("/redeploy?ifChanged=true&wait=true");
            assertEquals(500, typo.statusCode(), typo.body());
            assertTrue(((String) JsonParse.object(typo.body()).get("reason")).contains("not found"), typo.body());

            s.put("run", Demo.run());
            d.reconfigure(s);
            HttpResponse<String> fixed = d.controlPost("/redeploy?ifChanged=true&wait=true");
            assertEquals(200, fixed.statusCode(), fixed.body());
            assertEquals("v2", release(d));
            assertEquals(fixed.body(), d.controlPost("/redeploy?ifChanged=true&wait=true").body(), "nothing changed since: the same outcome");
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
