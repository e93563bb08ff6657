package dev.rainbowd.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.proxy.HeadDeadline;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
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
        AtomicBoolean done = new AtomicBoolean();
        for (int i = 0; i < 20; i++) slow.add(Raw.connect(proxy.port(), 30_000));
        Thread dripper = new Thread(() -> {
            byte[] head = Raw.ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(1000));
            for (int k = 0; k < head.length && !done.get(); k++) {
                for (Socket s : slow) {
                    try {
                        OutputStream out = s.getOutputStream();
                        out.write(head[k]);
                        out.flush();
                    } catch (IOException e) {
                        // closed by the proxy: what we wait for
                    }
                }
                try {
                    Thread.sleep(200); // a byte every 200 ms: far inside the idle timeout
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "slowloris");
        dripper.setDaemon(true);
        dripper.start();
        try {
            for (Socket s : slow) assertTrue(Raw.closedAfter(s), "a drip-fed connection stayed open past the deadline");
            assertEquals(List.of(), app.requests(), "nothing reached the app");
            assertEquals(200, Raw.exchange(proxy.port(), "GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status());
        } finally {
            done.set(true);
            dripper.join(5_000);
            for (Socket s : slow) s.close();
        }
    }
}
