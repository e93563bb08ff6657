package dev.rainbowd.compat;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.TestDaemon;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A few clients, each on its own kept-alive connection to the proxy, alternating a GET of / and a
 * POST of 4 KB to /echo (checked byte for byte), back to back until stopped: a client that paused
 * between requests (-Dcompat.paceMicros=N) let hypercorn's silent closes reach the proxy before
 * the next POST, and its 502s went unseen. Bounded: each client stops after {@code maxPerClient}
 * requests or two minutes, whichever comes first.
 */
final class Load implements AutoCloseable {
    private static final long PACE = Long.getLong("compat.paceMicros", 0) * 1000;

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final List<Thread> clients = new ArrayList<>();
    private final long started = System.nanoTime();
    private final AtomicInteger running = new AtomicInteger();

    Load(int port, String host, int clientCount, int maxPerClient) {
        for (int i = 0; i < clientCount; i++) {
            byte[] body = new byte[4096];
            new Random(i).nextBytes(body);
            running.incrementAndGet();
            Thread t = new Thread(() -> {
                try {
                    run(port, host, body, maxPerClient);
                } finally {
                    running.decrementAndGet();
                }
            }, "load-" + i);
            t.start();
            clients.add(t);
        }
    }

    private void run(int port, String host, byte[] body, int max) {
        long hardStop = started + TimeUnit.MINUTES.toNanos(2);
        try (RawHttp http = new RawHttp(port, host)) {
            for (int i = 0; i < max && !stop.get() && System.nanoTime() < hardStop; i++) {
                try {
                    if (PACE > 0) LockSupport.parkNanos(PACE);
                    boolean post = i % 2 == 1;
                    RawHttp.Response r = post ? http.post("/echo", body) : http.get("/");
                    if (r.status() != 200) {
                        failures.add((post ? "POST /echo" : "GET /") + ": HTTP " + r.status() + " " + r.text().strip());
                    } else if (post ? !Arrays.equals(body, r.body()) : !r.text().startsWith("hello")) {
                        failures.add((post ? "POST /echo" : "GET /") + ": wrong body (" + r.body().length + " bytes)");
                    } else {
                        ok.incrementAndGet();
                    }
                } catch (Exception e) {
                    failures.add("request " + i + " on connection " + http.connections() + ": " + e);
                    http.close(); // a broken connection is not used again
                }
            }
            connections.addAndGet(http.connections());
        }
    }

    long ok() { return ok.get(); }

    /**
     * Waits until {@code n} more requests succeeded: load between cutovers, also for a server that
     * a slow request holds up entirely (thin runs the app on its one event-loop thread).
     */
    void awaitProgress(int n) {
        long target = ok.get() + n;
        TestDaemon.await(n + " more successful requests (failures so far: " + failures.size() + ")",
                () -> ok.get() >= target || !failures.isEmpty() || running.get() == 0, Duration.ofSeconds(30));
        assertTrue(running.get() > 0 || ok.get() >= target, "the clients stopped (request cap or time limit) before " + n + " more requests");
    }
    List<String> failures() { return List.copyOf(failures); }
    /** Client connections opened in all; more than the client count means the proxy closed some. */
    long connections() { return connections.get(); }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : clients) t.join();
    }
}
