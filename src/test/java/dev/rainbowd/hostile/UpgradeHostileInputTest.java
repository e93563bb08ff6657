package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upgrade requests and 101 answers that must not open a tunnel: a tunnel opened on anything but
 * the app's 101 to an upgrade we passed on lets the next bytes past a front proxy's rules.
 */
class UpgradeHostileInputTest {
    private RecordingBackend app;
    private StandaloneProxy proxy;

    @BeforeEach
    void start() throws Exception {
        app = new RecordingBackend();
        proxy = new StandaloneProxy(app.port());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        app.close();
    }

    private static final String WEBSOCKET_HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    @Test
    void anUpgradeTheAppAnswers200StaysHttpOnTheSameConnection() throws Exception {
        try (Socket s = Raw.connect(proxy.port(), 10_000)) {
            InputStream in = s.getInputStream();
            Raw.write(s, Raw.ascii(WEBSOCKET_HANDSHAKE));
            Raw.Resp first = Raw.read(in, false);
            assertEquals(200, first.status(), first.toString());
            assertEquals("ok /ws", new String(first.body()));
            RecordingBackend.Req asked = app.received.peek();
            assertEquals("websocket", asked.headers().get("upgrade").get(0), "the app saw the upgrade asked for");
            assertTrue(asked.headers().get("connection").get(0).equalsIgnoreCase("upgrade"), asked.headers().toString());

            // No tunnel: the next bytes are a request again, proxied as one.
            Raw.write(s, Raw.ascii("GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            Raw.Resp second = Raw.read(in, false);
            assertEquals(200, second.status(), second.toString());
            assertEquals("ok /next", new String(second.body()));
        }
    }

    @Test
    void h2cIsNeverPassedOn() throws Exception {
        Raw.Resp r = Raw.exchange(proxy.port(), "GET /h2c HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");

        assertEquals(200, r.status(), r.toString());
        RecordingBackend.Req asked = app.received.peek();
        assertNull(asked.headers().get("upgrade"), "as nginx: h2c is dropped, " + asked.headers());
        assertNull(asked.headers().get("http2-settings"), asked.headers().toString());
    }

    @Test
    void aBare101ToAPlainRequestIs502AndThatAppConnectionIsClosed() throws Exception {
        try (Socket s = Raw.connect(proxy.port(), 10_000)) {
            Raw.write(s, Raw.ascii("GET /bare-101 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            Raw.Resp r = Raw.read(s.getInputStream(), false);
            assertEquals(502, r.status(), r.toString());
        }
        assertTrue(app.bare101Closed.get(30, TimeUnit.SECONDS), "the proxy closed the connection the 101 came on");
        assertFalse(app.received.stream().anyMatch(q -> q.requestLine().contains("/smuggled")));
        assertEquals(200, Raw.exchange(proxy.port(), "GET /after HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
    }

    private static final String TEST_UPGRADE = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n";

    @Test
    void aHalfCloseIsPassedOnAndTheOtherWayStaysOpen() throws Exception {
        try (Socket s = Raw.connect(proxy.port(), 30_000)) {
            Raw.write(s, Raw.ascii(String.format(TEST_UPGRADE, "/tunnel-until-eof")));
            Raw.Resp r = Raw.read(s.getInputStream(), true);
            assertEquals(101, r.status(), r.toString());
            byte[] payload = new byte[100_000];
            s.getOutputStream().write(payload);
            s.shutdownOutput(); // the client is done sending, not done listening

            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertEquals("read 100000 bytes, bye", answer, "the app saw our EOF, and its answer came back after it");
        }
    }

    @Test
    void aSlowReaderStopsTheSenderInsteadOfFillingTheProxysMemory() throws Exception {
        try (SocketChannel c = SocketChannel.open(
                new InetSocketAddress("127.0.0.1", proxy.port()))) {
            c.write(ByteBuffer.wrap(Raw.ascii(String.format(TEST_UPGRADE, "/tunnel-stalled"))));
            Raw.Resp r = Raw.read(c.socket().getInputStream(), true);
            assertEquals(101, r.status(), r.toString());
            c.configureBlocking(false);
            // The app reads nothing. Whatever the proxy accepts beyond the sockets' kernel buffers it
            // would have to hold itself: it must stop reading instead, and so the sender stalls.
            ByteBuffer chunk = ByteBuffer.allocate(1 << 16);
            long written = 0;
            long limit = 256L << 20;
            try (Selector sel = Selector.open()) {
                c.register(sel, SelectionKey.OP_WRITE);
                while (written < limit) {
                    chunk.clear();
                    int n = c.write(chunk);
                    written += n;
                    // Writable again within 2 s means the other side is still taking bytes.
                    if (n == 0 && sel.select(2_000) == 0) break;
                    sel.selectedKeys().clear();
                }
            }
            assertTrue(written < 64L << 20, "the proxy took " + (written >> 20) + " MB for an app that reads nothing");
        }
    }
}
