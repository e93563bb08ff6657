package dev.rainbowd.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.cli.Main;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.LogWatch;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
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

/**
 * A failed deploy names the app's own error: its last lines of output travel with the reason (in
 * ?wait=true's answer, status, the CLI and the log), a command that is not there is said to be
 * missing and not retried, and an app that never answered its probes is told apart from one that
 * answered wrong.
 */
class FailureReasonTest {
    private static final String GOOD_APP = "def app(environ, start_response):\n"
            + "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
            + "    return [b'ok']\n";
    private static final String SYNTAX_ERROR = "def app(environ, start_response:\n    pass\n";

    @TempDir
    Path dir;

    /** What one command line printed. */
    private record Run(int code, String out, String err) {}

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = Main.execute(args, o, e);
        }
        return new Run(code, out.toString(), err.toString());
    }

    private String file() {
        return dir.resolve("rainbow.yaml").toString();
    }

    @Test
    void aSyntaxErrorUnderGunicornReachesTheWaitingClientStatusTheCliAndTheLog() throws Exception {
        requireGunicorn();
        Files.writeString(dir.resolve("app.py"), GOOD_APP);
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "exec gunicorn -b 127.0.0.1:$1 --pid $2 app:app");
        s.put("healthCheckPath", "/");
        s.put("launchAttempts", "1");
        s.put("env", "{PYTHONDONTWRITEBYTECODE: '1'}");
        try (LogWatch log = new LogWatch(); TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            Files.writeString(dir.resolve("app.py"), SYNTAX_ERROR);

            HttpResponse<String> r = d.controlPost("/redeploy?wait=true");

            assertEquals(500, r.statusCode());
            Map<String, Object> body = JsonParse.object(r.body());
            assertTrue(((String) body.get("reason")).contains("exited with status 3 before it was healthy"), r.body());
            List<?> output = (List<?>) body.get("output");
            assertTrue(output.stream().anyMatch(l -> l.toString().startsWith("SyntaxError")), r.body());
            assertTrue(output.size() <= 20, "bounded: " + output.size() + " lines");
            assertTrue(output.get(output.size() - 1).toString().contains("Worker failed to boot"), r.body());

            Map<String, Object> last = JsonParse.map(JsonParse.object(d.controlGet("/status").body()).get("lastDeploy"));
            assertEquals(output, last.get("output"));
            assertEquals(output, d.status().lastDeploy().output());

            log.await(Duration.ofSeconds(10), "deploy #2 (control): failed", "its last output:", "\n    | SyntaxError");

            Run status = cli("status", "-c", file());
            assertEquals(0, status.code(), status.err());
            assertTrue(status.out().contains("last deploy: #2 failed"), status.out());
            assertTrue(status.out().contains("its last output:\n"), status.out());
            assertTrue(status.out().lines().anyMatch(l -> l.startsWith("  | SyntaxError")), status.out());

            Run redeploy = cli("redeploy", "-q", "-c", file());
            assertEquals(1, redeploy.code(), redeploy.out());
            List<String> err = redeploy.err().lines().toList();
            assertTrue(err.get(0).startsWith("rainbowd: deploy #3 failed: generation 3 yellow exited with status 3"), redeploy.err());
            assertEquals("its last output:", err.get(1), redeploy.err());
            assertTrue(err.stream().anyMatch(l -> l.startsWith("  | SyntaxError")), redeploy.err());
            assertEquals(1, d.status().live().generation(), "the live generation serves on");
        }
    }

    @Test
    void aCommandNotFoundFailsAtOnceWithoutRetriesNorARestartLoopAndSaysWhichCommand() throws Exception {
        Path launches = dir.resolve("launches");
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "echo $$ >> launches; exec gunicorrn -b 127.0.0.1:$1 app:app"); // launchAttempts: 3, the default
        try (TestDaemon d = TestDaemon.start(dir, s)) {
            TestDaemon.await("the first start to fail", () -> d.status().lastDeploy() != null, Duration.ofSeconds(30));

            DeployResult first = d.status().lastDeploy();
            assertFalse(first.live());
            assertEquals(1, Files.readAllLines(launches).size(), "a missing command is no port race: one launch");
            assertTrue(first.reason().startsWith("generation 1 red exited with status 127 before it was healthy: "
                    + "a command in `run` was not found (run: "), first.reason());
            assertTrue(first.reason().endsWith("gunicorrn: not found); not retried"), first.reason());
            // The shell's own words, under its $0 "run", not "rainbowd": they point at the run line.
            assertEquals(1, first.output().size(), first.output().toString());
            assertTrue(first.output().get(0).matches("run: (line )?1: exec: gunicorrn: not found"), first.output().get(0));
            assertNull(d.status().restarting(), "no restart loop of the same error");

            // A redeploy with the typo still there is deploy #2: nothing was retried in between.
            HttpResponse<String> again = d.controlPost("/redeploy?wait=true");
            assertEquals(500, again.statusCode());
            assertEquals(2, JsonParse.object(again.body()).get("deploy"));
            assertEquals(2, Files.readAllLines(launches).size());
            assertNull(d.status().restarting());
            assertNull(d.status().live());

            // Fixed, the next deploy goes live.
            s.put("run", Demo.run());
            TestDaemon.writeConfig(dir, withPort(s, d));
            HttpResponse<String> fixed = d.controlPost("/redeploy?wait=true");
            assertEquals(200, fixed.statusCode(), fixed.body());
        }
    }

    @Test
    void aCommandThatIsNotExecutableIsSaidToBeSoAndNotRetried() throws Exception {
        Files.writeString(dir.resolve("server.sh"), "#!/bin/sh\necho never\n"); // mode 644: not executable
        Path launches = dir.resolve("launches");
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "echo $$ >> launches; exec ./server.sh \"$1\"");
        try (TestDaemon d = TestDaemon.start(dir, s)) {
            TestDaemon.await("the first start to fail", () -> d.status().lastDeploy() != null, Duration.ofSeconds(30));

            DeployResult first = d.status().lastDeploy();
            assertFalse(first.live());
            assertTrue(first.reason().contains("exited with status 126 before it was healthy: a command in `run` is not executable"),
                    first.reason());
            assertTrue(first.reason().contains("./server.sh: Permission denied"), first.reason());
            assertEquals(1, Files.readAllLines(launches).size());
            assertNull(d.status().restarting());
        }
    }

    @Test
    void anAppStillStartingAtTheDeadlineNamesTheAddressTheLastProbeAndHealthDeadline() throws Exception {
        // A tiny python app that says what it does, then never listens (a model that takes minutes to load).
        Files.writeString(dir.resolve("slow.py"), "import os, sys, time\n"
                + "open('slow.pid', 'w').write(str(os.getpid()))\n"
                + "print('loading the model', flush=True)\n"
                + "time.sleep(600)\n");
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", Demo.runWhen("slow", "exec /usr/bin/python3 slow.py \"$1\""));
        try (LogWatch log = new LogWatch(); TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            // Generation 2's deadline: waited out in full, and long enough for the checks of
            // status below to run while it still starts, on a busy machine too.
            s.put("healthDeadline", "15s");
            s.put("stopTimeout", "2s");
            d.reconfigure(s);
            Files.createFile(dir.resolve("slow"));
            CompletableFuture<HttpResponse<String>> deploy = TestDaemon.HTTP.sendAsync(
                    HttpRequest.newBuilder(d.control("/redeploy?wait=true")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());

            // While it starts, status shows its pid and what the last probe got.
            d.awaitStatus("a refused probe of generation 2", st -> st.deploying() != null
                    && "connection refused".equals(st.deploying().lastProbe()) && Files.exists(dir.resolve("slow.pid"))
                    && !read(dir.resolve("slow.pid")).isEmpty(), Duration.ofSeconds(20));
            long pid = Long.parseLong(read(dir.resolve("slow.pid")));
            Map<String, Object> deploying = JsonParse.map(JsonParse.object(d.controlGet("/status").body()).get("deploying"));
            assertEquals(pid, ((Number) deploying.get("pid")).longValue(), deploying.toString());
            assertEquals("connection refused", deploying.get("lastProbe"), deploying.toString());
            int port = ((Number) deploying.get("port")).intValue();
            Run status = cli("status", "-c", file());
            String row = status.out().lines().filter(l -> l.startsWith("starting ")).findFirst().orElse(status.out());
            assertTrue(row.matches("starting\\s+2\\s+" + port + "\\s+" + pid + "\\s+.*probing \\(control\\), last probe: connection refused"),
                    status.out());

            HttpResponse<String> r = deploy.get(Slack.of(Duration.ofSeconds(60)).toSeconds(), TimeUnit.SECONDS);

            assertEquals(500, r.statusCode());
            Map<String, Object> body = JsonParse.object(r.body());
            String reason = (String) body.get("reason");
            // "after 4993ms": the deadline counts from the deploy's start, the launch included
            assertTrue(reason.matches("generation 2 orange not healthy after \\d+m?s: GET http://127\\.0\\.0\\.1:" + port
                    + "/health: connection refused \\(last of \\d+ probes\\).*"), reason);
            assertTrue(reason.endsWith("; the app is still running but answered no probe: if it needs longer to start, "
                    + "raise healthDeadline (15s)"), reason);
            assertEquals(List.of("loading the model"), body.get("output"), "what it said before it was stopped");
            assertTrue(log.matching("crash").isEmpty(), "a deploy that fails is no crash: " + log.matching("crash"));
            assertEquals(1, d.status().live().generation());
        }
    }

    /** The same port as the running daemon's: the file is read again by the next deploy. */
    private static Map<String, String> withPort(Map<String, String> s, TestDaemon d) {
        s.put("port", Integer.toString(d.daemon().proxyPort()));
        return s;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (Exception e) {
            return "";
        }
    }

    /** Fails (never skips) without gunicorn: .ci/run installs it. */
    private static void requireGunicorn() throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "command -v gunicorn").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor(), "gunicorn is not installed: apt-get install gunicorn (.ci/run does)");
    }
}
