package dev.rainbowd.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.config.AppConfig;
import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.TestDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationTest {
    @TempDir
    Path dir;

    @AfterEach
    void noneLeft() {
        TestDaemon.assertNoBackendsLeft();
    }

    @Test
    void runLinesThatPlaceNoArgumentsGetPortAndPidfileAppended() {
        Path pid = Path.of("/tmp/x.pid");
        assertEquals("sh run.sh \"$@\"", script(Launcher.command("sh run.sh", 8000, pid)));
        assertEquals("app --port $1 --pid $2", script(Launcher.command("app --port $1 --pid $2", 8000, pid)));
        assertEquals("app --port ${PORT}", script(Launcher.command("app --port ${PORT}", 8000, pid)));
        assertEquals("app -b :$PORT -p $PIDFILE", script(Launcher.command("app -b :$PORT -p $PIDFILE", 8000, pid)));
        assertEquals("echo $PORTS \"$@\"", script(Launcher.command("echo $PORTS", 8000, pid)));
        List<String> argv = Launcher.command("sh run.sh", 8000, pid);
        assertEquals(List.of("run", "8000", "/tmp/x.pid"), argv.subList(argv.size() - 3, argv.size()));
    }

    private static String script(List<String> argv) {
        return argv.get(argv.indexOf("-c") + 1);
    }

    @Test
    void colorsGoRoundTheRainbow() {
        assertEquals("red", Colors.of(1));
        assertEquals("violet", Colors.of(7));
        assertEquals("red", Colors.of(8));
    }

    @Test
    void stopReachesTheWholeTreeEvenWhenItIgnoresSigterm() throws Exception {
        // The app ignores SIGTERM (inherited SIG_IGN), and leaves a child re-parented to init.
        String run = "trap '' TERM; (sleep 300 & echo $! > orphan.pid); " + Demo.run();
        Map<String, String> settings = TestDaemon.defaults();
        settings.put("run", run);
        AppConfig app = ConfigLoader.load(TestDaemon.writeConfig(dir, settings)).app();
        Generation gen = new Launcher(dir, "test").launch(1, app, dir, Set.of());
        Path orphanFile = dir.resolve("orphan.pid");
        TestDaemon.await("the app to write its pidfile", () -> gen.pid() != gen.exit().getNow(-1) && Files.exists(dir.resolve("generation-1.pid")), Duration.ofSeconds(20));
        TestDaemon.await("the orphan", () -> Files.exists(orphanFile) && !read(orphanFile).isEmpty(), Duration.ofSeconds(10));
        long orphan = Long.parseLong(read(orphanFile));
        assertTrue(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false));
        assertFalse(ProcessHandle.current().descendants().anyMatch(p -> p.pid() == orphan), "the orphan is no descendant");

        var stopper = Executors.newSingleThreadExecutor();
        try {
            gen.stop(Duration.ofMillis(500), stopper).get(20, TimeUnit.SECONDS);
        } finally {
            stopper.shutdown();
        }
        assertTrue(gen.exit().isDone());
        assertEquals(137, gen.exit().join(), "it had to be SIGKILLed");
        TestDaemon.await("the orphan to be gone", () -> ProcessHandle.of(orphan).map(p -> !p.isAlive()).orElse(true), Duration.ofSeconds(5));
        assertFalse(Files.exists(dir.resolve("generation-1.pid")));
    }

    @Test
    void stopSendsTheConfiguredStopSignal() throws Exception {
        // Graceful on QUIT only, as unicorn is; TERM is ignored, so only QUIT can end it with 0.
        Map<String, String> settings = TestDaemon.defaults();
        settings.put("run", "trap 'exit 0' QUIT; trap '' TERM; : \"$1\" > started; while :; do sleep 0.05; done");
        settings.put("stopSignal", "SIGQUIT");
        AppConfig app = ConfigLoader.load(TestDaemon.writeConfig(dir, settings)).app();
        Generation gen = new Launcher(dir, "test").launch(1, app, dir, Set.of());
        TestDaemon.await("the app's traps to be set", () -> Files.exists(dir.resolve("started")), Duration.ofSeconds(20));

        var stopper = Executors.newSingleThreadExecutor();
        try {
            gen.stop(Duration.ofSeconds(30), stopper).get(40, TimeUnit.SECONDS);
        } finally {
            stopper.shutdown();
        }
        assertEquals(0, gen.exit().join(), "stopped by SIGQUIT, not SIGKILLed");
    }

    @Test
    void theLastTwentyLinesOfWhatTheAppWroteAreKeptAndTheShellNamesItselfRun() throws Exception {
        // 30 lines on stdout, then the shell's own error on stderr: the app's tail, in the order written.
        Generation gen = launch("i=1; while [ $i -le 30 ]; do echo line $i; i=$((i+1)); done; exec no-such-command-here");
        assertEquals(127, gen.exit().get(20, TimeUnit.SECONDS));

        List<String> tail = gen.output().linesAtEnd(Duration.ofSeconds(20));

        assertEquals(20, tail.size(), tail.toString());
        assertEquals("line 12", tail.get(0));
        assertEquals("line 30", tail.get(18));
        // "run: 1: exec: ..." (dash) or "run: line 1: exec: ..." (bash): $0 is the run key, not "rainbowd"
        assertTrue(tail.get(19).startsWith("run: ") && tail.get(19).contains("no-such-command-here"), tail.get(19));
    }

    @Test
    void theTailIsBoundedInCharactersAndKeepsNoControlCharacters() throws Exception {
        // Six lines of 1,000 characters, one of 5,000, then one with a colour escape and a bell.
        Generation gen = launch("for i in 1 2 3 4 5 6; do printf '%01000d\\n' $i; done; printf '%05000d\\n' 7;"
                + " printf 'red \\033[31mtext\\007\\tend\\n'; exit 3");
        assertEquals(3, gen.exit().get(20, TimeUnit.SECONDS));

        List<String> tail = gen.output().linesAtEnd(Duration.ofSeconds(20));

        assertEquals("red ?[31mtext?\tend", tail.get(tail.size() - 1), "what the terminal would obey is gone");
        assertEquals("0".repeat(OutputTail.MAX_LINE - 1) + "…", tail.get(tail.size() - 2), "the long line is cut");
        assertTrue(tail.stream().mapToInt(String::length).sum() <= OutputTail.REASON_CHARS, tail.toString());
        // 18 + 1,000 (the cut line) + 3 x 1,000 fit in 4,096; a fourth would not.
        assertEquals(5, tail.size(), tail.toString());
        assertEquals("0".repeat(999) + "4", tail.get(0));
        assertEquals("0".repeat(999) + "6", tail.get(2));
    }

    /** What `rainbowd logs` reads: every line kept (to 2,000), numbered, so a follower asks for what came after. */
    @Test
    void theLogKeepsMoreThanTheReasonNumbersEachLineAndIsBounded() throws Exception {
        Generation gen = launch("i=1; while [ $i -le 2500 ]; do echo line $i; i=$((i+1)); done; exit 0");
        assertEquals(0, gen.exit().get(20, TimeUnit.SECONDS));
        gen.output().linesAtEnd(Duration.ofSeconds(20));

        OutputTail log = gen.output();
        assertEquals(2500, log.written());
        List<OutputTail.Line> all = log.since(0, Integer.MAX_VALUE);
        assertEquals(OutputTail.MAX_LINES, all.size(), "the oldest 500 are gone");
        assertEquals(new OutputTail.Line(501, "line 501"), all.get(0));
        assertEquals(List.of(new OutputTail.Line(2499, "line 2499"), new OutputTail.Line(2500, "line 2500")), log.since(2498, 10));
        assertEquals(List.of(new OutputTail.Line(2500, "line 2500")), log.since(0, 1), "the last ones");
        assertEquals(20, log.lines().size(), "a failure's reason still carries 20");
    }

    /** Launches {@code run} as generation 1 (with {@code $1} named, so no arguments are appended). */
    private Generation launch(String run) throws Exception {
        Map<String, String> settings = TestDaemon.defaults();
        settings.put("run", ": \"$1\"; " + run);
        AppConfig app = ConfigLoader.load(TestDaemon.writeConfig(dir, settings)).app();
        return new Launcher(dir, "test").launch(1, app, dir, Set.of());
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (Exception e) {
            return "";
        }
    }
}
