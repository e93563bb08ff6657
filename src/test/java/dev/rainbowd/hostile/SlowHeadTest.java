package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Slowloris: connections that drip a header byte at a time, each byte resetting the idle timeout.
 * The head deadline (60 s in the daemon, as nginx's client_header_timeout; 2 s here) ends them,
 * on a connection's first request and on any later one.
 */
class SlowHeadTest {
    private static final Duration DEADLINE = Duration.ofSeconds(2);
    private static final byte[] HEAD = Raw.ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(400));

    private RecordingBackend app;
    private StandaloneProxy proxy;

    @BeforeEach
    void start() throws Exception {
        app = new RecordingBackend();
        proxy = new StandaloneProxy(app.port(), DEADLINE);
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        app.close();
    }

    @Test
    void dripFedHeadsAreClosedAtTheDeadlineWhileWholeRequestsAreServed() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) slow.add(Raw.connect(proxy.port(), 30_000));
            dripUntilClosed(slow);
            assertEquals(List.of(), app.requests(), "nothing reached the app");
            assertEquals(200, Raw.exchange(proxy.port(), "GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
        } finally {
            for (Socket s : slow) s.close();
        }
    }

    /** A whole first request, then the next head dripped: the idle timeout alone would never end it. */
    @Test
    void aDripFedHeadAfterAWholeRequestOnAKeptAliveConnectionIsClosedAtTheDeadline() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) slow.add(Raw.connect(proxy.port(), 30_000));
            for (Socket s : slow) {
                Raw.write(s, Raw.ascii("GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
                Raw.Resp r = Raw.read(s.getInputStream(), false);
                assertEquals(200, r.status(), r.toString());
            }
            assertEquals(20, app.requests().size());
            dripUntilClosed(slow);
            assertEquals(20, app.requests().size(), "only the whole first requests reached the app");
            assertEquals(200, Raw.exchange(proxy.port(), "GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
        } finally {
            for (Socket s : slow) s.close();
        }
    }

    /** Between requests only the idle timeout runs: a kept-alive connection that waits, then sends a whole request, is served. */
    @Test
    void anIdleKeptAliveConnectionIsNotClosedByTheDeadline() throws Exception {
        try (Socket s = Raw.connect(proxy.port(), 30_000)) {
            Raw.write(s, Raw.ascii("GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            assertEquals(200, Raw.read(s.getInputStream(), false).status());
            // Idle past the deadline: measured by a connection opened now, dripping, closed at its own.
            try (Socket marker = Raw.connect(proxy.port(), 30_000)) {
                dripUntilClosed(List.of(marker));
            }
            Raw.write(s, Raw.ascii("GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            assertEquals(200, Raw.read(s.getInputStream(), false).status());
        }
    }

    /**
     * Drips {@link #HEAD} a byte at a time to each socket until the proxy closes the first (a read
     * of up to 200 ms, far inside the idle timeout, paces it: the drip goes on until the deadline's
     * event, not for a set time); then every one must be closed.
     */
    private static void dripUntilClosed(List<Socket> slow) throws IOException {
        Socket first = slow.get(0);
        first.setSoTimeout(200);
        boolean closed = false;
        for (int k = 0; k < HEAD.length && !closed; k++) {
            for (Socket s : slow) drip(s, HEAD[k]);
            closed = closedWithin(first);
        }
        assertTrue(closed, "the whole head was dripped and the first connection is still open");
        first.setSoTimeout(30_000);
        for (Socket s : slow) assertTrue(Raw.closedAfter(s), "a drip-fed connection stayed open past the deadline");
    }

    private static void drip(Socket s, byte b) {
        try {
            OutputStream out = s.getOutputStream();
            out.write(b);
            out.flush();
        } catch (IOException e) {
            // closed by the proxy: what the test waits for
        }
    }

    /** True once the proxy closed it; false when the socket's timeout passed first. */
    private static boolean closedWithin(Socket s) {
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }
}
