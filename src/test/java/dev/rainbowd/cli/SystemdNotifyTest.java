package dev.rainbowd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rainbowd.testing.Demo;
import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sd_notify as systemd would receive it: a real Unix datagram socket as NOTIFY_SOCKET (bound by a
 * small python3 receiver, since the JDK cannot bind one), the real systemd-notify, the daemon as
 * its own process.
 */
class SystemdNotifyTest {
    private static final String RECEIVER = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.bind(sys.argv[1])
            open(sys.argv[1] + '.ready', 'w').close()
            while True:
                data, _ = s.recvfrom(65536)
                with open(sys.argv[2], 'a') as f:
                    f.write(data.decode().replace('\\n', ' | ') + '\\n')
            """;

    @TempDir
    Path dir;

    private Process receiver;

    @AfterEach
    void stopReceiver() {
        if (receiver != null) receiver.destroyForcibly();
    }

    @Test
    void readyStatusAndStoppingReachTheNotifySocket() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/systemd-notify")) || Files.isExecutable(Path.of("/bin/systemd-notify")),
                "systemd-notify is not installed (.ci/run installs it)");
        Path socket = dir.resolve("notify.sock");
        Path received = dir.resolve("received.txt");
        receiver = new ProcessBuilder("python3", "-c", RECEIVER, socket.toString(), received.toString()).inheritIO().start();
        TestDaemon.await("the receiver", () -> Files.exists(Path.of(socket + ".ready")), Duration.ofSeconds(10));

        Map<String, String> settings = TestDaemon.defaults();
        // The app must not get systemd's socket: it would speak for rainbowd (gunicorn does).
        settings.put("run", "echo \"NOTIFY_SOCKET=${NOTIFY_SOCKET:-unset}\" > app-env.txt; " + Demo.run());
        Path config = TestDaemon.writeConfig(dir, settings);
        DaemonProcess d = DaemonProcess.start(config, dir.resolve("logs"), Map.of("NOTIFY_SOCKET", socket.toString()));
        try {
            d.awaitLive(Duration.ofSeconds(30));
            assertEquals(List.of("NOTIFY_SOCKET=unset"), lines(dir.resolve("app-env.txt")));
            TestDaemon.await("READY=1", () -> lines(received).stream().anyMatch(l -> l.contains("READY=1")), Duration.ofSeconds(10));
            String ready = lines(received).stream().filter(l -> l.contains("READY=1")).findFirst().orElseThrow();
            assertTrue(ready.contains("STATUS=live: generation 1 red port "), ready);

            assertEquals(200, TestDaemon.HTTP.send(HttpRequest.newBuilder(d.control("/redeploy?wait=true"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            TestDaemon.await("a STATUS after the redeploy", () -> lines(received).stream()
                    .anyMatch(l -> l.contains("STATUS=live: generation 2 orange") && l.contains("last deploy #2 live (control")),
                    Duration.ofSeconds(10));
            assertEquals(1, lines(received).stream().filter(l -> l.contains("READY=1")).count(), "READY once");

            d.process().destroy();
            assertEquals(0, d.awaitExit(Duration.ofSeconds(30)));
            assertTrue(lines(received).stream().anyMatch(l -> l.contains("STOPPING=1")), lines(received).toString());
            d.assertBackendsGone();
        } finally {
            d.close();
        }
    }

    private static List<String> lines(Path p) {
        try {
            return Files.exists(p) ? Files.readAllLines(p) : List.of();
        } catch (Exception e) {
            return List.of();
        }
    }
}
