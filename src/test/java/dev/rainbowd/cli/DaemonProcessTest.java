package dev.rainbowd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.Loopback;
import dev.rainbowd.testing.Poll;
import dev.rainbowd.testing.Procs;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon as users run it: a separate JVM, stopped by signals, failing with the spec's exit codes. */
class DaemonProcessTest {
    private static final Duration EXIT = Duration.ofSeconds(30);
    /** The app touches this in its working directory (the config's directory) each time it is launched. */
    private static final String LAUNCHED = "launched";

    @TempDir
    Path dir;

    private final List<DaemonProcess> daemons = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        daemons.forEach(DaemonProcess::close);
    }

    private Path config(Map<String, String> settings) throws IOException {
        return TestDaemon.writeConfig(dir, settings);
    }

    private static Map<String, String> launchMarking() {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", ": > " + LAUNCHED + "; " + Demo.run());
        return s;
    }

    private DaemonProcess start(Path config) throws IOException {
        DaemonProcess d = DaemonProcess.start(config, dir.resolve("logs"));
        daemons.add(d);
        return d;
    }

    private static long livePid(Map<String, Object> status) {
        return ((Number) JsonParse.map(status.get("live")).get("pid")).longValue();
    }

    private static HttpResponse<String> get(DaemonProcess d, String path) throws IOException, InterruptedException {
        return d.get(path);
    }

    /** Starts the daemon, checks it serves, and returns it with its live backend remembered. */
    private DaemonProcess startServing() throws Exception {
        DaemonProcess d = start(config(TestDaemon.defaults()));
        Map<String, Object> status = d.awaitLive(Duration.ofSeconds(30));
        long pid = livePid(status);
        HttpResponse<String> r = get(d, "/");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().startsWith("Hello from generation 1"), r.body());
        assertEquals(Long.toString(pid), r.headers().firstValue("X-Pid").orElseThrow());
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "backend " + pid + " is running");
        assertFalse(d.backends().isEmpty());
        return d;
    }

    @Test
    void sigtermStopsCleanlyWithExitZeroAndLeavesNoBackend() throws Exception {
        DaemonProcess d = startServing();

        d.process().destroy(); // SIGTERM

        assertEquals(0, d.awaitExit(EXIT), "exit code after SIGTERM; stderr:\n" + d.stderr());
        d.assertBackendsGone();
        assertTrue(d.stdout().contains("rainbowd stopped"), d.stdout());
        assertEquals("", d.stderr());
    }

    @Test
    void sighupRedeploysTheConfigAsItIsOnDisk() throws Exception {
        Map<String, String> settings = TestDaemon.defaults();
        settings.put("env", "{DEMO_GREETING: before}");
        DaemonProcess d = start(config(settings));
        d.awaitLive(Duration.ofSeconds(30));
        assertEquals("before\n", get(d, "/env?name=DEMO_GREETING").body());
        // systemctl reload after an edit: the same port, a new env
        settings.put("port", Integer.toString(ConfigLoader.load(dir.resolve("rainbow.yaml")).daemon().port()));
        settings.put("env", "{DEMO_GREETING: after}");
        config(settings);

        d.signal("HUP");

        // lastDeploy, not live: the cutover comes a moment before the deploy's result is recorded.
        d.await("deploy #2 done after SIGHUP", () -> d.status()
                .map(st -> st.get("lastDeploy") instanceof Map<?, ?> last && Integer.valueOf(2).equals(last.get("id")))
                .orElse(false), Duration.ofSeconds(30));
        Map<String, Object> status = d.status().orElseThrow();
        Map<String, Object> last = JsonParse.map(status.get("lastDeploy"));
        assertEquals("sighup", last.get("trigger"));
        assertEquals("live", last.get("state"));
        assertEquals(2, JsonParse.map(status.get("live")).get("generation"));
        assertTrue(d.process().isAlive(), "SIGHUP must not stop the daemon");
        assertEquals("after\n", get(d, "/env?name=DEMO_GREETING").body());
        d.process().destroy();
        assertEquals(0, d.awaitExit(EXIT));
        d.assertBackendsGone();
    }

    @Test
    void sigintStopsCleanlyWithExitZeroAndLeavesNoBackend() throws Exception {
        DaemonProcess d = startServing();

        d.signal("INT");

        assertEquals(0, d.awaitExit(EXIT), "exit code after SIGINT; stderr:\n" + d.stderr());
        d.assertBackendsGone();
        assertEquals("", d.stderr());
    }

    @Test
    void sigtermDuringARedeployStillLeavesNoBackend() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        // The next generation takes a while to come up, so the signal lands mid-deploy.
        s.put("run", Demo.runWhen("slow-start", "export DEMO_START_DELAY_MS=3000"));
        DaemonProcess d = start(config(s));
        d.awaitLive(Duration.ofSeconds(30));
        Files.createFile(dir.resolve("slow-start"));
        HttpResponse<String> queued = TestDaemon.HTTP.send(HttpRequest.newBuilder(d.control("/redeploy"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, queued.statusCode(), queued.body());
        d.await("generation 2 to be launched", () -> {
            d.rememberTree();
            return d.backends().size() >= 2;
        }, Duration.ofSeconds(10));

        d.process().destroy();

        assertEquals(0, d.awaitExit(EXIT), "stderr:\n" + d.stderr());
        d.assertBackendsGone();
    }

    @Test
    void sigtermLetsTheInFlightRequestFinishThenExitsZero() throws Exception {
        Map<String, String> settings = TestDaemon.defaults();
        settings.put("drainTimeout", "10m"); // the request ends when the test says, never cut by the daemon
        DaemonProcess d = start(config(settings));
        d.awaitLive(Duration.ofSeconds(30));
        // The app answers once this file exists: the request runs until the test has seen the port closed.
        Path release = dir.resolve("release-the-request");
        CompletableFuture<HttpResponse<String>> slow = TestDaemon.HTTP.sendAsync(
                HttpRequest.newBuilder(d.proxy("/slow?until=" + release)).timeout(Slack.of(Duration.ofSeconds(30))).build(),
                HttpResponse.BodyHandlers.ofString());
        d.await("the slow request to be in flight", () -> d.status()
                .map(st -> ((Number) JsonParse.map(st.get("live")).get("inFlight")).intValue() > 0)
                .orElse(false), Duration.ofSeconds(10));

        d.process().destroy(); // SIGTERM

        // It stops accepting at once, while the slow request is still running...
        assertTrue(Poll.until(() -> Loopback.refuses(d.proxyPort()), Duration.ofSeconds(5)),
                "the proxy port still accepts connections after SIGTERM");
        assertFalse(slow.isDone(), "the slow request ended before the proxy stopped accepting: " + (slow.isDone() ? slow.join() : null));
        // ...finishes it...
        Files.createFile(release);
        HttpResponse<String> r = slow.get(Slack.of(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("released\n", r.body());
        // ...and then exits cleanly, its backends stopped.
        assertEquals(0, d.awaitExit(EXIT), "stderr:\n" + d.stderr());
        d.assertBackendsGone();
    }

    @Test
    void sigtermBeforeAnythingIsLiveAnswersQueuedRequestsAndExitsZero() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        // Nothing goes live, and a queued request would wait 10 minutes: a 503 within the socket's
        // timeout can only be the shutdown's.
        s.put("env", "{DEMO_START_DELAY_MS: '600000'}");
        s.put("healthDeadline", "10m");
        s.put("queueTimeout", "10m");
        DaemonProcess d = start(config(s));
        d.await("the first generation to be launched", () -> {
            d.rememberTree();
            return !d.backends().isEmpty() && d.status().map(st -> st.get("deploying") != null).orElse(false);
        }, Duration.ofSeconds(20));
        // A request that waits in the queue for a live generation...
        try (Socket queued = new Socket()) {
            queued.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), d.proxyPort()), 5000);
            queued.setSoTimeout((int) Slack.of(Duration.ofSeconds(20)).toMillis());
            queued.getOutputStream().write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            queued.getOutputStream().flush();
            d.await("the proxy to read the request", () -> Loopback.readByPeer(queued), Duration.ofSeconds(5));

            d.process().destroy();

            // ...is answered at shutdown (503), not left to its queueTimeout.
            String response = new String(queued.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(response.startsWith("HTTP/1.1 503 "), response);
        }
        assertEquals(0, d.awaitExit(EXIT), "stderr:\n" + d.stderr());
        d.assertBackendsGone();
    }

    @Test
    void aRestartedDaemonStopsTheBackendsOfOneThatWasKilled() throws Exception {
        Path file = config(TestDaemon.defaults());
        DaemonProcess first = start(file);
        long orphan = livePid(first.awaitLive(Duration.ofSeconds(30)));

        first.process().destroyForcibly(); // SIGKILL: no chance to stop its backend
        assertEquals(137, first.awaitExit(EXIT));
        assertTrue(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false),
                "the killed daemon's backend is still running (the situation under test)");

        DaemonProcess second = start(file);
        second.awaitLive(Duration.ofSeconds(30));
        second.await("the orphaned backend " + orphan + " to be stopped",
                () -> ProcessHandle.of(orphan).map(p -> !p.isAlive()).orElse(true), Duration.ofSeconds(20));
        assertEquals(200, get(second, "/").statusCode());

        second.process().destroy();
        assertEquals(0, second.awaitExit(EXIT));
        second.assertBackendsGone();
    }

    @Test
    void aRestartedDaemonStopsWhatAKilledOneWasDrainingAndDeploying() throws Exception {
        Path pids = dir.resolve("launched.pids");
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "echo $$ >> '" + pids + "'; if [ -e hang ]; then export DEMO_HEALTH_STATUS=503; fi; "
                + Demo.run());
        s.put("drainTimeout", "10m"); // generation 1 drains until the kill, however long the steps before it take
        Path file = config(s);
        DaemonProcess first = start(file);
        first.awaitLive(Duration.ofSeconds(30));
        // Generation 1 drains a long request while generation 2 is live ...
        CompletableFuture<HttpResponse<String>> slow = TestDaemon.HTTP.sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + first.proxyPort() + "/slow?ms=60000")).build(),
                HttpResponse.BodyHandlers.ofString());
        first.await("the slow request in flight", () -> first.status().map(st ->
                Integer.valueOf(1).equals(JsonParse.map(st.get("live")).get("inFlight"))).orElse(false), Duration.ofSeconds(10));
        assertEquals(200, post(first, "/redeploy?wait=true").statusCode());
        // ... and generation 3 never gets healthy: the daemon is killed while it probes.
        Files.createFile(dir.resolve("hang"));
        post(first, "/redeploy");
        first.await("three generations launched", () -> lines(pids).size() == 3, Duration.ofSeconds(20));
        first.await("generation 3 probed", () -> first.status().map(st -> st.get("deploying") instanceof Map<?, ?> dep
                && ((Number) dep.get("probes")).intValue() > 0).orElse(false), Duration.ofSeconds(20));
        // The state is written (and fsynced) a moment after each launch; under a loaded disk that
        // moment can outlast the probes: a kill before it would test a daemon that never recorded gen 3.
        first.await("three generations recorded", () -> lines(dir.resolve("state/generations")).stream()
                .filter(l -> !l.startsWith("#")).count() == 3, Duration.ofSeconds(20));
        first.process().destroyForcibly();
        assertEquals(137, first.awaitExit(EXIT));
        List<Long> orphans = lines(pids).stream().map(Long::parseLong).toList();
        assertTrue(orphans.stream().allMatch(Procs::running), "all three still run: the situation under test");
        slow.cancel(true);

        Files.delete(dir.resolve("hang"));
        DaemonProcess second = start(file);
        second.awaitLive(Duration.ofSeconds(30));
        for (long pid : orphans) {
            second.await("orphan " + pid + " stopped", () -> !Procs.running(pid), Duration.ofSeconds(20));
        }
        second.process().destroy();
        assertEquals(0, second.awaitExit(EXIT));
        second.assertBackendsGone();
    }

    private static List<String> lines(Path p) {
        try {
            return Files.readAllLines(p).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static HttpResponse<String> post(DaemonProcess d, String path) throws Exception {
        return TestDaemon.HTTP.send(HttpRequest.newBuilder(d.control(path))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void portOutOfRangeExits78WithOneLineAndStartsNothing() throws Exception {
        Map<String, String> s = launchMarking();
        s.put("port", "99999");
        Path file = config(s);
        DaemonProcess d = start(file);

        assertEquals(78, d.awaitExit(EXIT));
        String err = d.stderr();
        assertOneLine(err);
        assertTrue(err.contains(file.toString()), err);
        assertTrue(err.contains("port") && err.contains("99999"), err);
        assertFalse(Files.exists(dir.resolve(LAUNCHED)), "a backend was launched");
        d.assertBackendsGone();
    }

    @Test
    void unknownKeyExits78WithOneLineNamingTheKey() throws Exception {
        Map<String, String> s = launchMarking();
        s.put("helthCheckPath", "/health");
        Path file = config(s);
        DaemonProcess d = start(file);

        assertEquals(78, d.awaitExit(EXIT));
        String err = d.stderr();
        assertOneLine(err);
        assertTrue(err.contains(file.toString()), err);
        assertTrue(err.contains("unknown key \"helthCheckPath\""), err);
        assertTrue(err.contains("did you mean \"healthCheckPath\""), err);
        assertFalse(Files.exists(dir.resolve(LAUNCHED)), "a backend was launched");
    }

    @Test
    void missingConfigFileExits78() throws Exception {
        Path file = dir.resolve("nope.yaml");
        DaemonProcess d = start(file);

        assertEquals(78, d.awaitExit(EXIT));
        String err = d.stderr();
        assertOneLine(err);
        assertTrue(err.contains(file.toString()) && err.contains("no such file"), err);
    }

    @Test
    void proxyPortTakenExits1WithOneLineNamingThePort() throws Exception {
        Path file = config(launchMarking());
        int port = ConfigLoader.load(file).daemon().port();
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            DaemonProcess d = start(file);

            assertEquals(1, d.awaitExit(EXIT), "stdout:\n" + d.stdout());
            String err = d.stderr();
            assertOneLine(err);
            assertTrue(err.contains("127.0.0.1:" + port + " for the proxy") && err.contains(file.toString()), err);
            assertFalse(err.contains(":" + (port + 1)), "names the control port, which was free: " + err);
            assertNothingStoppedIn(d.stdout());
            assertFalse(Files.exists(dir.resolve(LAUNCHED)), "a backend was launched");
            d.assertBackendsGone();
        }
    }

    @Test
    void controlPortTakenExits1NamingThatPortAlone() throws Exception {
        Path file = config(launchMarking());
        int port = ConfigLoader.load(file).daemon().port();
        int controlPort = ConfigLoader.load(file).daemon().controlPort();
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), controlPort));
            DaemonProcess d = start(file);

            assertEquals(1, d.awaitExit(EXIT), "stdout:\n" + d.stdout());
            String err = d.stderr();
            assertOneLine(err);
            assertTrue(err.contains("127.0.0.1:" + controlPort + " for the control API") && err.contains("controlPort"), err);
            assertTrue(err.endsWith(": Address already in use\n"), err);
            assertFalse(err.contains(":" + port + " "), "names the proxy port, which was free: " + err);
            assertNothingStoppedIn(d.stdout());
            assertFalse(Files.exists(dir.resolve(LAUNCHED)), "a backend was launched");
            assertFalse(Files.exists(dir.resolve("state/rainbowd.pid")), "a failed start left its pid file");
            d.assertBackendsGone();
        }
    }

    /** A start that failed had nothing in flight: no "stopping: finishing in-flight requests". */
    private static void assertNothingStoppedIn(String stdout) {
        assertFalse(stdout.contains("stopping") || stdout.contains("in-flight"), stdout);
    }

    // --- finding the daemon's pid: kill -HUP $(pidof rainbowd), the pid file ---

    @Test
    void thePidFileInStateDirNamesTheDaemonWhileItRuns() throws Exception {
        Path file = config(TestDaemon.defaults());
        Path pidFile = dir.resolve("state/rainbowd.pid");
        DaemonProcess d = start(file);
        d.awaitLive(Duration.ofSeconds(30));
        assertEquals(d.pid() + "\n", Files.readString(pidFile));

        // A second rainbowd on the same stateDir is refused and leaves the first one's pid file alone.
        DaemonProcess second = start(file);
        assertEquals(1, second.awaitExit(EXIT), "stdout:\n" + second.stdout());
        assertTrue(second.stderr().contains("another rainbowd is running"), second.stderr());
        assertEquals(d.pid() + "\n", Files.readString(pidFile));

        d.process().destroy();
        assertEquals(0, d.awaitExit(EXIT), "stderr:\n" + d.stderr());
        assertFalse(Files.exists(pidFile), "the pid file outlived the daemon");
    }

    /**
     * README: {@code kill -HUP $(pidof rainbowd)}. Run through the launcher, the daemon is a
     * process pidof finds by that name. Other rainbowds may run on this machine (other builds'
     * tests): this test sends its signal to its own daemon only, among pidof's answers.
     */
    @Test
    void theLaunchedDaemonIsFoundByPidofRainbowdAndItsSighupRedeploys() throws Exception {
        Path file = config(TestDaemon.defaults());
        DaemonProcess d = DaemonProcess.launched(file, dir.resolve("logs"), "run");
        daemons.add(d);
        d.awaitLive(Duration.ofSeconds(60));

        List<Long> found = pidof("rainbowd");
        assertTrue(found.contains(d.pid()), "pidof rainbowd: " + found + ", not the daemon's pid " + d.pid());
        d.signal("HUP"); // kill -HUP, to the pid of ours among them
        awaitSighupDeploy(d, 2);

        // The pid file, as the README writes it: a command that names this daemon alone.
        Process kill = new ProcessBuilder("bash", "-c", "kill -HUP $(cat " + dir.resolve("state/rainbowd.pid") + ")")
                .redirectErrorStream(true).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), new String(kill.getInputStream().readAllBytes()));
        awaitSighupDeploy(d, 3);

        // A client command of the launcher is not a "rainbowd" to pidof: a SIGHUP would end it (the JVM's default).
        ProcessBuilder client = new ProcessBuilder(LauncherTest.launcher().toString(), "status", "--watch=1", "-c", file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("watch.out").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        client.environment().putAll(Map.of("RAINBOWD_JAR", DaemonProcess.pathingJar(dir.resolve("logs")).toString(),
                "JAVA", Demo.java().toString()));
        Process watch = client.start();
        try {
            TestDaemon.await("status --watch to print", () -> read(dir.resolve("watch.out")).contains("STATE"), Duration.ofSeconds(30));
            List<Long> again = pidof("rainbowd");
            assertTrue(again.contains(d.pid()), again.toString());
            assertFalse(again.contains(watch.pid()), "the status client is named rainbowd too: " + again);
        } finally {
            watch.destroy();
            watch.waitFor(10, TimeUnit.SECONDS);
        }

        d.process().destroy();
        assertEquals(0, d.awaitExit(EXIT), "stderr:\n" + d.stderr());
        d.assertBackendsGone();
    }

    private static void awaitSighupDeploy(DaemonProcess d, int id) throws IOException {
        d.await("deploy #" + id + " live after SIGHUP", () -> d.status()
                .map(st -> st.get("lastDeploy") instanceof Map<?, ?> last && Integer.valueOf(id).equals(last.get("id"))
                        && "sighup".equals(last.get("trigger")) && "live".equals(last.get("state")))
                .orElse(false), Duration.ofSeconds(30));
    }

    /** Runs pidof(8) for real; the pids it printed (none when it found none). */
    private static List<Long> pidof(String name) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("pidof", name).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        if (out.isEmpty()) return List.of();
        return Arrays.stream(out.split("\\s+")).map(Long::parseLong).toList();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /** The launcher maps only the AppCDS archive of a run that started: a run that started marks it, one that failed does not. */
    @Test
    void aRunThatStartedMarksTheArchiveAndOneThatFailedDoesNot() throws Exception {
        Path marker = dir.resolve("rainbowd-test.jsa.ok");
        Map<String, String> bad = TestDaemon.defaults();
        bad.put("helthCheckPath", "/health");
        DaemonProcess failed = DaemonProcess.start(config(bad), dir.resolve("logs"), Map.of(),
                List.of("-Drainbowd.cdsMarker=" + marker));
        daemons.add(failed);
        assertEquals(78, failed.awaitExit(EXIT));
        assertFalse(Files.exists(marker), "a run that failed to start marked the archive");

        DaemonProcess d = DaemonProcess.start(config(TestDaemon.defaults()), dir.resolve("logs"), Map.of(),
                List.of("-Drainbowd.cdsMarker=" + marker));
        daemons.add(d);
        d.awaitLive(Duration.ofSeconds(30));
        assertTrue(Files.exists(marker), "a run that started did not mark the archive");
        d.process().destroy();
        assertEquals(0, d.awaitExit(EXIT), "stderr:\n" + d.stderr());
    }

    @Test
    void runSubcommandIsTheSameAsNoSubcommand() throws Exception {
        DaemonProcess d = DaemonProcess.start(config(TestDaemon.defaults()), dir.resolve("logs"), "run");
        daemons.add(d);
        assertNotNull(d.awaitLive(Duration.ofSeconds(30)).get("live"));
        assertEquals(200, get(d, "/").statusCode());

        d.process().destroy();

        assertEquals(0, d.awaitExit(EXIT), "stderr:\n" + d.stderr());
        d.assertBackendsGone();
    }

    private static void assertOneLine(String err) {
        assertFalse(err.isBlank(), "stderr is empty");
        assertTrue(err.endsWith("\n"), "stderr does not end with a newline: " + err);
        assertEquals(1, err.lines().count(), "stderr is not one line:\n" + err);
        assertTrue(err.startsWith("rainbowd: "), err);
        assertFalse(err.contains("Exception"), err);
        assertFalse(err.contains("\tat "), err);
    }
}
