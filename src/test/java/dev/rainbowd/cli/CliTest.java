package dev.rainbowd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.JsonParse;
import dev.rainbowd.testing.Ports;
import dev.rainbowd.testing.Slack;
import dev.rainbowd.testing.TestDaemon;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client subcommands, in process through {@link Main#execute}, against a real daemon. */
class CliTest {
    @TempDir
    Path dir;

    /** What one command line did. */
    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = Main.execute(args, o, e);
        }
        return new Run(code, out.toString(), err.toString());
    }

    /** A daemon whose app fails to start while a {@code fail-exit} file exists in {@link #dir}. */
    private TestDaemon start() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", Demo.runWhen("fail-exit", "echo 'cannot start: on purpose' >&2; exit 1"));
        s.put("launchAttempts", "1");
        return TestDaemon.start(dir, s).awaitLive();
    }

    private String file() {
        return dir.resolve("rainbow.yaml").toString();
    }

    private static void assertOneErrorLine(Run r) {
        assertEquals(1, r.errLines().size(), "stderr is not one line:\n" + r.err());
        assertTrue(r.err().startsWith("rainbowd: "), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    // --- check ---

    @Test
    void checkPrintsTheEffectiveSettings() throws Exception {
        Path file = TestDaemon.writeConfig(dir, TestDaemon.defaults());
        int port = ConfigLoader.load(file).daemon().port();

        Run r = cli("check", "-c", file.toString());

        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains(file.toString()), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("run\\s+= .*DemoApp.*")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("port\\s+= " + port)), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("controlPort\\s+= " + (port + 1))), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("healthCheckPath\\s+= /health")), r.out());
        // defaults are shown too
        assertTrue(r.out().lines().anyMatch(l -> l.matches("maxGenerations\\s+= 10")), r.out());
    }

    @Test
    void checkOnABadConfigExits78WithOneLine() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("port", "99999");
        Path file = TestDaemon.writeConfig(dir, s);

        Run r = cli("check", "-c", file.toString());

        assertEquals(78, r.code());
        assertEquals("", r.out());
        assertOneErrorLine(r);
        assertTrue(r.err().contains(file.toString()) && r.err().contains("port") && r.err().contains("99999"), r.err());
    }

    @Test
    void checkOnAnUnknownKeyNamesItAndSuggests() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("drainTimout", "5s");
        Path file = TestDaemon.writeConfig(dir, s);

        Run r = cli("check", "--config", file.toString());

        assertEquals(78, r.code());
        assertOneErrorLine(r);
        assertTrue(r.err().contains("\"drainTimout\"") && r.err().contains("\"drainTimeout\""), r.err());
    }

    @Test
    void checkOnAMissingFileExits78() {
        Run r = cli("check", "-c", dir.resolve("absent.yaml").toString());

        assertEquals(78, r.code());
        assertOneErrorLine(r);
        assertTrue(r.err().contains("absent.yaml") && r.err().contains("no such file"), r.err());
    }

    // --- redeploy ---

    @Test
    void redeployWaitsAndSaysTheNewGenerationIsLive() throws Exception {
        try (TestDaemon d = start()) {
            Run r = cli("redeploy", "-c", file());

            assertEquals(0, r.code(), r.err());
            assertEquals("", r.err());
            int port = d.status().live().port();
            assertEquals(2, d.status().live().generation());
            List<String> lines = r.out().lines().toList();
            // The steps as they happened, then the outcome.
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("deploy #2: generation 2 on port " + port + ", probing (")), r.out());
            assertTrue(lines.contains("deploy #2: cut over to generation 2"), r.out());
            assertTrue(lines.get(lines.size() - 1).startsWith("deploy #2: live, generation 2 on port " + port + " ("), r.out());
            assertTrue(r.out().matches("(?s).*\\(\\d+ ms\\)\\n"), r.out());
        }
    }

    /** The outcome is known at the cutover: the command does not wait for old requests (an SSE client could hold it). */
    @Test
    void redeployReturnsAtTheCutoverWhileTheOldGenerationDrains() throws Exception {
        try (TestDaemon d = start()) {
            Path release = dir.resolve("release-the-request");
            CompletableFuture<HttpResponse<String>> held = TestDaemon.HTTP.sendAsync(
                    HttpRequest.newBuilder(d.proxy("/slow?until=" + release)).build(), HttpResponse.BodyHandlers.ofString());
            TestDaemon.await("in flight", () -> d.status().live().inFlight() == 1, Duration.ofSeconds(10));

            Run r = cli("redeploy", "-c", file());

            assertEquals(0, r.code(), r.err());
            assertEquals(2, d.status().live().generation());
            assertEquals(1, d.status().draining().get(0).inFlight(), "generation 1 still has its request: " + r.out());
            assertFalse(r.out().contains("generation 1 stopped"), r.out());
            Files.createFile(release);
            assertEquals(200, held.get(30, TimeUnit.SECONDS).statusCode());
        }
    }

    @Test
    void redeployShowsTheDrainOfTheOldGeneration() throws Exception {
        try (TestDaemon d = start()) {
            // In flight on generation 1 until the command has shown it draining there (a 1.5 s
            // sleep was over before a busy machine's redeploy cut over).
            Path release = dir.resolve("release-the-request");
            CompletableFuture<HttpResponse<String>> slow = TestDaemon.HTTP.sendAsync(
                    HttpRequest.newBuilder(d.proxy("/slow?until=" + release)).build(), HttpResponse.BodyHandlers.ofString());
            TestDaemon.await("in flight", () -> d.status().live().inFlight() == 1, Duration.ofSeconds(10));

            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CompletableFuture<Integer> redeploy = CompletableFuture.supplyAsync(() -> {
                try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
                    return Main.execute(new String[] {"redeploy", "--wait-drain", "-c", file()}, o, e);
                }
            });
            TestDaemon.await("the command to show generation 1 draining",
                    () -> out.toString().contains("generation 1 draining: 1 request(s) in flight"), Duration.ofSeconds(20));
            Files.createFile(release);
            Run r = new Run(redeploy.get(Slack.of(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS), out.toString(), err.toString());

            assertEquals(0, r.code(), r.err());
            List<String> lines = r.out().lines().toList();
            int draining = lines.indexOf("generation 1 draining: 1 request(s) in flight");
            int stopped = lines.indexOf("generation 1 stopped");
            assertTrue(draining >= 0 && stopped > draining, r.out());
            assertEquals(200, slow.get(Slack.of(Duration.ofSeconds(10)).toSeconds(), TimeUnit.SECONDS).statusCode());
        }
    }

    @Test
    void redeployNoWaitSaysQueued() throws Exception {
        try (TestDaemon d = start()) {
            Run r = cli("redeploy", "--no-wait", "-c", file());

            assertEquals(0, r.code(), r.err());
            assertEquals("deploy #2: queued\n", r.out().replace(System.lineSeparator(), "\n"));
            d.awaitStatus("deploy #2 to finish", st -> st.lastDeploy() != null && st.lastDeploy().id() == 2, Duration.ofSeconds(20));
            assertTrue(d.status().lastDeploy().live());
        }
    }

    @Test
    void redeployQuietPrintsNothingButErrors() throws Exception {
        try (TestDaemon d = start()) {
            Run ok = cli("redeploy", "--quiet", "-c", file());
            assertEquals(0, ok.code(), ok.err());
            assertEquals("", ok.out());
            assertEquals("", ok.err());
            assertEquals(2, d.status().live().generation());

            Files.createFile(dir.resolve("fail-exit"));
            Run failed = cli("redeploy", "-q", "-c", file());
            assertEquals(1, failed.code());
            assertEquals("", failed.out());
            // The error: its reason, and the app's own last words (systemctl reload's journal gets them).
            assertTrue(failed.errLines().get(0).startsWith("rainbowd: deploy #3 failed: "), failed.err());
            assertEquals(List.of("its last output:", "  | cannot start: on purpose"),
                    failed.errLines().subList(1, failed.errLines().size()), failed.err());
        }
    }

    @Test
    void redeployThatFailsExits1AndNamesTheReason() throws Exception {
        try (TestDaemon d = start()) {
            long livePid = d.status().live().pid();
            Files.createFile(dir.resolve("fail-exit"));

            Run r = cli("redeploy", "-c", file());

            assertEquals(1, r.code(), r.out());
            assertTrue(!r.out().contains("live"), "progress only: " + r.out());
            // The reason, then the app's own last words.
            assertEquals(List.of("its last output:", "  | cannot start: on purpose"), r.errLines().subList(1, r.errLines().size()), r.err());
            assertTrue(r.err().startsWith("rainbowd: deploy #2 failed: "), r.err());
            assertTrue(r.errLines().get(0).contains("exited with status 1"), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            // the live generation is untouched
            assertEquals(livePid, d.status().live().pid());

            // status shows the failure as the last deploy
            Run s = cli("status", "-c", file());
            assertEquals(0, s.code(), s.err());
            assertTrue(s.out().contains("last deploy: #2 failed (control, "), s.out());
            assertTrue(s.out().contains("exited with status 1"), s.out());
            assertTrue(s.out().contains("\nits last output:\n  | cannot start: on purpose\n"), s.out());
        }
    }

    // --- status ---

    @Test
    void statusPrintsATableWithTheLiveRow() throws Exception {
        try (TestDaemon d = start()) {
            var live = d.status().live();

            Run r = cli("status", "-c", file());

            assertEquals(0, r.code(), r.err());
            assertEquals("", r.err());
            List<String> lines = r.out().lines().toList();
            assertTrue(lines.get(0).matches("STATE\\s+GEN\\s+COLOR\\s+PORT\\s+PID\\s+IN-FLIGHT\\s+TUNNELS\\s+AGE\\s+CONFIG\\s+CONFIG-READ\\s+RELEASE"), r.out());
            List<String[]> liveRows = lines.stream().filter(l -> l.startsWith("live ")).map(l -> l.split("\\s+")).toList();
            assertEquals(1, liveRows.size(), r.out());
            String[] row = liveRows.get(0);
            assertEquals("1", row[1], r.out());
            assertEquals("red", row[2], r.out());
            assertEquals(Integer.toString(live.port()), row[3], r.out());
            assertEquals(Long.toString(live.pid()), row[4], r.out());
            assertEquals("0", row[5], r.out());
            assertEquals("0", row[6], "tunnels: " + r.out());
            assertTrue(row[7].matches("\\d+s"), "age: " + r.out());
            assertEquals(live.config(), row[8], r.out());
            assertTrue(row[9].matches("\\d+s"), "config read: " + r.out());
            assertEquals(live.release(), row[10], r.out());
            assertTrue(r.out().matches("(?s).*last deploy: #1 live \\(startup, \\d+ ms, \\d+s ago\\)\\n.*"), r.out());
            assertFalse(r.out().contains("\033["), "no colour codes when not on a terminal");
        }
    }

    @Test
    void statusWatchRefreshesUntilInterrupted() throws Exception {
        try (TestDaemon d = start()) {
            StringWriter out = new StringWriter();
            int[] code = {-1};
            Thread watcher = new Thread(() -> {
                try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(new StringWriter(), true)) {
                    code[0] = Main.execute(new String[] {"status", "--watch=1", "-c", file()}, o, e);
                }
            });
            watcher.start();
            TestDaemon.await("two refreshes", () -> out.toString().split("STATE ", -1).length - 1 >= 2, Duration.ofSeconds(10));
            assertEquals(200, d.controlPost("/redeploy?wait=true").statusCode());
            TestDaemon.await("the refresh showing generation 2", () -> Pattern.compile("(?m)^live\\s+2\\s").matcher(out.toString()).find(), Duration.ofSeconds(10));
            watcher.interrupt();
            watcher.join(5_000);
            assertEquals(0, code[0]);
        }
    }

    /** The help says "until interrupted": a daemon that stops (a restart) is shown as unreachable until it is back. */
    @Test
    void statusWatchKeepsWatchingWhileTheDaemonIsDown() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("port", Integer.toString(Ports.freePair())); // the restarted daemon on the same ports
        StringWriter out = new StringWriter();
        int[] code = {-1};
        Thread watcher;
        try (TestDaemon first = TestDaemon.start(dir, s).awaitLive()) {
            watcher = new Thread(() -> {
                try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(new StringWriter(), true)) {
                    code[0] = Main.execute(new String[] {"status", "--watch=1", "-c", file()}, o, e);
                }
            });
            watcher.start();
            TestDaemon.await("the first refresh", () -> out.toString().contains("STATE "), Duration.ofSeconds(10));
        }
        try {
            int controlPort = ConfigLoader.load(dir.resolve("rainbow.yaml")).daemon().controlPort();
            TestDaemon.await("a refresh saying unreachable", () -> out.toString().contains("unreachable"), Duration.ofSeconds(15));
            String down = out.toString().substring(out.toString().indexOf("unreachable"));
            assertTrue(down.lines().findFirst().orElseThrow().contains("127.0.0.1:" + controlPort), down);
            assertTrue(watcher.isAlive(), "status --watch exited with " + code[0] + " when the daemon stopped:\n" + out);
            int seen = out.toString().length();
            try (TestDaemon second = TestDaemon.start(dir, s).awaitLive()) {
                TestDaemon.await("a refresh showing the restarted daemon's generation",
                        () -> Pattern.compile("(?m)^live\\s+1\\s").matcher(out.toString().substring(seen)).find(),
                        Duration.ofSeconds(15));
            }
        } finally {
            watcher.interrupt();
            watcher.join(5_000);
        }
        assertFalse(watcher.isAlive());
        assertEquals(0, code[0]);
    }

    @Test
    void statusJsonWatchSaysUnreachableInJson() throws Exception {
        Path file = TestDaemon.writeConfig(dir, TestDaemon.defaults()); // no daemon
        StringWriter out = new StringWriter();
        int[] code = {-1};
        Thread watcher = new Thread(() -> {
            try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(new StringWriter(), true)) {
                code[0] = Main.execute(new String[] {"status", "--json", "--watch=1", "-c", file.toString()}, o, e);
            }
        });
        watcher.start();
        try {
            TestDaemon.await("two refreshes", () -> out.toString().lines().count() >= 2, Duration.ofSeconds(15));
        } finally {
            watcher.interrupt();
            watcher.join(5_000);
        }
        assertEquals(0, code[0]);
        for (String line : out.toString().lines().toList()) {
            Map<String, Object> doc = JsonParse.object(line);
            assertTrue(doc.get("error").toString().startsWith("cannot reach rainbowd at "), line);
            assertTrue(doc.get("unreachableSince").toString().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), line);
        }
    }

    @Test
    void ageIsShortAndHuman() {
        Instant now = Instant.parse("2026-11-24T12:00:00Z");
        assertEquals("5s", StatusCommand.age("2026-11-24T11:59:55Z", now));
        assertEquals("3m12s", StatusCommand.age("2026-11-24T11:56:48Z", now));
        assertEquals("2h05m", StatusCommand.age("2026-11-24T09:55:00Z", now));
        assertEquals("3d04h", StatusCommand.age("2026-11-21T08:00:00Z", now));
    }

    @Test
    void statusJsonIsTheControlApiStatus() throws Exception {
        try (TestDaemon d = start()) {
            Run r = cli("status", "--json", "-c", file());

            assertEquals(0, r.code(), r.err());
            Map<String, Object> s = JsonParse.object(r.out());
            for (String key : List.of("live", "draining", "deploying", "lastDeploy", "uptimeMs")) {
                assertTrue(s.containsKey(key), key + " missing from " + r.out());
            }
            Map<String, Object> live = JsonParse.map(s.get("live"));
            assertNotNull(live);
            assertEquals(d.status().live().port(), live.get("port"));
            assertEquals(d.status().live().pid(), ((Number) live.get("pid")).longValue());
            assertEquals(List.of(), s.get("draining"));
            assertEquals(null, s.get("deploying"));
            assertEquals("live", JsonParse.map(s.get("lastDeploy")).get("state"));
            assertTrue(((Number) s.get("uptimeMs")).longValue() >= 0);
        }
    }

    // --- daemon unreachable ---

    @Test
    void clientCommandsExit2WhenNothingListens() throws Exception {
        Path file = TestDaemon.writeConfig(dir, TestDaemon.defaults()); // free ports, no daemon
        int controlPort = ConfigLoader.load(file).daemon().controlPort();

        for (String[] args : List.of(
                new String[] {"status", "-c", file.toString()},
                new String[] {"status", "--json", "-c", file.toString()},
                new String[] {"redeploy", "-c", file.toString()},
                new String[] {"redeploy", "--no-wait", "-c", file.toString()})) {
            Run r = cli(args);
            String what = String.join(" ", args);
            assertEquals(2, r.code(), what + ": " + r.err());
            assertEquals("", r.out(), what);
            assertOneErrorLine(r);
            assertTrue(r.err().contains("127.0.0.1:" + controlPort), what + ": " + r.err());
        }
    }

    @Test
    void clientCommandsThatCannotFindTheControlPortSaySo() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("port", "99999");
        Path file = TestDaemon.writeConfig(dir, s);

        Run status = cli("status", "-c", file.toString());
        assertEquals(78, status.code());
        assertOneErrorLine(status);
        // A redeploy that cannot start is a failed deploy (exit 1), as one the daemon refuses.
        Run redeploy = cli("redeploy", "-c", file.toString());
        assertEquals(1, redeploy.code());
        assertOneErrorLine(redeploy);
        assertTrue(redeploy.err().startsWith("rainbowd: no deploy started: "), redeploy.err());
        assertTrue(redeploy.err().contains("port: 99999"), redeploy.err());
    }

    @Test
    void redeployOfAFileWithATypoExits1WithChecksLineAndStatusStillAnswers() throws Exception {
        try (TestDaemon d = start()) {
            Files.writeString(dir.resolve("rainbow.yaml"), "healthTimout: 1s\n", StandardOpenOption.APPEND);
            Run check = cli("check", "-c", file());
            assertEquals(78, check.code());

            Run r = cli("redeploy", "-c", file());

            assertEquals(1, r.code(), r.out());
            assertOneErrorLine(r);
            // check's line, word for word, after the deploy's number
            assertEquals("rainbowd: deploy #2 failed: " + check.err().substring("rainbowd: ".length()), r.err());
            assertEquals(1, d.status().live().generation());

            Run s = cli("status", "-c", file());
            assertEquals(0, s.code());
            assertTrue(s.err().startsWith("rainbowd: warning: "), s.err());
            assertTrue(s.out().contains("last deploy: #2 failed (control, "), s.out());
            assertTrue(s.out().contains("did you mean \"healthTimeout\""), s.out());
        }
    }

    @Test
    void redeploySaysWhichChangesWaitForARestart() throws Exception {
        try (TestDaemon d = start()) {
            Files.writeString(dir.resolve("rainbow.yaml"), "host: localhost\n", StandardOpenOption.APPEND);

            Run r = cli("redeploy", "--quiet", "-c", file());

            assertEquals(0, r.code(), r.err());
            assertEquals("rainbowd: changed in the config, applied only when rainbowd restarts: host\n", r.err());
            Run s = cli("status", "-c", file());
            assertTrue(s.out().contains("changed in the config, waiting for a restart of rainbowd: host"), s.out());
        }
    }

    // --- help, version, usage ---

    @Test
    void versionPrintsNameVersionAndTheCommitItWasBuiltFrom() throws Exception {
        Run r = cli("--version");

        assertEquals(0, r.code());
        Matcher m = Pattern.compile(
                "rainbowd \\d+\\.\\d+\\.\\d+\\S* \\(commit ([0-9a-f]{12,40}(-dirty)?|unknown)\\)\\R").matcher(r.out());
        assertTrue(m.matches(), r.out());
        assertFalse(r.out().contains("${"), "version was not filtered: " + r.out());
        assertEquals("", r.err());
        // This checkout is a git work tree: the build named its HEAD (the test classes were built with it).
        Process git;
        try {
            git = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
        } catch (IOException e) {
            return; // no git on this machine: nothing to compare with
        }
        String head = new String(git.getInputStream().readAllBytes()).strip();
        if (git.waitFor() == 0) assertTrue(head.startsWith(m.group(1).replace("-dirty", "")), r.out() + " is not HEAD " + head);
    }

    @Test
    void aBuildOutsideGitHasAnUnknownCommit() {
        Properties unfiltered = new Properties();
        unfiltered.setProperty("version", "0.1.0");
        unfiltered.setProperty("commit", "${git.commit}");
        assertEquals("rainbowd 0.1.0 (commit unknown)", Main.Version.describe(unfiltered));
        assertEquals("rainbowd unknown (commit unknown)", Main.Version.describe(new Properties()));
    }

    @Test
    void helpExits0AndListsTheSubcommands() {
        Run r = cli("--help");

        assertEquals(0, r.code());
        for (String word : List.of("Usage: rainbowd", "run", "check", "redeploy", "status", "--config")) {
            assertTrue(r.out().contains(word), word + " missing from:\n" + r.out());
        }
        assertEquals("", r.err());
    }

    @Test
    void helpIsACommandToo() {
        Run r = cli("help");

        assertEquals(0, r.code(), r.err());
        for (String word : List.of("Usage: rainbowd", "run", "check", "redeploy", "rollback", "status")) {
            assertTrue(r.out().contains(word), word + " missing from:\n" + r.out());
        }
        Run status = cli("help", "status");
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("--watch"), status.out());
    }

    @Test
    void anUnknownCommandNamesTheCommands() {
        Run r = cli("bogus");

        assertEquals(64, r.code());
        assertOneErrorLine(r);
        assertEquals("rainbowd: unknown command \"bogus\"; the commands are run, check, redeploy, rollback, status, logs, help"
                + " (see rainbowd --help)\n", r.err());

        Run typo = cli("stauts", "-c", "x.yaml");
        assertEquals(64, typo.code());
        assertOneErrorLine(typo);
        assertTrue(typo.err().startsWith("rainbowd: unknown command \"stauts\"; did you mean \"status\"? the commands are "),
                typo.err());
    }

    @Test
    void subcommandHelpExits0() {
        Run r = cli("redeploy", "--help");

        assertEquals(0, r.code());
        assertTrue(r.out().contains("--no-wait"), r.out());
    }

    @Test
    void configBeforeTheSubcommandIsNotIgnored() throws Exception {
        Path file = TestDaemon.writeConfig(dir, TestDaemon.defaults());

        Run r = cli("-c", file.toString(), "check");

        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains(file.toString()), r.out());
    }

    /** Without a release link every deploy runs workingDir: a redeploy leaves nothing to roll back to. */
    @Test
    void rollbackWithOneReleaseSaysThereIsNothingToRollBackTo() throws Exception {
        try (TestDaemon d = start()) {
            Run none = cli("rollback", "-c", file());
            assertEquals(1, none.code(), "nothing to roll back to yet");
            assertTrue(none.err().contains("409") && none.err().contains("nothing to roll back to"), none.err());
            assertEquals(0, cli("redeploy", "-c", file()).code());

            Run again = cli("rollback", "-c", file());

            assertEquals(1, again.code(), again.out());
            assertTrue(again.err().contains("every generation so far ran"), again.err());
            assertEquals(2, d.status().live().generation());
        }
    }

    /** The README's recipe, as CI runs it: a swap, then at once `redeploy --if-changed`; then a rollback. */
    @Test
    void swapThenRedeployIfChangedThenRollbackAsWritten() throws Exception {
        for (String v : List.of("v1", "v2")) Files.createDirectories(dir.resolve("releases/" + v));
        Files.createSymbolicLink(dir.resolve("current"), Path.of("releases/v1"));
        Map<String, String> s = TestDaemon.defaults();
        s.put("releaseLink", dir.resolve("current").toString());
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            Process swap = new ProcessBuilder("/bin/sh", "-c", "ln -sfn releases/v2 current.tmp && mv -T current.tmp current")
                    .directory(dir.toFile()).start();
            assertEquals(0, swap.waitFor());
            Run deploy = cli("redeploy", "--if-changed", "-c", file());
            assertEquals(0, deploy.code(), deploy.err());
            assertTrue(deploy.out().contains("live, generation 2"), deploy.out());

            Run r = cli("rollback", "-c", file());

            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("rolled back to " + dir.resolve("releases/v1").toRealPath()), r.out());
            assertTrue(r.out().contains("releaseLink " + dir.resolve("current") + " now points to"), r.out());
            assertEquals(Path.of("releases/v1"), Files.readSymbolicLink(dir.resolve("current")));
            assertEquals(3, d.status().live().generation());
        }
    }

    /**
     * A client command never opens the envFile: the secrets are the daemon's to read (a deploy user
     * in group rainbow may not be able to, and would be warned of a failure that will not happen).
     * A FIFO with no writer stands in for the file: opening it to read would block the command.
     */
    @Test
    void clientCommandsNeverReadTheEnvFile() throws Exception {
        Path secrets = dir.resolve("secrets.env");
        Files.writeString(secrets, "DEMO_SECRET=s3cret\n");
        Map<String, String> s = TestDaemon.defaults();
        s.put("envFile", secrets.toString());
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            Files.delete(secrets);
            Process mkfifo = new ProcessBuilder("mkfifo", secrets.toString()).start();
            assertEquals(0, mkfifo.waitFor());

            CompletableFuture<Run> status = CompletableFuture.supplyAsync(() -> cli("status", "-c", file()));
            Run r = status.get(60, TimeUnit.SECONDS);

            assertEquals(0, r.code(), r.err());
            assertEquals("", r.err(), "no warning about a file only the daemon reads");
        }
    }

    // --- logs ---

    @Test
    void logsShowsAGenerationsOutputAlsoOnceItIsGone() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", Demo.runWhen("broken", "echo boom from generation $RAINBOW_GENERATION; exit 3"));
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            // The app may answer its first probe before its "listening" line is through the pipe.
            TestDaemon.await("generation 1's listening line in logs", () -> {
                Run live = cli("logs", "-c", file());
                assertEquals(0, live.code(), live.err());
                return live.out().contains("demo generation 1") && live.out().contains("listening on");
            }, Duration.ofSeconds(10));

            Files.createFile(dir.resolve("broken"));
            assertEquals(1, cli("redeploy", "-c", file()).code());
            Run gone = cli("logs", "--generation", "2", "-c", file());
            assertEquals(0, gone.code(), gone.err());
            assertEquals("boom from generation 2\n", gone.out(), "the failed generation, stopped, still has its output");
            Files.delete(dir.resolve("broken"));

            Run last = cli("logs", "-n", "1", "-c", file());
            assertEquals(1, last.out().lines().count(), last.out());
            Run none = cli("logs", "--generation", "99", "-c", file());
            assertEquals(1, none.code());
            assertTrue(none.err().contains("no output kept for generation 99"), none.err());

            // -f follows generation 1 while it runs, until its output ends: a redeploy stops it, and it says so.
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CompletableFuture<Integer> follow = CompletableFuture.supplyAsync(() -> {
                try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
                    return Main.execute(new String[] {"logs", "-f", "--generation", "1", "-c", file()}, o, e);
                }
            });
            TestDaemon.await("the follow to print what generation 1 wrote", () -> out.toString().contains("listening on"), Duration.ofSeconds(10));
            assertFalse(follow.isDone(), "it follows a running generation: " + err);
            assertFalse(out.toString().contains("stopped"), out.toString());

            assertEquals(0, cli("redeploy", "-c", file()).code());
            assertEquals(0, follow.get(Slack.of(Duration.ofSeconds(60)).toSeconds(), TimeUnit.SECONDS), err.toString());
            assertTrue(out.toString().contains("stopped"), "the lines written as it stopped: " + out);
            assertTrue(err.toString().contains("has ended"), err.toString());
        }
    }

    // --- controlToken ---

    @Test
    void clientCommandsSendTheConfigsToken() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("controlToken", "s3cret-token");
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            assertEquals(401, d.controlGet("/status").statusCode(), "the daemon requires the token");

            Run status = cli("status", "--json", "-c", file());
            assertEquals(0, status.code(), status.err());
            assertNotNull(JsonParse.object(status.out()).get("live"));

            Run redeploy = cli("redeploy", "-c", file());
            assertEquals(0, redeploy.code(), redeploy.err());
            assertTrue(redeploy.out().contains("live, generation 2"), redeploy.out());

            // A client config with another token is refused: one line, no token in it.
            Path other = dir.resolve("other");
            Files.createDirectories(other);
            Path wrong = other.resolve("rainbow.yaml");
            Files.writeString(wrong, Files.readString(dir.resolve("rainbow.yaml")).replace("s3cret-token", "wrong-token"));
            for (String cmd : List.of("status", "redeploy")) {
                Run r = cli(cmd, "-c", wrong.toString());
                assertEquals(1, r.code(), cmd + ": " + r.err());
                assertOneErrorLine(r);
                assertTrue(r.err().contains("401"), r.err());
                assertFalse(r.err().contains("wrong-token") || r.err().contains("s3cret"), r.err());
            }
            assertEquals(2, d.status().live().generation(), "the refused redeploy did nothing");
        }
    }

    @Test
    void unknownOptionIsAUsageError() {
        for (String[] args : List.of(new String[] {"--bogus"}, new String[] {"status", "--bogus"},
                new String[] {"frobnicate"}, new String[] {"check", "-c"})) {
            Run r = cli(args);
            String what = String.join(" ", args);
            assertEquals(64, r.code(), what + ": " + r.err());
            assertOneErrorLine(r);
            assertTrue(r.err().contains("--help"), r.err());
        }
    }
}
