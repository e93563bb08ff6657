package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.proxy.Backend;
import dev.rainbowd.proxy.ProxyRouter;
import dev.rainbowd.proxy.TrafficSwitch;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upgrade requests and 101 answers that must not open a tunnel: a tunnel opened on anything but
 * the app's 101 to an upgrade we passed on lets the next bytes past a front proxy's rules.
 */
class UpgradeHostileInputTest {
    private RecordingBackend app;
    private Server server;
    private ServerConnector connector;

    @BeforeEach
    void start() throws Exception {
        app = new RecordingBackend();
        TrafficSwitch traffic = new TrafficSwitch();
        server = new Server();
        connector = new ServerConnector(server, new HttpConnectionFactory(ProxyRouter.httpConfiguration()));
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        traffic.queueTimeout(Duration.ofSeconds(2));
        server.setHandler(new ProxyRouter(traffic, Duration.ofSeconds(30)));
        server.start();
        traffic.cutover(new Backend(1, app.port()));
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
        app.close();
    }

    private static final String WEBSOCKET_HANDSHAKE = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    @Test
    void anUpgradeTheAppAnswers200StaysHttpOnTheSameConnection() throws Exception {
        try (Socket s = Raw.connect(connector.getLocalPort(), 10_000)) {
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
        Raw.Resp r = Raw.exchange(connector.getLocalPort(), "GET /h2c HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");

        assertEquals(200, r.status(), r.toString());
        RecordingBackend.Req asked = app.received.peek();
        assertNull(asked.headers().get("upgrade"), "as nginx: h2c is dropped, " + asked.headers());
        assertNull(asked.headers().get("http2-settings"), asked.headers().toString());
    }

    @Test
    void aBare101ToAPlainRequestIs502AndThatAppConnectionIsClosed() throws Exception {
        try (Socket s = Raw.connect(connector.getLocalPort(), 10_000)) {
            Raw.write(s, Raw.ascii("GET /bare-101 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            Raw.Resp r = Raw.read(s.getInputStream(), false);
            assertEquals(502, r.status(), r.toString());
        }
        assertTrue(app.bare101Closed.get(30, TimeUnit.SECONDS), "the proxy closed the connection the 101 came on");
        assertFalse(app.received.stream().anyMatch(q -> q.requestLine().contains("/smuggled")));
        assertEquals(200, Raw.exchange(connector.getLocalPort(), "GET /after HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
    }
}
