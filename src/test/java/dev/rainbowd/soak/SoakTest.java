package dev.rainbowd.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rainbowd.testing.TestDaemon;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Load with redeploys and crashes, bounded in time: {@code mvn -B verify -Psoak}
 * ({@code -Dsoak.seconds=60} by default). Not in the default build: it takes a minute.
 */
@Tag("soak")
class SoakTest {
    private static final int CLIENTS = 16;

    @TempDir
    Path dir;

    @Test
    void noFailedRequestNoLeakedProcessAndFlatMemoryUnderRedeploysAndCrashes() throws Exception {
        long seconds = Long.getLong("soak.seconds", 60);
        Map<String, String> s = TestDaemon.defaults();
        s.put("drainTimeout", "5s");
        try (TestDaemon d = TestDaemon.start(dir, s).awaitLive()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong ok = new AtomicLong();
            Queue<String> failures = new ConcurrentLinkedQueue<>();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                Thread t = new Thread(() -> {
                    HttpRequest get = HttpRequest.newBuilder(d.proxy("/")).timeout(Duration.ofSeconds(30)).build();
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = TestDaemon.HTTP.send(get, HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) ok.incrementAndGet();
                            else failures.add("HTTP " + r.statusCode());
                        } catch (Exception e) {
                            failures.add(e.toString());
                        }
                    }
                });
                t.start();
                clients.add(t);
            }
            long heapBefore = usedHeapAfterGc();
            int redeploys = 0;
            int kills = 0;
            int failedDeploys = 0;
            long nextKill = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < end) {
                Thread.sleep(2_000);
                if (System.nanoTime() >= nextKill && d.status().live() != null) {
                    ProcessHandle.of(d.status().live().pid()).ifPresent(ProcessHandle::destroyForcibly);
                    kills++;
                    nextKill += TimeUnit.SECONDS.toNanos(10);
                } else {
                    if (d.controlPost("/redeploy?wait=true").statusCode() != 200) failedDeploys++;
                    redeploys++;
                }
            }
            stop.set(true);
            for (Thread t : clients) t.join();
            TestDaemon.await("settled", () -> d.status().live() != null && d.status().deploying() == null
                    && d.status().draining().isEmpty(), Duration.ofSeconds(30));
            long heapAfter = usedHeapAfterGc();
            System.out.printf("soak %d s: %d requests ok, %d failed, %d redeploys (%d failed), %d kills, "
                            + "heap after GC %d -> %d KB, generations %d%n", seconds, ok.get(), failures.size(), redeploys,
                    failedDeploys, kills, heapBefore / 1024, heapAfter / 1024, d.status().live().generation());
            assertEquals(List.of(), List.copyOf(failures).subList(0, Math.min(20, failures.size())));
            assertEquals(0, failedDeploys);
            assertTrue(heapAfter < heapBefore * 2 + 32 * 1024 * 1024, "heap grew from " + heapBefore + " to " + heapAfter);
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
