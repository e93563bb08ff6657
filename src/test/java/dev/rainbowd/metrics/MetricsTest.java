package dev.rainbowd.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.TestDaemon;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/** /metrics as Prometheus reads it: parsed by the Prometheus client's own text parser (python3-prometheus-client). */
class MetricsTest {
    private static final String PARSER = """
            import sys, json
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    out.append({"name": s.name, "labels": s.labels, "value": s.value})
            print(json.dumps(out))
            """;

    /** Debian's python, which python3-prometheus-client installs into (a pyenv python on PATH would not see it). */
    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

    @TempDir
    Path dir;

    /** name{labels} -> value, as the Prometheus parser read the text. */
    private static Map<String, Double> parse(String text) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(PYTHON, "-c", PARSER).start();
        p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "the Prometheus parser refused the text:\n" + err + "\n" + text);
        Map<String, Double> samples = new TreeMap<>();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> list = (List<Map<String, Object>>) new Load(LoadSettings.builder().build()).loadFromString(json);
        for (Map<String, Object> s : list) {
            samples.put(s.get("name") + new TreeMap<>((Map<?, ?>) s.get("labels")).toString(),
                    ((Number) s.get("value")).doubleValue());
        }
        return samples;
    }

    private static boolean parserAvailable() {
        try {
            return new ProcessBuilder(PYTHON, "-c", "import prometheus_client.parser").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void countersMoveAsRequestsAndDeploysHappen() throws Exception {
        assumeTrue(parserAvailable(), "python3-prometheus-client is not installed (.ci/run installs it)");
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", Demo.runWhen("fail-exit", "exit 1"));
        s.put("launchAttempts", "1");
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            HttpResponse<String> first = d.controlGet("/metrics");
            assertEquals(200, first.statusCode());
            assertTrue(first.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
            Map<String, Double> before = parse(first.body());
            assertEquals(1.0, before.get("rainbowd_deploys_total{outcome=live, trigger=startup}"));
            assertTrue(before.get("rainbowd_health_probes_total{}") >= 1);
            assertTrue(before.get("rainbowd_uptime_seconds{}") > 0);
            assertEquals(1.0, before.get("rainbowd_generations{state=live}"));

            for (int i = 0; i < 25; i++) assertEquals(200, d.get("/").statusCode());
            assertEquals(404, d.get("/no-such-page").statusCode());
            TestDaemon.await("in flight back to 0", () -> d.status().live().inFlight() == 0, Duration.ofSeconds(5));
            Map<String, Double> served = parse(d.controlGet("/metrics").body());
            assertEquals(25.0, served.get("rainbowd_requests_total{code=2xx, generation=1}"));
            assertEquals(1.0, served.get("rainbowd_requests_total{code=4xx, generation=1}"));
            assertEquals(0.0, served.get("rainbowd_in_flight{generation=1}"));

            assertEquals(200, d.controlPost("/redeploy?wait=true").statusCode());
            Files.createFile(dir.resolve("fail-exit"));
            assertEquals(500, d.controlPost("/redeploy?wait=true").statusCode());
            // Read at once after ?wait=true answered: the deploy is counted before that answer (it once was not).
            Map<String, Double> after = parse(d.controlGet("/metrics").body());
            assertEquals(1.0, after.get("rainbowd_deploys_total{outcome=live, trigger=control}"));
            assertEquals(1.0, after.get("rainbowd_deploys_total{outcome=failed, trigger=control}"));
            assertEquals(3.0, after.get("rainbowd_deploy_duration_seconds_count{}"));
            assertTrue(after.get("rainbowd_last_deploy_duration_seconds{}") > 0);
            assertTrue(after.get("rainbowd_health_probes_total{}") > before.get("rainbowd_health_probes_total{}"));
            assertEquals(0.0, after.get("rainbowd_unavailable_total{}"));
            assertEquals(0.0, after.get("rainbowd_hung_up_while_waiting_total{}")); // ParkedClientTest makes it count
        }
    }
}
