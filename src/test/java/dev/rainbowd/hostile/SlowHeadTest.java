package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.proxy.HeadDeadline;
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
 * The head deadline (60 s in the daemon, as nginx's client_header_timeout; 2 s here) ends them.
 */
class SlowHeadTest {
    private RecordingBackend app;
    private StandaloneProxy proxy;

    @BeforeEach
    void start() throws Exception {
        app = new RecordingBackend();
        proxy = new StandaloneProxy(app.port(),
                c -> c.addEventListener(new HeadDeadline(c.getServer().getScheduler(), Duration.ofSeconds(2))));
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
            byte[] head = Raw.ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(1000));
            // A byte to each, then up to 200 ms (far inside the idle timeout) for the proxy to close
            // the first: the drip goes on until the deadline's event, not for a set time.
            Socket first = slow.get(0);
            first.setSoTimeout(200);
            boolean closed = false;
            for (int k = 0; k < head.length && !closed; k++) {
                for (Socket s : slow) drip(s, head[k]);
                closed = closedWithin(first);
            }
            assertTrue(closed, "the whole head was dripped and the first connection is still open");
            first.setSoTimeout(30_000);
            for (Socket s : slow) assertTrue(Raw.closedAfter(s), "a drip-fed connection stayed open past the deadline");
            assertEquals(List.of(), app.requests(), "nothing reached the app");
            assertEquals(200, Raw.exchange(proxy.port(), "GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
        } finally {
            for (Socket s : slow) s.close();
        }
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
