package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.config.ConfigException;
import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.Ports;
import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every deploy deploys the file as it is on disk; a crash restart relaunches what crashed. */
class ConfigReloadTest {
    @TempDir
    Path dir;

    private Map<String, String> settings;

    private TestDaemon start(String greeting) throws Exception {
        settings = TestDaemon.defaults();
        settings.put("env", "{DEMO_GREETING: " + greeting + "}");
        settings.put("port", Integer.toString(Ports.freePair()));
        settings.put("stateDir", dir.resolve("state").toString());
        return TestDaemon.start(dir, settings).awaitLive();
    }

    /** Rewrites rainbow.yaml with one setting changed, as a user's editor would. */
    private void edit(String key, String value) throws Exception {
        settings.put(key, value);
        TestDaemon.writeConfig(dir, settings);
    }

    private static String env(TestDaemon d, String name) throws Exception {
        HttpResponse<String> r = d.get("/env?name=" + name);
        return r.statusCode() == 200 ? r.body().strip() : "(" + r.statusCode() + ")";
    }

    private static Map<String, Object> redeploy(TestDaemon d, int expectedStatus) throws Exception {
        HttpResponse<String> r = d.controlPost("/redeploy?wait=true");
        assertEquals(expectedStatus, r.statusCode(), r.body());
        return JsonParse.object(r.body());
    }

    @Test
    void aChangedEnvAndRunLineReachTheNextGenerationWithoutARestart() throws Exception {
        try (TestDaemon d = start("one")) {
            assertEquals("one", env(d, "DEMO_GREETING"));
            String digest = d.status().live().config();

            edit("env", "{DEMO_GREETING: two}");
            edit("run", "export DEMO_FROM_RUN=yes; " + Demo.run());
            Map<String, Object> outcome = redeploy(d, 200);

            assertEquals(2, outcome.get("generation"));
            assertEquals(List.of(), outcome.get("needRestart"));
            assertEquals("two", env(d, "DEMO_GREETING"));
            assertEquals("yes", env(d, "DEMO_FROM_RUN"));
            GenerationStatus live = d.status().live();
            assertNotEquals(digest, live.config(), "status shows the new config");
            assertEquals(ConfigLoader.load(dir.resolve("rainbow.yaml")).app().digest(), live.config(),
                    "the digest check prints is the one that runs");
        }
    }

    /** A secret in an envFile: read at each deploy, so a rotation reaches the app with a redeploy; its value is never shown. */
    @Test
    void aRotatedSecretInAnEnvFileReachesTheNextGenerationAndIsNeverShown() throws Exception {
        Path secrets = dir.resolve("shop.env");
        Files.writeString(secrets, "DEMO_SECRET=first-s3cret\n");
        settings = TestDaemon.defaults();
        settings.put("envFile", secrets.toString());
        try (TestDaemon d = TestDaemon.start(dir, settings).awaitLive()) {
            assertEquals("first-s3cret", env(d, "DEMO_SECRET"));
            String digest = d.status().live().config();

            Files.writeString(secrets, "DEMO_SECRET=second-s3cret\n");
            redeploy(d, 200);

            assertEquals("second-s3cret", env(d, "DEMO_SECRET"));
            assertNotEquals(digest, d.status().live().config(), "the digest tells the secret changed, not what it is");
            String shown = d.controlGet("/status").body() + String.join("\n", ConfigLoader.load(dir.resolve("rainbow.yaml")).describe());
            assertFalse(shown.contains("s3cret"), shown);

            Files.writeString(secrets, "DEMO_SECRET\n"); // broken: the deploy fails with the line, not the value
            Map<String, Object> failed = redeploy(d, 500);
            assertTrue(String.valueOf(failed.get("reason")).contains("shop.env line 1"), failed.toString());
            assertEquals("second-s3cret", env(d, "DEMO_SECRET"), "the live generation serves on");
        }
    }

    @Test
    void aTouchOfTheTriggerFileDeploysTheEditedFileToo() throws Exception {
        Path trigger = dir.resolve("redeploy");
        settings = TestDaemon.defaults();
        settings.put("env", "{DEMO_GREETING: one}");
        settings.put("port", Integer.toString(Ports.freePair()));
        settings.put("stateDir", dir.resolve("state").toString());
        settings.put("triggerFile", trigger.toString());
        try (TestDaemon d = TestDaemon.start(dir, settings).awaitLive()) {
            edit("env", "{DEMO_GREETING: touched}");
            Files.writeString(trigger, "");
            TestDaemon.await("generation 2 live", () -> d.status().live().generation() == 2, Duration.ofSeconds(30));
            assertEquals("touched", env(d, "DEMO_GREETING"));
            assertEquals(Trigger.TRIGGER_FILE, d.status().lastDeploy().trigger());
        }
    }

    @Test
    void aTypoFailsThatDeployWithChecksLineAndTheLiveGenerationServesOn() throws Exception {
        try (TestDaemon d = start("one")) {
            edit("healthTimout", "1s");
            String checkSays = assertThrows(ConfigException.class,
                    () -> ConfigLoader.load(dir.resolve("rainbow.yaml"))).getMessage();
            assertTrue(checkSays.contains("unknown key \"healthTimout\" (did you mean \"healthTimeout\"?)"), checkSays);

            Map<String, Object> outcome = redeploy(d, 500);
            assertEquals("failed", outcome.get("state"));
            assertEquals(checkSays, outcome.get("reason"));
            Map<String, Object> last = JsonParse.map(JsonParse.object(d.controlGet("/status").body()).get("lastDeploy"));
            assertEquals(checkSays, last.get("reason"));
            assertEquals(1, d.status().live().generation(), "nothing was launched");
            assertEquals(200, d.get("/").statusCode());
            assertEquals("one", env(d, "DEMO_GREETING"));

            settings.remove("healthTimout");
            edit("env", "{DEMO_GREETING: fixed}");
            redeploy(d, 200);
            assertEquals("fixed", env(d, "DEMO_GREETING"), "the next deploy reads the file again");
        }
    }

    @Test
    void keysOnlyARestartAppliesAreNamedAndTheRestApplies() throws Exception {
        try (TestDaemon d = start("one")) {
            int port = d.daemon().proxyPort();
            edit("port", Integer.toString(Ports.freePair())); // and so controlPort, port + 1
            edit("controlHost", "localhost");
            edit("env", "{DEMO_GREETING: two}");

            Map<String, Object> outcome = redeploy(d, 200);
            assertEquals(List.of("port", "controlPort", "controlHost"), outcome.get("needRestart"));
            assertEquals(port, d.daemon().proxyPort(), "still on the port it bound");
            assertEquals("two", env(d, "DEMO_GREETING"));
            Map<String, Object> last = JsonParse.map(JsonParse.object(d.controlGet("/status").body()).get("lastDeploy"));
            assertEquals(List.of("port", "controlPort", "controlHost"), last.get("needRestart"));
        }
    }

    @Test
    void aCrashRestartRelaunchesWhatCrashedNotTheEditedFile() throws Exception {
        try (TestDaemon d = start("one")) {
            GenerationStatus crashed = d.status().live();
            edit("env", "{DEMO_GREETING: edited}");
            edit("healthTimout", "1s"); // and broken: a crash must not become an outage

            ProcessHandle.of(crashed.pid()).orElseThrow().destroyForcibly(); // kill -9 of the app
            TestDaemon.await("a new live generation", () -> {
                GenerationStatus live = d.status().live();
                return live != null && live.generation() != crashed.generation();
            }, Duration.ofSeconds(30));

            assertEquals("one", env(d, "DEMO_GREETING"));
            assertEquals(crashed.config(), d.status().live().config());
            assertEquals(Trigger.CRASH, d.status().lastDeploy().trigger());
        }
    }

    @Test
    void aNewControlTokenAppliesAtOnceWithoutADeploy() throws Exception {
        settings = TestDaemon.defaults();
        settings.put("controlToken", "first");
        try (TestDaemon d = TestDaemon.start(dir, settings).awaitLive()) {
            settings.put("port", Integer.toString(d.daemon().proxyPort()));
            settings.put("stateDir", dir.resolve("state").toString());
            assertEquals(200, status(d, "first"));

            edit("controlToken", "second-token");
            assertEquals(401, status(d, "first"));
            assertEquals(200, status(d, "second-token"));

            edit("controlPort", "not a port"); // a broken file keeps the token it had
            assertEquals(200, status(d, "second-token"));
            assertEquals(1, d.status().live().generation(), "no deploy was needed");
        }
    }

    private static int status(TestDaemon d, String token) throws Exception {
        return TestDaemon.HTTP.send(HttpRequest.newBuilder(d.control("/status"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
