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
        assertEquals(List.of("rainbowd", "8000", "/tmp/x.pid"), argv.subList(argv.size() - 3, argv.size()));
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

    private static String read(Path p) {
        try {
            return Files.readString(p).trim();
        } catch (Exception e) {
            return "";
        }
    }
}
