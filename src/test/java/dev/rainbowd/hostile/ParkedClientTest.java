package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rainbowd.config.Buffering;
import dev.rainbowd.proxy.Backend;
import dev.rainbowd.proxy.ProxyRouter;
import dev.rainbowd.proxy.ProxySettings;
import dev.rainbowd.proxy.TrafficSwitch;
import dev.rainbowd.testing.TestDaemon;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests that wait for a live generation (start-up, after a crash) belong to clients that may
 * give up first. A request whose client hung up must not reach the app when a generation goes
 * live (a POST the client gave up on, and perhaps retried, would run for nobody); a client that is
 * still there, whatever it sent meanwhile, is served.
 */
class ParkedClientTest {
    private RecordingBackend app;
    private TrafficSwitch traffic;
    private ProxyRouter router;
    private Server server;
    private ServerConnector connector;

    @TempDir
    Path spool;

    @BeforeEach
    void start() throws Exception {
        app = new RecordingBackend();
        traffic = new TrafficSwitch(); // no generation live: every request waits
        server = new Server();
        connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        traffic.settings(ProxySettings.DEFAULT.withQueueTimeout(Duration.ofSeconds(20)));
        router = new ProxyRouter(traffic, Duration.ofSeconds(30), spool);
        server.setHandler(router);
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
        app.close();
    }

    private Socket send(String request) throws Exception {
        Socket s = Raw.connect(connector.getLocalPort(), 10_000);
        Raw.write(s, Raw.ascii(request));
        return s;
    }

    /** Until the proxy has read the request and parked it: a cutover before that would route it directly. */
    private void parked() {
        TestDaemon.await("the request parked", () -> traffic.waiting() == 1, Duration.ofSeconds(5));
    }

    private Backend goLive() {
        Backend b = new Backend(1, app.port());
        traffic.cutover(b);
        return b;
    }

    @Test
    void aPostWhoseClientHungUpNeverReachesTheApp() throws Exception {
        Socket gone = send("POST /order HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
        parked();
        gone.close();
        Backend b = goLive();
        TestDaemon.await("the request dropped", () -> router.hungUpCount() == 1, Duration.ofSeconds(5));
        Raw.Resp after = Raw.exchange(connector.getLocalPort(), "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals(200, after.status(), after.toString());
        assertEquals(List.of("/after"), app.requests().stream().map(RecordingBackend.Req::target).toList(),
                "requests that reached the app");
        TestDaemon.await("nothing in flight", () -> b.inFlight() == 0, Duration.ofSeconds(5));
    }

    @Test
    void aGetWhoseClientResetTheConnectionNeverReachesTheApp() throws Exception {
        Socket s = send("GET /report HTTP/1.1\r\nHost: x\r\n\r\n");
        parked();
        s.setSoLinger(true, 0); // close with a reset, as a killed client's kernel may
        s.close();
        goLive();
        TestDaemon.await("the request dropped", () -> router.hungUpCount() == 1, Duration.ofSeconds(5));
        assertEquals(List.of(), app.requests(), "requests that reached the app");
    }

    @Test
    void aClientStillThereIsServedWithItsBody() throws Exception {
        try (Socket s = send("POST /order HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")) {
            parked();
            goLive();
            Raw.Resp r = Raw.read(s.getInputStream(), false);
            assertEquals(200, r.status(), r.toString());
        }
        assertEquals("hi", new String(app.requests().get(0).body()));
        assertEquals(0, router.hungUpCount());
    }

    /** Bodies streamed (requestBuffering: false): a buffered body is whole before its request waits. */
    @Test
    void aClientWhoseBodyIsStillComingIsServed() throws Exception {
        traffic.settings(traffic.settings().withBuffering(new Buffering(false, 0, Buffering.MAX_RESPONSE_BUFFER)));
        try (Socket s = send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello")) {
            parked();
            goLive();
            TestDaemon.await("half the body at the app", () -> app.heads.size() == 1, Duration.ofSeconds(5));
            Raw.write(s, Raw.ascii("world"));
            Raw.Resp r = Raw.read(s.getInputStream(), false);
            assertEquals(200, r.status(), r.toString());
        }
        assertEquals("helloworld", new String(app.requests().get(0).body()));
        assertEquals(0, router.hungUpCount());
    }

    @Test
    void aClientThatPipelinedASecondRequestGetsBothAnswers() throws Exception {
        try (Socket s = send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n")) {
            parked();
            Raw.write(s, Raw.ascii("GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); // still in the socket
            goLive();
            InputStream in = s.getInputStream();
            Raw.Resp one = Raw.read(in, false);
            Raw.Resp two = Raw.read(in, false);
            assertEquals("ok /one", one.text(), one.toString());
            assertEquals("ok /two", two.text(), two.toString());
        }
        assertEquals(0, router.hungUpCount());
    }
}
