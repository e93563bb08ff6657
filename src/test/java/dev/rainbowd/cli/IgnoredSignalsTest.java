package dev.rainbowd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.TestDaemon;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * rainbowd started with SIGINT and SIGQUIT ignored (a background job of a script: `rainbowd run &`)
 * must not hand that on: waitress stops gracefully only on INT, unicorn only on QUIT.
 */
class IgnoredSignalsTest {
    @TempDir
    Path dir;

    @Test
    void appsDoNotInheritTheSignalsRainbowdIgnores() throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "grep SigIgn /proc/self/status > sigign; " + Demo.run());
        Path config = TestDaemon.writeConfig(dir, s);
        Process daemon = new ProcessBuilder("/bin/sh", "-c", "trap '' INT QUIT; exec \"$0\" -cp \"$1\" dev.rainbowd.cli.Main run -c \"$2\"",
                Demo.java().toString(), DaemonProcess.classpath(), config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.log").toFile()).start();
        try {
            Path sigign = dir.resolve("sigign");
            TestDaemon.await("the app to report its ignored signals", () -> {
                try {
                    return Files.exists(sigign) && Files.readString(sigign).endsWith("\n");
                } catch (Exception e) {
                    return false;
                }
            }, Duration.ofSeconds(60));
            long ignored = Long.parseLong(Files.readString(sigign).replace("SigIgn:", "").strip(), 16);
            assertEquals(0, ignored & ((1L << (2 - 1)) | (1L << (3 - 1))), "SIGINT/SIGQUIT ignored by the app: "
                    + Long.toHexString(ignored));
            // The situation under test: rainbowd itself ignores SIGINT (the JVM keeps an ignored INT ignored).
            long own = Files.readAllLines(Path.of("/proc", Long.toString(daemon.pid()), "status")).stream()
                    .filter(l -> l.startsWith("SigIgn:")).map(l -> Long.parseLong(l.substring(7).strip(), 16))
                    .findFirst().orElseThrow();
            assertTrue((own & (1L << (2 - 1))) != 0, "rainbowd does not ignore SIGINT: " + Long.toHexString(own));
        } finally {
            daemon.destroy(); // SIGTERM: a clean stop of rainbowd and its app
            assertTrue(daemon.waitFor(60, TimeUnit.SECONDS));
        }
        TestDaemon.assertNoBackendsLeft();
    }
}
