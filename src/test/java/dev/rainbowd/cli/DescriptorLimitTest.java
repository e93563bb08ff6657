package dev.rainbowd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.TestDaemon;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Out of file descriptors: a daemon with RLIMIT_NOFILE 256 (prlimit, as `ulimit -n 256` would)
 * and 600 clients at once, each asking the app for something that takes a while (so each holds a
 * descriptor for the app too). The proxy must stop accepting before the descriptors run out: the
 * clients wait in the listen queue and are all served, the control port answers meanwhile, and
 * the log says so in one line when it starts and one when it ends. Without a limit, accepts
 * failed on both ports, 403 of the 600 got 502 (no descriptor to reach the app), and Jetty
 * logged a stack trace a second.
 */
class DescriptorLimitTest {
    private static final int CLIENTS = 600;
    private static final String REQUEST = "GET /slow?ms=300 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

    @TempDir
    Path dir;

    @Test
    void aFloodPastTheDescriptorLimitWaitsInTheListenQueueWhileTheControlPortAnswers() throws Exception {
        Map<String, String> settings = TestDaemon.defaults();
        settings.put("stopTimeout", "2s");
        Path config = TestDaemon.writeConfig(dir, settings);
        List<Socket> clients = new ArrayList<>();
        try (DaemonProcess d = DaemonProcess.startThrough(List.of("prlimit", "--nofile=256:256", "--"), config,
                dir.resolve("logs"))) {
            d.awaitLive(Duration.ofSeconds(60));
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    Socket s = new Socket(InetAddress.getLoopbackAddress(), d.proxyPort());
                    s.setSoTimeout(60_000);
                    clients.add(s);
                    OutputStream out = s.getOutputStream();
                    out.write(REQUEST.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
                // 600 requests of 300 ms through at most 256 descriptors: the flood lasts seconds.
                assertTrue(d.status().isPresent(), "the control port did not answer while the proxy was flooded");
                Map<String, Integer> statuses = new TreeMap<>();
                for (Socket s : clients) statuses.merge(statusLine(s.getInputStream()), 1, Integer::sum);
                assertEquals(Map.of("HTTP/1.1 200 OK", CLIENTS), statuses, "every client is served in the end");
            } finally {
                for (Socket s : clients) s.close();
            }
            TestDaemon.await("the proxy accepting again", () -> count(d, "accepting connections again") > 0,
                    Duration.ofSeconds(30));
            String log = d.stdout() + d.stderr();
            assertEquals(1, count(d, "more wait in the listen queue"), log);
            assertEquals(1, count(d, "accepting connections again"), log);
            assertFalse(log.contains("Accept Failure") || log.contains("Too many open files") || log.contains("\tat "), log);
            d.signal("TERM");
            assertEquals(0, d.awaitExit(Duration.ofSeconds(30)));
            d.assertBackendsGone();
        }
    }

    private static long count(DaemonProcess d, String text) {
        try {
            return d.stdout().lines().filter(l -> l.contains(text)).count();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The status line of the one response on this connection (which the daemon then closes). */
    private static String statusLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) >= 0 && c != '\r' && b.size() < 200; ) b.write(c);
        in.readAllBytes();
        return b.toString(StandardCharsets.ISO_8859_1);
    }
}
