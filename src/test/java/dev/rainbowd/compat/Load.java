package dev.rainbowd.compat;

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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A few clients, each on its own kept-alive connection to the proxy, alternating a GET of / and a
 * POST of 4 KB to /echo (checked byte for byte), until stopped. Bounded: each sends at most one
 * request per {@link #PACE} (a few hundred requests per server in all, not as many as two cores
 * can push, which would starve the app servers' own start-up) and stops after {@code maxPerClient}
 * requests or two minutes, whichever comes first.
 */
final class Load implements AutoCloseable {
    static final long PACE = TimeUnit.MILLISECONDS.toNanos(10);

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private final List<Thread> clients = new ArrayList<>();
    private final long started = System.nanoTime();

    Load(int port, String host, int clientCount, int maxPerClient) {
        for (int i = 0; i < clientCount; i++) {
            byte[] body = new byte[4096];
            new Random(i).nextBytes(body);
            Thread t = new Thread(() -> run(port, host, body, maxPerClient), "load-" + i);
            t.start();
            clients.add(t);
        }
    }

    private void run(int port, String host, byte[] body, int max) {
        long hardStop = started + TimeUnit.MINUTES.toNanos(2);
        try (RawHttp http = new RawHttp(port, host)) {
            for (int i = 0; i < max && !stop.get() && System.nanoTime() < hardStop; i++) {
                try {
                    LockSupport.parkNanos(PACE);
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
                () -> ok.get() >= target || !failures.isEmpty(), Duration.ofSeconds(30));
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
