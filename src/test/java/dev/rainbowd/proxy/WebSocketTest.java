package dev.rainbowd.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.TestDaemon;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSockets through a real rainbowd to a real app server (uvicorn with its wsproto backend,
 * Debian's python3-uvicorn and python3-wsproto), with the JDK's WebSocket client.
 */
class WebSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Client> clients = new ArrayList<>();

    @AfterEach
    void closeClients() {
        clients.forEach(c -> c.socket.abort());
    }

    private static Path appDir() throws URISyntaxException {
        return Path.of(WebSocketTest.class.getResource("/apps/ws/echo.py").toURI()).getParent();
    }

    private TestDaemon start(Map<String, String> extra) throws Exception {
        Map<String, String> s = TestDaemon.defaults();
        s.put("run", "exec /usr/bin/python3 -m uvicorn echo:app --app-dir '" + appDir() + "' --host 127.0.0.1 --port \"$1\""
                + " --ws wsproto --log-level warning");
        s.putAll(extra);
        return TestDaemon.start(dir, s).awaitLive();
    }

    /** One client socket: what it received, and how it was closed. */
    private static final class Client implements WebSocket.Listener {
        final BlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        WebSocket socket;

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            bytes.writeBytes(b);
            if (last) {
                messages.add(bytes.toByteArray());
                bytes.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.complete(-1); // cut without a close frame
        }

        Object next() throws InterruptedException {
            Object m = messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            if (m == null) throw new AssertionError("no message within " + WAIT);
            return m;
        }
    }

    private Client open(TestDaemon d, String path) {
        Client c = new Client();
        URI uri = URI.create("ws://127.0.0.1:" + d.daemon().proxyPort() + path);
        c.socket = http.newWebSocketBuilder().connectTimeout(WAIT).buildAsync(uri, c).join();
        clients.add(c);
        return c;
    }

    private static int tunnels(TestDaemon d) {
        return d.daemon().deployer().backends().stream().mapToInt(Backend::tunnels).sum();
    }

    @Test
    void textBinaryAMegabyteAndAThousandInARowEchoThroughATunnelThatIsCounted() throws Exception {
        try (TestDaemon d = start(Map.of())) {
            Client c = open(d, "/echo");
            assertEquals(1, d.status().live().tunnels());
            assertEquals(0, d.status().live().inFlight(), "a tunnel is not a request in flight");
            HttpResponse<String> metrics = d.controlGet("/metrics");
            assertTrue(metrics.body().contains("rainbowd_tunnels{generation=\"1\"} 1.0"), metrics.body());

            c.socket.sendText("hello", true).join();
            assertEquals("hello", c.next());
            c.socket.sendBinary(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 255}), true).join();
            assertArrayEquals(new byte[] {0, 1, 2, (byte) 255}, (byte[]) c.next());
            byte[] mb = new byte[1 << 20];
            new Random(7).nextBytes(mb);
            c.socket.sendBinary(ByteBuffer.wrap(mb), true).join();
            assertArrayEquals(mb, (byte[]) c.next());
            for (int i = 0; i < 1_000; i++) c.socket.sendText("m" + i, true).join();
            for (int i = 0; i < 1_000; i++) assertEquals("m" + i, c.next());

            c.socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
            assertEquals(WebSocket.NORMAL_CLOSURE, c.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS));
            TestDaemon.await("the tunnel to be gone", () -> tunnels(d) == 0, WAIT);
        }
    }

    private static long poolThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("rainbowd-")).count();
    }

    /**
     * A tunnel's bytes are moved on the selector thread that saw them: each read handed to the
     * pool grew it by 120 threads (+20 MB RSS) and cost 3.7x nginx's CPU per message with 1,000
     * sockets at one message a second each (src/bench/websockets).
     */
    @Test
    void tunnelTrafficGrowsNoThreads() throws Exception {
        try (TestDaemon d = start(Map.of())) {
            List<Client> cs = new ArrayList<>();
            for (int i = 0; i < 40; i++) cs.add(open(d, "/echo"));
            long before = poolThreads();
            for (int round = 0; round < 50; round++) {
                List<CompletableFuture<WebSocket>> sent = new ArrayList<>();
                for (Client c : cs) sent.add(c.socket.sendText("m" + round, true));
                sent.forEach(CompletableFuture::join);
                for (Client c : cs) assertEquals("m" + round, c.next());
            }
            long after = poolThreads();
            assertTrue(after <= before + 2, "pool threads " + before + " -> " + after + " for 2,000 echoes on 40 tunnels");
        }
    }

    @Test
    void aHandshakeTheAppRefusesIsItsAnswerAndNoTunnel() throws Exception {
        try (TestDaemon d = start(Map.of())) {
            URI uri = URI.create("ws://127.0.0.1:" + d.daemon().proxyPort() + "/refuse");
            CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                    () -> http.newWebSocketBuilder().buildAsync(uri, new Client()).join());
            assertTrue(e.getCause() instanceof WebSocketHandshakeException, e.toString());
            assertEquals(403, ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode());
            assertEquals(0, tunnels(d));
            assertEquals(200, d.get("/health").statusCode());
        }
    }

    @Test
    void aRedeployIsNotHeldByOpenSocketsAndTheOldAppClosesThemItself() throws Exception {
        // A drain that waited for the sockets would outlast this test's every wait.
        try (TestDaemon d = start(Map.of("drainTimeout", "10m", "stopTimeout", "10m"))) {
            List<Client> old = new ArrayList<>();
            for (int i = 0; i < 50; i++) old.add(open(d, "/echo"));
            for (Client c : old) {
                c.socket.sendText("whoami", true).join();
                assertEquals("1", c.next());
            }
            long oldPid = d.status().live().pid();
            assertEquals(50, d.status().live().tunnels());

            HttpResponse<String> deploy = d.controlPost("/redeploy?wait=true");
            assertEquals(200, deploy.statusCode(), deploy.body());

            Client fresh = open(d, "/echo");
            fresh.socket.sendText("whoami", true).join();
            assertEquals("2", fresh.next(), "a new socket reaches the new generation at once");
            for (Client c : old) {
                assertEquals(1012, c.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS), "uvicorn's close frame: service restart");
            }
            TestDaemon.await("the old generation's process to exit",
                    () -> ProcessHandle.of(oldPid).map(p -> !p.isAlive()).orElse(true), WAIT);
            TestDaemon.await("the old generation to be gone", () -> d.status().draining().isEmpty(), WAIT);
            assertEquals(1, tunnels(d));
        }
    }

    @Test
    void aClientThatVanishesAndAnAppThatClosesLeaveNothingBehind() throws Exception {
        try (TestDaemon d = start(Map.of())) {
            Client warm = open(d, "/echo"); // the first tunnel loads classes and pools: measure after it
            warm.socket.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
            TestDaemon.await("no tunnel", () -> tunnels(d) == 0, WAIT);
            long fds = openFds();

            for (int i = 0; i < 20; i++) {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), d.daemon().proxyPort())) {
                    s.setSoTimeout((int) WAIT.toMillis());
                    s.getOutputStream().write(("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    assertTrue(head(s.getInputStream()).startsWith("HTTP/1.1 101 "));
                    TestDaemon.await("the tunnel", () -> tunnels(d) == 1, WAIT);
                    s.setSoLinger(true, 0); // gone without a close frame or a FIN: a reset
                }
                TestDaemon.await("the vanished client's tunnel to be gone", () -> tunnels(d) == 0, WAIT);
            }
            for (int i = 0; i < 20; i++) {
                Client c = open(d, "/echo");
                c.socket.sendText("close-me", true).join();
                assertEquals(4000, c.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS));
                TestDaemon.await("the app-closed tunnel to be gone", () -> tunnels(d) == 0, WAIT);
            }
            TestDaemon.await("file descriptors back to " + fds, () -> openFds() <= fds, WAIT);
        }
    }

    @Test
    void atShutdownTheAppClosesItsSocketsItself() throws Exception {
        TestDaemon d = start(Map.of());
        try {
            Client c = open(d, "/echo");
            c.socket.sendText("hello", true).join();
            assertEquals("hello", c.next());
            d.daemon().close();
            assertEquals(1012, c.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS), "uvicorn's close frame, not a cut");
        } finally {
            d.close();
        }
    }

    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) break;
            b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static long openFds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
