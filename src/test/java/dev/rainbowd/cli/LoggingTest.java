package dev.rainbowd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.TestDaemon;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoggingTest {
    @TempDir
    Path dir;

    @Test
    void jsonLogLinesAndTheAccessLogNameTheGeneration() throws Exception {
        Path config = TestDaemon.writeConfig(dir, TestDaemon.defaults());
        DaemonProcess d = DaemonProcess.start(config, dir.resolve("logs"), Map.of("RAINBOWD_ACCESS_LOG", "info"),
                "run", "--log-format", "json");
        try {
            d.awaitLive(Duration.ofSeconds(30));
            HttpResponse<String> r = TestDaemon.HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + d.proxyPort() + "/hello?x=1")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, r.statusCode());
            TestDaemon.await("the access line", () -> stdout(d).contains("hello?x=1 404"), Duration.ofSeconds(10));
            // A chunked response has no Content-Length: the line counts the body's bytes as they were sent.
            HttpResponse<String> streamed = TestDaemon.HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + d.proxyPort() + "/stream?chunks=3&ms=1")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, streamed.statusCode());
            assertTrue(streamed.headers().firstValue("Content-Length").isEmpty(), streamed.headers().toString());
            TestDaemon.await("the stream's access line", () -> stdout(d).contains("/stream?chunks=3&ms=1 200 "), Duration.ofSeconds(10));
            d.process().destroy();
            assertEquals(0, d.awaitExit(Duration.ofSeconds(30)));

            List<String> lines = stdout(d).lines().filter(l -> !l.isBlank()).toList();
            List<Map<String, Object>> events = lines.stream().map(JsonParse::object).toList(); // every line is JSON
            assertTrue(events.stream().allMatch(e -> e.containsKey("level") && e.containsKey("formattedMessage")), lines.toString());
            assertTrue(events.stream().anyMatch(e -> "access".equals(e.get("loggerName"))
                    && e.get("formattedMessage").toString().contains("generation=1")), lines.toString());
            String streamLine = events.stream().map(e -> e.get("formattedMessage").toString())
                    .filter(m -> m.startsWith("GET /stream?chunks=3&ms=1 ")).findFirst().orElseThrow();
            assertTrue(streamLine.startsWith("GET /stream?chunks=3&ms=1 200 "
                    + streamed.body().getBytes(StandardCharsets.UTF_8).length + " "), streamLine);
            // ISO-8601 with the zone, as journald's and Loki's users read them; not epoch milliseconds
            for (Map<String, Object> e : events) {
                Object t = e.get("timestamp");
                assertTrue(t instanceof String s && s.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)"),
                        "timestamp " + t + " in " + e);
                OffsetDateTime at = OffsetDateTime.parse((String) t);
                assertTrue(Math.abs(Duration.between(at.toInstant(), Instant.now()).toMinutes()) < 10, "timestamp " + t);
            }
            assertTrue(lines.get(0).startsWith("{\"timestamp\":\""), "the time first: " + lines.get(0));
            assertTrue(events.stream().anyMatch(e -> e.get("formattedMessage").toString().startsWith("deploy #1: cutover to generation 1 red port")),
                    lines.toString());
            assertTrue(events.stream().anyMatch(e -> e.get("formattedMessage").toString().startsWith("[1 red] ")),
                    "the app's own output, prefixed: " + lines);
            d.assertBackendsGone();
        } finally {
            d.close();
        }
    }

    @Test
    void textLinesByDefaultAndTheLevelFromTheEnvironment() throws Exception {
        Path config = TestDaemon.writeConfig(dir, TestDaemon.defaults());
        DaemonProcess d = DaemonProcess.start(config, dir.resolve("logs"), Map.of(), "run");
        try {
            d.awaitLive(Duration.ofSeconds(30));
            TestDaemon.await("the cutover line", () -> stdout(d).contains("cutover"), Duration.ofSeconds(10));
            String line = stdout(d).lines().filter(l -> l.contains("cutover")).findFirst().orElseThrow();
            assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) INFO  Deployer   "
                    + "deploy #1: cutover to generation 1 red port \\d+ pid \\d+"), line);
        } finally {
            d.close();
        }

        DaemonProcess quiet = DaemonProcess.start(config, dir.resolve("logs"), Map.of("RAINBOWD_LOG_LEVEL", "warn"), "run");
        try {
            quiet.awaitLive(Duration.ofSeconds(30));
            quiet.process().destroy();
            assertEquals(0, quiet.awaitExit(Duration.ofSeconds(30)));
            assertTrue(stdout(quiet).lines().noneMatch(l -> l.contains(" INFO ")), stdout(quiet));
        } finally {
            quiet.close();
        }
    }

    /** logback's own way to take a config file still works: ours steps aside. */
    @Test
    void aLogbackConfigOfYourOwnReplacesTheBuiltInOne() throws Exception {
        Path log = dir.resolve("custom.log");
        Path xml = dir.resolve("logback.xml");
        Files.writeString(xml, "<configuration><appender name=\"F\" class=\"ch.qos.logback.core.FileAppender\">"
                + "<file>" + log + "</file><encoder><pattern>CUSTOM %logger{0} %msg%n</pattern></encoder></appender>"
                + "<root level=\"INFO\"><appender-ref ref=\"F\"/></root></configuration>");
        Path config = TestDaemon.writeConfig(dir, TestDaemon.defaults());
        DaemonProcess d = DaemonProcess.start(config, dir.resolve("logs"), Map.of(),
                List.of("-Dlogback.configurationFile=" + xml), "run");
        try {
            d.awaitLive(Duration.ofSeconds(30));
            TestDaemon.await("the cutover line in " + log, () -> read(log).contains("CUSTOM Deployer deploy #1: cutover"), Duration.ofSeconds(10));
            assertTrue(stdout(d).lines().noneMatch(l -> l.contains("cutover")), "our console appender too: " + stdout(d));
        } finally {
            d.close();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    private static String stdout(DaemonProcess d) {
        try {
            return d.stdout();
        } catch (Exception e) {
            return "";
        }
    }
}
