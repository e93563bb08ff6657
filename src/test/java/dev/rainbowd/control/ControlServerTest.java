package dev.rainbowd.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlServerTest {
    @TempDir
    Path dir;

    @Test
    void indexAnswersAsTheOriginalDid() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            HttpResponse<String> r = d.controlGet("/");
            assertEquals(200, r.statusCode());
            assertEquals("Current backend port: " + d.status().live().port() + "\nNumber of backends: 1\n", r.body());
        }
    }

    @Test
    void unknownPathsWrongMethodsAndBadValuesGetJsonErrors() throws Exception {
        try (TestDaemon d = TestDaemon.start(dir).awaitLive()) {
            HttpResponse<String> notFound = d.controlGet("/nope");
            assertEquals(404, notFound.statusCode());
            assertTrue(JsonParse.object(notFound.body()).get("error").toString().contains("/nope"));

            HttpResponse<String> getRedeploy = d.controlGet("/redeploy");
            assertEquals(405, getRedeploy.statusCode());
            assertEquals("POST", getRedeploy.headers().firstValue("Allow").orElseThrow());
            assertTrue(JsonParse.object(getRedeploy.body()).containsKey("error"));

            assertEquals(405, d.controlPost("/status").statusCode());

            HttpResponse<String> badWait = d.controlPost("/redeploy?wait=maybe");
            assertEquals(400, badWait.statusCode());
            assertTrue(JsonParse.object(badWait.body()).get("error").toString().contains("wait"));
            assertEquals(1, d.status().live().generation(), "a refused request deploys nothing");
        }
    }

    @Test
    void controlTokenIsRequiredWhenSet() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("controlToken", "s3cret-token");
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            assertEquals(401, d.controlGet("/status").statusCode());
            assertEquals(401, d.controlPost("/redeploy").statusCode());
            HttpResponse<String> wrong = TestDaemon.HTTP.send(HttpRequest.newBuilder(d.control("/status"))
                    .header("Authorization", "Bearer s3cret-tokeN").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, wrong.statusCode());
            HttpResponse<String> right = TestDaemon.HTTP.send(HttpRequest.newBuilder(d.control("/status"))
                    .header("Authorization", "Bearer s3cret-token").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, right.statusCode());
            assertEquals(1, d.status().live().generation());
        }
    }
}
