package dev.rainbowd.daemon;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.Procs;
import dev.rainbowd.testing.TestDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shutdown leaves no process behind, whatever was under way. */
class ShutdownTest {
    @TempDir
    Path dir;

    @Test
    void shutdownWhileADeployIsProbingStopsTheStartingGeneration() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        // Never healthy (nothing listens), ignores SIGTERM, and has a child.
        s.put("run", "trap '' TERM; : \"$1\"; sleep 300 & wait $!"); // names $1: no arguments appended
        s.put("stopTimeout", "300ms");
        s.put("healthDeadline", "60s");
        try (TestDaemon d = TestDaemon.start(dir, s)) { // close() fails the test if a process is left
            d.awaitStatus("the deploy to probe", st -> st.deploying() != null && st.deploying().probes() > 0, Duration.ofSeconds(10));
            TestDaemon.await("the app and its child", () -> ProcessHandle.current().descendants().count() >= 2,
                    Duration.ofSeconds(10));
        }
    }

    @Test
    void shutdownRightAfterACrashStopsWhatIsLeftOfIt() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "trap '' TERM; sleep 300 & echo $! > child.pid; " + Demo.run());
        s.put("stopTimeout", "300ms");
        s.put("restartOnCrash", "false");
        long child;
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            long app = d.status().live().pid();
            ProcessHandle.of(app).orElseThrow().destroyForcibly(); // its `sleep` child stays behind
            TestDaemon.await("the crash noticed", () -> d.status().live() == null, Duration.ofSeconds(10));
            child = Long.parseLong(Files.readString(dir.resolve("child.pid")).trim());
            assertTrue(Procs.running(child), "the child outlived the app");
        }
        // It was re-parented to init, so no descendant check would see it: look it up by pid.
        assertTrue(!Procs.running(child), "the app's child is still running");
    }
}
